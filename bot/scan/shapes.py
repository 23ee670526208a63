"""Code shapes that say a loop is not bulk work: sweeps, timers, agents, chained calls.

Every walk here is `ast.walk` (a queue, no recursion), so a file with 600 `elif`s reads like any other.
"""

from __future__ import annotations

import ast
import re
from typing import Optional

from bot.scan.model import RETRY_NAME, SMALL_COUNT, short_code

_UNWRAP = {"enumerate", "tqdm", "track", "sorted", "list", "reversed", "iter", "tuple", "set"}
_DISPLAYS = (ast.List, ast.Tuple, ast.Set)
TIMER_CALLS = [[name] for name in ("perf_counter", "perf_counter_ns", "monotonic", "monotonic_ns", "time", "time_ns",
                                     "default_timer", "now", "utcnow", "process_time")]
_GROW = {"append", "extend", "insert", "appendleft"}
_TURN_WORDS = re.compile(r"stop_reason|tool_use|tool_calls")
TIMER_WINDOW = 3  # statements before a call where a timer read counts, and after it where its subtraction does


def chain(func) -> list:
    """`client.with_options(x).messages.create` -> ["client", "with_options", "messages", "create"]."""
    names = []
    while True:
        if isinstance(func, ast.Attribute):
            names.append(func.attr)
            func = func.value
        elif isinstance(func, ast.Call):
            func = func.func
        else:
            if isinstance(func, ast.Name):
                names.append(func.id)
            return names[::-1]


def code(node, limit: int = 40) -> str:
    """A node's source for a description; a tree too deep for `ast.unparse` (which recurses) is shown as `…`."""
    try:
        return short_code(ast.unparse(node), limit)
    except RecursionError:
        return "…"


def dotted(node) -> Optional[str]:
    """`history`, `self.history`: a name or an attribute path of names; None for any other expression."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id] + parts[::-1]) if isinstance(node, ast.Name) else None


def names(node) -> set:
    """The names and attribute paths (`self.history`) an expression reads."""
    found = set()
    for inner in ast.walk(node) if node is not None else ():
        if isinstance(inner, (ast.Name, ast.Attribute)):
            path = dotted(inner)
            if path:
                found.add(path)
    return found


def contains(tree, node) -> bool:
    return any(inner is node for inner in ast.walk(tree))


def unwrap(node):
    """What a loop runs over, without `enumerate(...)`/`tqdm(...)` around it."""
    while (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _UNWRAP
           and node.args):
        node = node.args[0]
    return node


# --- Few: a sweep or retries, not a dataset ---------------------------------------------------------

def literal_size(value) -> Optional[int]:
    """How many values a short literal holds (`("a", "b")`, `{"x": 1}`, `3`), else None."""
    if isinstance(value, _DISPLAYS) and not any(isinstance(e, ast.Starred) for e in value.elts):
        size = len(value.elts)
    elif isinstance(value, ast.Dict) and None not in value.keys:
        size = len(value.keys)
    elif isinstance(value, ast.Constant) and type(value.value) is int:
        size = value.value
    else:
        return None
    return size if size <= SMALL_COUNT else None


def _size(node, small: dict) -> Optional[int]:
    """How many values a literal (or a name only ever bound to a short one) holds, else None."""
    if isinstance(node, (*_DISPLAYS, ast.Dict, ast.Constant)):
        return literal_size(node)
    if isinstance(node, ast.Name):
        return small.get(node.id)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args
            and node.func.attr in ("items", "keys", "values")):
        return _size(node.func.value, small)
    return None


def few(iterable, target, small: dict) -> str:
    """Why a loop over `iterable` is a handful of repeats (a sweep, retries), or "" when it may be a dataset."""
    node = unwrap(iterable)
    if isinstance(node, ast.Call) and node.args and chain(node.func):
        function = chain(node.func)[-1]
        if function == "range" and len(node.args) <= 2:
            bounds = [_size(a, small) for a in node.args]
            if None not in bounds:  # each bound at most SMALL_COUNT
                return f"`{code(node)}` repeats a handful of times: retries or samples, not a dataset"
        sizes = [_size(a, small) for a in node.args]
        if (function == "zip" and any(s is not None for s in sizes)) or (
                function == "product" and None not in sizes):
            return f"`{code(node)}` runs over a few literal values: a parameter sweep, not a dataset"
    size = _size(node, small)
    if size is not None and not isinstance(node, ast.Constant):
        return f"`{code(node)}` holds {size} literal value{'s' * (size != 1)}: a parameter sweep, not a dataset"
    if any(isinstance(n, ast.Name) and RETRY_NAME.search(n.id) for n in ast.walk(target)):
        return f"`{code(target)}` counts retries, not items"
    return ""


# --- Timed calls: a timer read just before, subtracted just after -----------------------------------

def _timer_read(statement) -> Optional[str]:
    if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call) and \
            len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
        called = chain(statement.value.func)
        if called[-1:] in TIMER_CALLS:
            return statement.targets[0].id
    return None


def _subtracts(statement, timer: str) -> bool:
    return any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub) and isinstance(n.right, ast.Name)
               and n.right.id == timer for n in ast.walk(statement))


def timed_calls(tree) -> dict:
    """id(call node) -> (timer name, line) for calls in a statement timed for its latency."""
    timed = {}
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if not isinstance(block, list):
                continue
            for index, statement in enumerate(block):
                timer = _timer_read(statement)
                if not timer:
                    continue
                for at in range(index + 1, min(index + 1 + TIMER_WINDOW, len(block))):
                    if isinstance(block[at], (ast.For, ast.AsyncFor, ast.While)):
                        continue  # timing a whole run, not one call
                    if any(_subtracts(s, timer) for s in block[at:at + TIMER_WINDOW + 1]):
                        for inner in ast.walk(block[at]):
                            if isinstance(inner, ast.Call):
                                timed.setdefault(id(inner), (timer, statement.lineno))
    return timed


# --- Agents: a conversation of tool-use turns ---------------------------------------------------------

def turn_loop(loop) -> bool:
    """A loop of tool-use turns: it runs until the model stops asking for tools, each turn waiting on the last."""
    if isinstance(loop, ast.For):
        counter = unwrap(loop.iter)
        if not (isinstance(counter, ast.Call) and chain(counter.func)[-1:] in (["range"], ["count"])):
            return False
    elif not isinstance(loop, ast.While):
        return False
    if isinstance(loop, ast.While) and _TURN_WORDS.search(code(loop.test, 400)):
        return True
    marked = ends = False
    for node in (n for statement in loop.body for n in ast.walk(statement)):
        marked = marked or (isinstance(node, ast.Attribute) and node.attr == "stop_reason") or (
            isinstance(node, ast.Constant) and node.value in ("tool_use", "tool_result"))
        ends = ends or isinstance(node, (ast.Break, ast.Return))
    return marked and ends


def inner_turn_loop(loop) -> Optional[int]:
    """The line of a tool-use loop inside `loop`'s body (an agent run per item), or None."""
    for statement in loop.body:
        for node in ast.walk(statement):
            if isinstance(node, (ast.While, ast.For)) and turn_loop(node):
                return node.lineno
    return None


