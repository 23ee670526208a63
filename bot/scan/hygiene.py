"""Hygiene of code already on `messages.batches`: what loses results or money, and the fix.

Calls through `run_batch` (the shared helper) are the fix for all of these, so they get no finding.
"""

from __future__ import annotations

import ast
import re
from typing import Optional

from bot.scan.model import FileChange, Hygiene, is_changed
from bot.scan.shapes import chain, code, dotted, names, unwrap

RULES = {
    "custom-id-from-index": "`custom_id` comes from the loop index `{name}`: after the input changes or on a re-run, "
                            "results match the wrong items; build it from a stable key of the item (its id or a hash).",
    "only-succeeded": "only `succeeded` results are handled: `errored`, `expired` and `canceled` requests are dropped "
                      "silently; record them and resend all but `invalid_request_error`s.",
    "results-not-kept": "the results stay in local variables of `{scope}`: they are gone when the process ends and the "
                        "API keeps them 29 days only; write them to a file or a database, or return them.",
    "poll-without-sleep": "this loop polls `batches.retrieve` without sleeping: it spends requests and rate limit for "
                          "up to 24 hours; sleep 30 to 60 seconds between polls.",
    "no-split": "one `batches.create` over the whole of `{source}`: a batch holds at most 100,000 requests and 256 MB "
                "(larger gets a 413); split the requests into chunks.",
}
_RESULT_TYPES = {"succeeded", "errored", "expired", "canceled"}
_KEEPS = re.compile(r"^(?:write|save|dump|to_|insert|upsert|upload|put|store|persist|export|commit|execute|record|"
                    r"publish|send|set$|hset|add_all)", re.I)
_LOCAL_USES = {"print", "len", "str", "repr", "int", "float", "bool", "isinstance", "sorted", "list", "dict", "tuple",
               "set", "append", "extend", "add", "update", "get", "setdefault", "format", "join", "items", "keys",
               "values", "pop", "insert", "info", "debug", "warning", "error", "exception", "log", "loads", "strip"}
_SPLIT_NAME = re.compile(r"chunk|batch|part|shard|window|page|slice|group|split|islice|batched", re.I)


def _batches(node, method: str) -> bool:
    """`client.messages.batches.<method>(...)` (beta or not)."""
    called = chain(node.func) if isinstance(node, ast.Call) else []
    return called[-1:] == [method] and "batches" in called


def _scope_nodes(scope):
    """The nodes of a function (or the module) without those of functions and classes defined inside it."""
    todo = list(scope.body)
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(node))


def _only_pass(body) -> bool:
    return all(isinstance(s, (ast.Pass, ast.Continue)) for s in body)


def _custom_ids_from_index(tree) -> list:
    indexes = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and isinstance(node.iter, ast.Call):
            function, target = dotted(node.iter.func), node.target
            if function == "enumerate" and isinstance(target, ast.Tuple) and target.elts:
                target = target.elts[0]
            if function in ("enumerate", "range") and isinstance(target, ast.Name):
                indexes.add(target.id)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            values = [v for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant) and k.value == "custom_id"]
        elif isinstance(node, ast.Call):
            values = [k.value for k in node.keywords if k.arg == "custom_id"]
        else:
            continue
        for value in values:
            used = sorted(names(value) & indexes)
            if used:
                found.append((value.lineno, "custom-id-from-index", {"name": used[0]}))
    return found


def _handles_others(loop_body) -> bool:
    """An `if` on `succeeded` with a real branch for the rest (an `else`, or the body of a `!=`)."""
    for node in (n for statement in loop_body for n in ast.walk(statement)):
        if isinstance(node, ast.If) and any(isinstance(c, ast.Constant) and c.value == "succeeded"
                                            for c in ast.walk(node.test)):
            negated = any(isinstance(op, (ast.NotEq, ast.NotIn, ast.IsNot)) for c in ast.walk(node.test)
                          if isinstance(c, ast.Compare) for op in c.ops)
            if not _only_pass(node.body if negated else node.orelse):
                return True
    return False


def _only_succeeded(tree) -> list:
    constants = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in _RESULT_TYPES}
    if "succeeded" not in constants or constants - {"succeeded"}:
        return []
    sources = {name for node in ast.walk(tree) if isinstance(node, ast.Assign) and _batches(node.value, "results")
               for target in node.targets for name in names(target)}
    found = []
    for node in ast.walk(tree):
        loops = [node] if isinstance(node, (ast.For, ast.AsyncFor)) else (
            node.generators if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)) else [])
        for loop in loops:
            over = unwrap(loop.iter)
            if not (_batches(over, "results") or dotted(over) in sources):
                continue
            body = loop.body if isinstance(loop, (ast.For, ast.AsyncFor)) else loop.ifs
            mentions = any(isinstance(n, ast.Constant) and n.value == "succeeded" for s in body for n in ast.walk(s))
            if mentions and not (isinstance(loop, (ast.For, ast.AsyncFor)) and _handles_others(body)):
                found.append((getattr(loop, "lineno", node.lineno), "only-succeeded", {}))
    return found


