"""Python by its syntax tree: calls to Claude and the loops, pools and jobs around them."""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass
from typing import Optional

from bot.scan.hygiene import hygiene
from bot.scan.model import (
    ASYNC_FAN_OUT,
    COMPREHENSION,
    EXECUTOR_SUBMIT,
    LOOP,
    SCHEDULED_JOB,
    THREAD_POOL_MAP,
    THROUGH_DEPTH,
    Dismissal,
    FileChange,
    Found,
    Lines,
    Note,
    Signal,
    batched_signal,
    is_changed,
)
from bot.scan.shapes import (
    chain,
    code,
    dependent,
    dotted,
    few,
    inner_turn_loop,
    TIMER_CALLS,
    literal_size,
    timed_calls,
    turn_loop,
    unwrap,
)
from bot.scan.text import text_calls

# --- Python, by syntax tree -----------------------------------------------------------------------

_SDK_CALLS = {("messages", "create"): "messages.create", ("messages", "stream"): "messages.stream",
              ("messages", "batches", "create"): "messages.batches.create"}
_SDK_WRAPPERS = {"with_raw_response", "with_streaming_response"}
_LITELLM = {"completion", "acompletion", "batch_completion", "text_completion", "atext_completion"}
_BEDROCK = {"invoke_model", "invoke_model_with_response_stream", "converse", "converse_stream",
            "create_model_invocation_job"}
_LANGCHAIN_CLAUDE = {"ChatAnthropic", "ChatAnthropicVertex", "ChatAnthropicMessages"}
_LANGCHAIN_BY_MODEL = {"ChatBedrock", "ChatBedrockConverse", "ChatLiteLLM", "init_chat_model"}
_CHAT_METHODS = {"invoke", "ainvoke", "stream", "astream", "batch", "abatch"}
_MAP_METHODS = {"map", "imap", "imap_unordered", "starmap", "map_async", "starmap_async", "apply", "applymap",
                "progress_apply", "progress_map", "parallel_apply"}
_POOL = re.compile(r"pool|executor", re.I)
_SUBMIT = {"submit": 0, "apply_async": 0, "run_in_executor": 1}  # method -> where the function is among its arguments
_FAN_OUT = {"gather", "wait", "as_completed", "create_task", "ensure_future", "start_soon", "run_coroutine_threadsafe"}
_SCHEDULERS = {"airflow": "Airflow", "dagster": "Dagster", "prefect": "Prefect", "luigi": "Luigi",
               "apscheduler": "APScheduler"}
_SCHEDULER_DECORATORS = {"dag", "task", "op", "asset", "multi_asset", "job", "schedule", "sensor", "flow",
                         "graph"}
_OTHER_MODELS = re.compile(r"gpt|gemini|llama|mistral|cohere|command-|titan|nova|deepseek|qwen|\bo[134]\b"
                           r"|amazon\.|meta\.|ai21", re.I)


@dataclass(frozen=True)
class _Frame:
    kind: str  # the id of the bulk signal it gives
    text: str  # the signal's description
    lines: tuple  # evidence lines
    node: Optional[ast.AST] = None  # the loop whose body holds the call
    dismissed: str = ""  # why it is not bulk work after all (unless it is a tool-use loop)
    weak: bool = False  # evidence only beside a loop or comprehension (a coroutine started without `await`)


def _name(node) -> Optional[str]:
    """`x` for `x` and `a.b.x`; None for any other expression."""
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def _function_name(node) -> Optional[str]:
    """`enrich` for `enrich`, `self.enrich` and `partial(enrich, ...)`: a function this file may define."""
    if isinstance(node, ast.Call) and _name(node.func) == "partial" and node.args:
        node = node.args[0]
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
        return node.attr
    return None


def _collection(node) -> str:
    return code(unwrap(node))