# --- Dependent calls: each sends the reply of the one before -----------------------------------------

def _targets(node) -> set:
    if isinstance(node, (ast.Tuple, ast.List)):
        return {name for element in node.elts for name in _targets(element)}
    if isinstance(node, ast.Starred):
        return _targets(node.value)
    path = dotted(node)
    return {path} if path else set()


def dependent(loop, call) -> Optional[str]:
    """The name through which each `call` in `loop` reads what the previous call returned, or None.

    A chatbot simulation appends each reply to the conversation it sends again; a refinement chain
    builds the next prompt from the last answer. A name assigned afresh before the call in the same
    pass (the loop's target, `messages = [...]`) does not carry the last pass's value.
    """
    flows, results = [], set()  # flows: (line, target, names read, fresh)
    fresh_before = _targets(loop.target) if isinstance(loop, ast.For) else set()
    for node in (n for statement in loop.body for n in ast.walk(statement)):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and node.value is not None:
            targets = set().union(*(_targets(t) for t in (node.targets if isinstance(node, ast.Assign)
                                                         else [node.target])))
            read = names(node.value)
            augmented = isinstance(node, ast.AugAssign)
            for target in targets:
                fresh = not augmented and target not in read
                flows.append((node.lineno, target, read | ({target} if augmented else set()), fresh))
                if fresh and node.lineno < call.lineno:
                    fresh_before.add(target)
            if contains(node.value, call):
                results |= targets
        elif isinstance(node, ast.withitem) and node.optional_vars is not None and contains(node.context_expr, call):
            results |= _targets(node.optional_vars)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _GROW:
            target = dotted(node.func.value)
            if target:
                read = set().union(*(names(a) for a in node.args)) if node.args else set()
                flows.append((node.lineno, target, read, False))
                if any(contains(a, call) for a in node.args):
                    results.add(target)
    grown = True
    while grown:
        grown = False
        for _, target, read, _ in flows:
            if target not in results and read & results:
                results.add(target)
                grown = True
    inputs = set().union(*(names(a) for a in [*call.args, *(k.value for k in call.keywords)])) if (
        call.args or call.keywords) else set()
    pending = set(inputs)
    while pending:  # follow names assigned before the call in the same pass back to what they read
        name = pending.pop()
        for line, target, read, _ in flows:
            if target == name and line < call.lineno and not read <= inputs:
                pending |= read - inputs
                inputs |= read
    carried = sorted((inputs - fresh_before) & results)
    return carried[0] if carried else None