def _keeps(scope, fetched: set) -> bool:
    """The scope returns, yields, stores or hands on what it fetched."""
    for node in _scope_nodes(scope):
        if isinstance(node, (ast.Yield, ast.YieldFrom, ast.Global, ast.Nonlocal)) or (
                isinstance(node, ast.Return) and node.value is not None):
            return True
        if isinstance(node, (ast.Assign, ast.AugAssign)) and any(
                (dotted(t) or "").startswith("self.") for t in (node.targets if isinstance(node, ast.Assign)
                                                                  else [node.target])):
            return True
        if isinstance(node, ast.Call):
            function = (chain(node.func) or [""])[-1]
            if function == "open" or _KEEPS.search(function):
                return True
            if function not in _LOCAL_USES and any(names(a) & fetched for a in [*node.args, *(
                    k.value for k in node.keywords)]):
                return True
    return False


def _results_not_kept(tree) -> list:
    scopes = [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    found = []
    for scope in scopes:
        calls = [n for n in _scope_nodes(scope) if _batches(n, "results")]
        if not calls:
            continue
        nodes = list(_scope_nodes(scope))
        fetched = {name for node in nodes if isinstance(node, ast.Assign) and any(c is node.value for c in calls)
                   for target in node.targets for name in names(target)}
        fetched |= {name for node in nodes if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension))
                    and (any(c is unwrap(node.iter) for c in calls) or names(node.iter) & fetched)
                    for name in names(node.target)}
        if not _keeps(scope, fetched):
            where = f"{scope.name}()" if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) else "the script"
            found.append((min(c.lineno for c in calls), "results-not-kept", {"scope": where}))
    return found


def _polls_without_sleep(tree) -> list:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.While, ast.For, ast.AsyncFor)):
            continue
        inside = [n for part in [getattr(node, "test", None), *node.body] if part is not None for n in ast.walk(part)]
        called = [(chain(n.func) or [""])[-1].lower() for n in inside if isinstance(n, ast.Call)]
        if any(_batches(n, "retrieve") for n in inside) and not any(
                "sleep" in name or "wait" in name or "backoff" in name for name in called):
            found.append((node.lineno, "poll-without-sleep", {}))
    return found


def _source(value, scope) -> Optional[ast.AST]:
    """What the requests are built over: a comprehension's collection, or the loop that appends to a list."""
    if isinstance(value, (ast.ListComp, ast.GeneratorExp)):
        return value.generators[0].iter
    if isinstance(value, ast.Call) and dotted(value.func) in ("list", "map") and value.args:
        return _source(value.args[-1], scope) or value.args[-1]
    name = dotted(value)
    if not name:
        return None
    for node in _scope_nodes(scope):
        if isinstance(node, ast.Assign) and any(dotted(t) == name for t in node.targets):
            built = _source(node.value, scope)
            if built is not None:
                return built
        if isinstance(node, (ast.For, ast.AsyncFor)) and any(
                isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("append", "extend")
                and dotted(n.func.value) == name for s in node.body for n in ast.walk(s)):
            return node.iter
    return None


def _split(source, scope) -> bool:
    if isinstance(source, ast.Subscript) or _SPLIT_NAME.search(code(source, 200)):
        return True
    return any((isinstance(n, ast.Call) and (dotted(n.func) == "range" and len(n.args) == 3
                                             or _SPLIT_NAME.search((chain(n.func) or [""])[-1])))
               or (isinstance(n, ast.Slice) and n.lower is not None and n.upper is not None)
               for n in _scope_nodes(scope))


def _unsplit(tree, split: set) -> list:
    scopes = [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    found = []
    for scope in scopes:
        for node in _scope_nodes(scope):
            if not _batches(node, "create") or node.lineno in split:
                continue
            value = next((k.value for k in node.keywords if k.arg == "requests"), node.args[0] if node.args else None)
            source = _source(value, scope) if value is not None else None
            if source is not None and not _split(unwrap(source), scope):
                found.append((node.lineno, "no-split", {"source": code(unwrap(source))}))
    return found


def hygiene(tree, change: FileChange, split: set) -> tuple:
    """Findings for a file that uses `messages.batches`; `split` holds the lines of `create`s that run in a loop."""
    found = (_custom_ids_from_index(tree) + _only_succeeded(tree) + _results_not_kept(tree)
             + _polls_without_sleep(tree) + _unsplit(tree, split))
    return tuple(Hygiene(change.path, line, rule, RULES[rule].format(**values), is_changed(change.changed, line))
                 for line, rule, values in sorted(found, key=lambda f: (f[0], f[1])))