class _Facts:
    """What the whole file says: its imports, string constants, functions and chat-model objects."""

    def __init__(self, tree):
        self.anthropic = False
        self.litellm_modules, self.litellm_names = set(), {}
        self.langchain_names = {}  # local name -> class
        self.run_batch_names, self.helper_modules = set(), set()
        self.scheduler = None  # (framework, import line, module)
        self.consts, self.claude_string = {}, False
        self.functions = {}  # name -> [FunctionDef]
        self.chat_objects = {}  # "llm", "self.llm" -> constructor name
        self.coroutines = set()  # names of the file's `async def` functions
        self.pools = set()  # names bound to a thread or process pool
        self.small = {}  # name -> size, for names only ever bound to a short literal (a sweep's values)
        self.timers = False  # a timer is read somewhere (a call may be timed for its latency)
        for node in ast.walk(tree):
            kind = type(node)
            if kind is ast.Constant:
                if not self.claude_string and isinstance(node.value, str):
                    self.claude_string = "claude" in node.value.lower()
            elif kind is ast.Assign or kind is ast.AnnAssign:
                if node.value is not None:
                    self._assign(node)
            elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                self.functions.setdefault(node.name, []).append(node)
                if kind is ast.AsyncFunctionDef:
                    self.coroutines.add(node.name)
            elif kind is ast.Import or kind is ast.ImportFrom:
                self._import(node)
            elif kind is ast.withitem and node.optional_vars is not None:
                self._bind(dotted(node.optional_vars), node.context_expr)

    def _import(self, node):
        modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        top = {m.split(".")[0] for m in modules}
        self.anthropic = self.anthropic or "anthropic" in top
        for framework in top & set(_SCHEDULERS):
            self.scheduler = self.scheduler or (_SCHEDULERS[framework], node.lineno, framework)
        for alias in node.names:
            local = alias.asname or alias.name
            if isinstance(node, ast.Import):
                if alias.name == "litellm":
                    self.litellm_modules.add(local)
                self.helper_modules.add(local)
            elif "litellm" in top and alias.name in _LITELLM:
                self.litellm_names[local] = alias.name
            elif alias.name in _LANGCHAIN_CLAUDE | _LANGCHAIN_BY_MODEL:
                self.langchain_names[local] = alias.name
            elif alias.name == "run_batch":
                self.run_batch_names.add(local)
            else:
                self.helper_modules.add(local)

    def _assign(self, node):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = node.value
        for target in targets:
            name = _name(target)
            if name and isinstance(value, ast.Constant) and isinstance(value.value, str):
                self.consts[name] = value.value
            if isinstance(target, ast.Name):
                size = literal_size(value)
                self.small[name] = size if size is not None and self.small.get(name, 0) is not None else None
            self._bind(dotted(target), value)

    def _bind(self, name: Optional[str], value):
        if isinstance(value, ast.Call) and chain(value.func)[-1:] in TIMER_CALLS:
            self.timers = True
        if name and isinstance(value, ast.Call):
            constructor = self._chat_class(value.func)
            if constructor:
                self.chat_objects[name] = constructor
            elif _POOL.search(_name(value.func) or ""):
                self.pools.add(name)

    def _chat_class(self, func) -> Optional[str]:
        name = _name(func)
        name = self.langchain_names.get(name, name)
        return name if name in _LANGCHAIN_CLAUDE | _LANGCHAIN_BY_MODEL else None

    def names_claude(self, expr) -> bool:
        """The model expression names Claude: a literal, a constant it refers to, or else the file's strings."""
        strings = []
        for node in ast.walk(expr) if expr is not None else ():
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.append(node.value)
            elif isinstance(node, (ast.Name, ast.Attribute)):
                strings.append(self.consts.get(_name(node), ""))
        if any("claude" in s.lower() for s in strings):
            return True
        return self.claude_string and not any(_OTHER_MODELS.search(s) for s in strings)

    def call_site(self, call: ast.Call) -> tuple:
        """(model, max_tokens) written at the call: a string literal or constant, an int literal; else None."""
        keywords = {k.arg: k.value for k in call.keywords if k.arg}
        model = next((keywords[key] for key in ("model", "modelId", "model_id") if key in keywords), None)
        if isinstance(model, ast.Constant):
            model = model.value if isinstance(model.value, str) else None
        elif model is not None:
            model = self.consts.get(_name(model))
        tokens = keywords.get("max_tokens")
        literal = isinstance(tokens, ast.Constant) and type(tokens.value) is int
        return model, tokens.value if literal else None

    def classify(self, call: ast.Call) -> Optional[tuple]:
        """(api, batched) when the call goes to Claude."""
        func = call.func
        keywords = {k.arg: k.value for k in call.keywords if k.arg}
        first = call.args[0] if call.args else None
        names = [n for n in chain(func) if n not in _SDK_WRAPPERS]
        for suffix, api in _SDK_CALLS.items():
            if tuple(names[-len(suffix):]) == suffix and len(names) > len(suffix) and "threads" not in names:
                if self.anthropic or self.claude_string or "max_tokens" in keywords:
                    return api, api == "messages.batches.create"
                return None
        if isinstance(func, ast.Name):
            name, receiver = func.id, None
        elif isinstance(func, ast.Attribute):
            name, receiver = func.attr, dotted(func.value) or "(…)"
        else:
            return None
        if (receiver in self.litellm_modules and name in _LITELLM) or (receiver is None and name in self.litellm_names):
            api = f"litellm.{self.litellm_names.get(name, name)}"
            return (api, False) if self.names_claude(keywords.get("model", first)) else None
        if receiver is not None and name in _BEDROCK:
            if self.names_claude(keywords.get("modelId")):
                return f"bedrock.{name}", name == "create_model_invocation_job"
            return None
        constructor = self._chat_class(func)
        if constructor in _LANGCHAIN_CLAUDE:
            return constructor, False
        if constructor:
            model = keywords.get("model", keywords.get("model_id", first))
            return (constructor, False) if self.names_claude(model) else None
        if receiver in self.chat_objects and name in _CHAT_METHODS:
            return f"{self.chat_objects[receiver]}.{name}", False
        if (receiver is None and name in self.run_batch_names) or (name == "run_batch" and receiver in self.helper_modules):
            return "run_batch", True
        return None


_VISITED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp,
            ast.GeneratorExp, ast.DictComp, ast.Await, ast.Call)
_LEAVES = {ast.Name, ast.Constant, ast.Load, ast.Store, ast.Del, ast.alias, ast.Pass, ast.Break, ast.Continue}


class _Walker:
    """One pass over the tree (a stack, not recursion), each node with its function and the bulk frames around it."""

    def __init__(self, facts: _Facts):
        self.facts = facts
        self.found = []  # (call node, api, batched, function, frames)
        self.sites = {}  # function name -> [(call node, calling function, frames at the call)]
        self.awaited = set()  # id() of each call under `await`

    def walk(self, tree) -> None:
        todo = [(tree, None, ())]
        visits = {kind: getattr(self, f"visit_{kind.__name__}") for kind in _VISITED}
        while todo:
            node, function, frames = todo.pop()
            visit = visits.get(type(node))
            if visit:
                todo.extend(reversed(visit(node, function, frames)))
            else:
                todo.extend(reversed([(child, function, frames) for child in ast.iter_child_nodes(node)
                                      if type(child) not in _LEAVES]))

    @staticmethod
    def _each(nodes, function, frames) -> list:
        return [(node, function, frames) for node in nodes]

    def visit_FunctionDef(self, node, function, frames):
        outer = node.decorator_list + [node.args] + ([node.returns] if node.returns else [])
        return self._each(outer, function, frames) + self._each(node.body, node.name, ())

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_For(self, node, function, frames):
        frame = _Frame(LOOP, f"inside a loop over `{_collection(node.iter)}`", (node.lineno,), node,
                       few(node.iter, node.target, self.facts.small))
        return (self._each([node.target, node.iter], function, frames)
                + self._each(node.body, function, frames + (frame,)) + self._each(node.orelse, function, frames))

    visit_AsyncFor = visit_For

    def visit_While(self, node, function, frames):
        condition = code(node.test)
        endless = isinstance(node.test, ast.Constant) and node.test.value
        frame = _Frame(LOOP, f"inside a `while {condition}` loop", (node.lineno,), node,
                       f"`while {condition}` serves one request at a time (a server, a chat)" if endless else "")
        return self._each([node.test] + node.body, function, frames + (frame,)) + self._each(node.orelse, function, frames)

    def _comprehension(self, node, elements, function, frames):
        first, rest = node.generators[0], node.generators[1:]
        frame = _Frame(COMPREHENSION, f"in a comprehension over `{_collection(first.iter)}`",
                       (node.lineno, first.iter.lineno), None, few(first.iter, first.target, self.facts.small))
        inner = [first.target, *first.ifs, *[n for g in rest for n in (g.target, g.iter, *g.ifs)], *elements]
        return [(first.iter, function, frames)] + self._each(inner, function, frames + (frame,))

    def visit_ListComp(self, node, function, frames):
        return self._comprehension(node, [node.elt], function, frames)

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node, function, frames):
        return self._comprehension(node, [node.key, node.value], function, frames)

    def visit_Await(self, node, function, frames):
        self.awaited.add(id(node.value))
        return [(node.value, function, frames)]

    def _spread(self, node) -> tuple:
        """(the frame a call runs its function arguments in, those arguments): `map`, a pool, a submit, a gather."""
        func = node.func
        if isinstance(func, ast.Name) and func.id == "map" and len(node.args) > 1:
            return _Frame(COMPREHENSION, f"mapped over `{_collection(node.args[1])}` by `map`", (node.lineno,)), node.args[:1]
        method = _name(func)
        receiver = dotted(func.value) if isinstance(func, ast.Attribute) else None
        pool = receiver is not None and (receiver in self.facts.pools or bool(_POOL.search(receiver)))
        if isinstance(func, ast.Attribute) and method in _MAP_METHODS and node.args:
            if pool:
                return (_Frame(THREAD_POOL_MAP, f"mapped over `{_collection(node.args[1])}` by `{receiver}.{method}`",
                               (node.lineno,)), node.args[:1]) if len(node.args) > 1 else (None, ())
            return _Frame(COMPREHENSION, f"mapped over `{code(func.value)}` by `.{method}`", (node.lineno,)), node.args[:1]
        at = _SUBMIT.get(method)
        if at is not None and (pool or method == "run_in_executor") and len(node.args) > at:
            return _Frame(EXECUTOR_SUBMIT, f"submitted to a pool by `{code(func)}`", (node.lineno,)), node.args[at:at + 1]
        if method in _FAN_OUT:
            return (_Frame(ASYNC_FAN_OUT, f"run concurrently by `{code(func)}`", (node.lineno,)),
                    [*node.args, *(k.value for k in node.keywords)])
        return None, ()

    def visit_Call(self, node, function, frames):
        classified = self.facts.classify(node)
        if classified:
            api, batched = classified
            items = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "messages"), None)
            own = frames
            if api.endswith((".batch", ".abatch", "batch_completion")) and items is not None:
                own += (_Frame(THREAD_POOL_MAP, f"sends each of `{_collection(items)}` as its own synchronous "
                               f"request by `{api.rsplit('.', 1)[-1]}`", (node.lineno,)),)
            self.found.append((node, api, batched, function, own))
        spread, targets = self._spread(node)
        inner = frames + (spread,) if spread else frames
        for reference in [node.func, *node.args, *(k.value for k in node.keywords)]:
            name = _function_name(reference)
            if name:
                at = inner if any(reference is t for t in targets) else frames
                if (reference is node.func and name in self.facts.coroutines and id(node) not in self.awaited
                        and not any(f.kind == ASYNC_FAN_OUT for f in at)):
                    at += (_Frame(ASYNC_FAN_OUT, f"`{name}()` started without `await`, to run concurrently",
                                  (node.lineno,), weak=True),)
                self.sites.setdefault(name, []).append((node, function, at))
        children = []
        for child in ast.iter_child_nodes(node):
            if any(child is t for t in targets) and isinstance(child, ast.Lambda):
                children += [(child.args, function, frames), (child.body, function, inner)]
            else:
                children.append((child, function, inner if any(child is t for t in targets) else frames))
        return children


_AGENT = ("each item runs a multi-turn tool-use conversation{where}: not one batch as written "
          "(the first turn of every item could be)")


class _Judge:
    """The frames around a call and around its callers, each a signal or a dismissal with its reason."""

    def __init__(self, walker: _Walker, facts: _Facts, tree, changed: Lines, agents: bool):
        self.walker, self.facts, self.changed = walker, facts, changed
        self.timed = timed_calls(tree) if facts.timers else {}
        self.agents = agents  # the file mentions tool use at all
        self.turns = {}  # id(loop) -> (is a tool-use loop, line of one inside it or None)
        self.agentic = {}  # function name -> why its callers' loops are not bulk work

    def _turns(self, loop) -> tuple:
        if not self.agents:
            return False, None
        if id(loop) not in self.turns:
            self.turns[id(loop)] = (turn_loop(loop), inner_turn_loop(loop))
        return self.turns[id(loop)]

    def _reason(self, frame: _Frame, call) -> str:
        if frame.node is None:
            return frame.dismissed
        is_turns, inner = self._turns(frame.node)
        if is_turns:
            return "a tool-use loop: each turn waits on the one before"
        if frame.dismissed:
            return frame.dismissed
        if inner:
            return _AGENT.format(where=f" (line {inner})")
        carried = dependent(frame.node, call)
        return f"each call sends what the one before returned (`{carried}`)" if carried else ""

    def _timed(self, call) -> str:
        timer = self.timed.get(id(call))
        return f"timed for its latency (`{timer[0]}` read at line {timer[1]}): somebody waits on it" if timer else ""

    def judge(self, frames, call, imposed: str = "", through: str = "", extra_lines=()) -> tuple:
        """(signals, dismissals) of `frames` around `call`; `imposed` dismisses them all."""
        imposed = imposed or self._timed(call)
        reasons = [imposed or self._reason(frame, call) for frame in frames]
        collection = any(not reason and frame.kind in (LOOP, COMPREHENSION, THREAD_POOL_MAP)
                         for frame, reason in zip(frames, reasons))
        signals, dismissals = [], []
        for frame, reason in zip(frames, reasons):
            if frame.weak and not collection:
                continue
            if not reason and frame.kind in (EXECUTOR_SUBMIT, ASYNC_FAN_OUT) and not collection:
                reason = "a fixed number of concurrent calls, not one per item of a collection"
            if reason:
                dismissals.append(Dismissal(frame.kind, reason + through, frame.lines[0]))
            else:
                lines = frame.lines + tuple(extra_lines)
                signals.append(Signal(frame.kind, frame.text + through, frame.lines[0],
                                      any(is_changed(self.changed, n) for n in lines)))
        return signals, dismissals

    def _agentic(self, function) -> str:
        """Why the callers' loops are not bulk work when the function runs a tool-use loop, else ""."""
        if self.agents and function not in self.agentic:
            self.agentic[function] = _AGENT.format(where=f" in `{function}()`") if any(
                isinstance(n, (ast.While, ast.For)) and turn_loop(n)
                for definition in self.facts.functions.get(function, ()) for n in ast.walk(definition)) else ""
        return self.agentic.get(function, "")

    def call(self, node, function, frames) -> tuple:
        """(signals, dismissals): the frames around the call, then around the places that call its function."""
        signals, dismissals = self.judge(frames, node)
        imposed = self._timed(node) or (self._agentic(function) if function else "")
        chain, queue = [function], [(function, 0)]
        while queue:
            name, depth = queue.pop(0)
            if name is None or depth >= THROUGH_DEPTH or name not in self.facts.functions:
                continue
            for site, caller, caller_frames in self.walker.sites.get(name, ()):
                more, less = self.judge(caller_frames, site, imposed, f" (through `{name}()` at line {site.lineno})",
                                        (site.lineno,))
                signals += more
                dismissals += less
                if caller not in chain:
                    chain.append(caller)
                    queue.append((caller, depth + 1))
        if self.facts.scheduler:
            signals.append(_scheduler_signal(self.facts, chain, self.changed))
        return _unique(signals, lambda s: (s.id, s.description)), _unique(dismissals, lambda d: (d.signal, d.reason))


def _unique(items, key) -> tuple:
    kept = {}
    for item in items:
        kept.setdefault(key(item), item)
    return tuple(kept.values())


# Every call the scanner recognises names one of these; a file without any is not parsed.
_AGENT_WORDS = re.compile(r"stop_reason|tool_use|tool_result|tool_calls")
_CANDIDATE = re.compile(r"messages|invoke_model|converse|completion|Chat(?:Anthropic|Bedrock|LiteLLM)|init_chat_model"
                        r"|run_batch|create_model_invocation_job")


def scan_python(change: FileChange) -> tuple:
    """(calls found, a note when the file had to be read as text, hygiene findings)."""
    if not _CANDIDATE.search(change.text):
        return [], None, ()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(change.text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        where = f" (line {error.lineno}: {error.msg})" if isinstance(error, SyntaxError) and error.lineno else ""
        found = text_calls(change.text, change.changed, python=True)
        note = f"not valid Python 3{where}; read as text: loops by indentation, wrappers and jobs not recognised"
        return found, Note(change.path, note), ()
    facts = _Facts(tree)
    walker = _Walker(facts)
    walker.walk(tree)
    judge = _Judge(walker, facts, tree, change.changed, bool(_AGENT_WORDS.search(change.text)))
    found, split = [], set()
    for node, api, batched, function, frames in walker.found:
        line = getattr(node.func, "end_lineno", node.lineno)
        if batched:
            if api == "messages.batches.create" and any(s.id in (LOOP, COMPREHENSION) for s in
                                                         judge.call(node, function, frames)[0]):
                split.add(node.lineno)
            signals, dismissed = (batched_signal(api, line, change.changed),), ()
        else:
            signals, dismissed = judge.call(node, function, frames)
        found.append(Found(line, api, batched, signals, range(node.lineno, node.end_lineno + 1),
                           *facts.call_site(node), dismissed))
    return found, None, hygiene(tree, change, split) if "batches" in change.text else ()


def _scheduler_signal(facts: _Facts, chain: list, changed: Lines) -> Signal:
    """The decorator that makes the function (or a caller) a job, else the framework's import."""
    framework, import_line, module = facts.scheduler
    for name in chain:
        for function in facts.functions.get(name, ()):
            for decorator in function.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                word = _name(target)
                if word in _SCHEDULER_DECORATORS:
                    return Signal(SCHEDULED_JOB, f"`{name}()` is decorated `@{word}` ({framework})", decorator.lineno,
                                  is_changed(changed, decorator.lineno))
    return Signal(SCHEDULED_JOB, f"the file imports {framework} (`{module}`)", import_line,
                  is_changed(changed, import_line))
