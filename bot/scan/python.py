"""Python by its syntax tree: calls to Claude and the loops, pools and jobs around them."""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass
from typing import Optional

from bot.scan.model import (
    COMPREHENSION,
    LOOP,
    RETRY_NAME,
    SCHEDULED_JOB,
    SMALL_COUNT,
    THREAD_POOL_MAP,
    THROUGH_DEPTH,
    FileChange,
    Found,
    Lines,
    Note,
    Signal,
    batched_signal,
    is_changed,
    short_code,
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
_UNWRAP = {"enumerate", "tqdm", "track", "sorted", "list", "reversed", "iter", "tuple", "set"}
_SCHEDULERS = {"airflow": "Airflow", "dagster": "Dagster", "prefect": "Prefect", "luigi": "Luigi",
               "apscheduler": "APScheduler"}
_SCHEDULER_DECORATORS = {"dag", "task", "op", "asset", "multi_asset", "job", "schedule", "sensor", "flow",
                         "graph"}
_OTHER_MODELS = re.compile(r"gpt|gemini|llama|mistral|cohere|command-|titan|nova|deepseek|qwen|\bo[134]\b"
                           r"|amazon\.|meta\.|ai21", re.I)


@dataclass(frozen=True)
class _Frame:
    kind: str  # "function", or the id of the bulk signal it gives
    text: str  # the function's name, or the signal's description
    lines: tuple  # evidence lines


def _chain(func) -> list:
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


def _name(node) -> Optional[str]:
    """`x` for `x` and `a.b.x`; None for any other expression."""
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def _function_name(node) -> Optional[str]:
    """`enrich` for `enrich` and `self.enrich`: a reference to a function this file may define."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
        return node.attr
    return None


def _collection(node) -> str:
    """What a loop runs over, without `enumerate(...)`/`tqdm(...)` around it."""
    while (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _UNWRAP
           and node.args):
        node = node.args[0]
    return short_code(ast.unparse(node))


def _few(node) -> bool:
    """`range(3)`, `range(1, 4)`: a handful of repeats, not a dataset."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"):
        return False
    bounds = [a.value for a in node.args[:2] if isinstance(a, ast.Constant) and isinstance(a.value, int)]
    return len(bounds) == len(node.args[:2]) > 0 and bounds[-1] - (bounds[0] if len(bounds) == 2 else 0) <= SMALL_COUNT


def _retry_target(target) -> bool:
    return any(isinstance(n, ast.Name) and RETRY_NAME.search(n.id) for n in ast.walk(target))


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
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self._import(node)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions.setdefault(node.name, []).append(node)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                self.claude_string = self.claude_string or "claude" in node.value.lower()
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                self._assign(node)

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
            if isinstance(value, ast.Call):
                constructor = self._chat_class(value.func)
                if constructor and name:
                    self.chat_objects[ast.unparse(target)] = constructor

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
        chain = [n for n in _chain(func) if n not in _SDK_WRAPPERS]
        for suffix, api in _SDK_CALLS.items():
            if tuple(chain[-len(suffix):]) == suffix and len(chain) > len(suffix) and "threads" not in chain:
                if self.anthropic or self.claude_string or "max_tokens" in keywords:
                    return api, api == "messages.batches.create"
                return None
        if isinstance(func, ast.Name):
            name, receiver = func.id, None
        elif isinstance(func, ast.Attribute):
            name, receiver = func.attr, ast.unparse(func.value)
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


class _Walker(ast.NodeVisitor):
    """One pass over the tree with a stack of the loops and functions around each node."""

    def __init__(self, facts: _Facts):
        self.facts = facts
        self.stack = []
        self.found = []  # (call node, api, batched, function, frames)
        self.sites = {}  # function name -> [(line, calling function, frames at the call)]

    def context(self) -> tuple:
        """(innermost function's name or None, the bulk frames inside it)."""
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index].kind == "function":
                return self.stack[index].text, tuple(self.stack[index + 1:])
        return None, tuple(self.stack)

    def within(self, frame: Optional[_Frame], nodes) -> None:
        if frame:
            self.stack.append(frame)
        for node in nodes:
            self.visit(node)
        if frame:
            self.stack.pop()

    def visit_FunctionDef(self, node):
        self.within(None, node.decorator_list + [node.args] + ([node.returns] if node.returns else []))
        self.within(_Frame("function", node.name, (node.lineno,)), node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_For(self, node):
        self.within(None, [node.target, node.iter])
        bulk = not (_few(node.iter) or _retry_target(node.target))
        frame = _Frame(LOOP, f"inside a loop over `{_collection(node.iter)}`", (node.lineno,)) if bulk else None
        self.within(frame, node.body)
        self.within(None, node.orelse)

    visit_AsyncFor = visit_For

    def visit_While(self, node):
        condition = ast.unparse(node.test)
        endless = isinstance(node.test, ast.Constant) and node.test.value
        agent = re.search(r"stop_reason|tool_use", condition)  # a tool-use loop answering one request
        frame = None if endless or agent else _Frame(LOOP, f"inside a `while {short_code(condition)}` loop", (node.lineno,))
        self.within(frame, [node.test] + node.body)
        self.within(None, node.orelse)

    def _comprehension(self, node, elements):
        first, rest = node.generators[0], node.generators[1:]
        self.visit(first.iter)
        bulk = not (_few(first.iter) or _retry_target(first.target))
        frame = _Frame(COMPREHENSION, f"in a comprehension over `{_collection(first.iter)}`",
                       (node.lineno, first.iter.lineno)) if bulk else None
        inner = [first.target, *first.ifs, *[n for g in rest for n in (g.target, g.iter, *g.ifs)], *elements]
        self.within(frame, inner)

    def visit_ListComp(self, node):
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node):
        self._comprehension(node, [node.key, node.value])

    def _mapping(self, node) -> Optional[_Frame]:
        """`pool.map(f, rows)`, `map(f, rows)`, `df.apply(f)`: the frame its first argument runs in."""
        func = node.func
        if isinstance(func, ast.Name) and func.id == "map" and len(node.args) > 1:
            return _Frame(COMPREHENSION, f"mapped over `{_collection(node.args[1])}` by `map`", (node.lineno,))
        if isinstance(func, ast.Attribute) and func.attr in _MAP_METHODS and node.args:
            receiver = short_code(ast.unparse(func.value))
            if _POOL.search(receiver):
                if len(node.args) > 1:
                    return _Frame(THREAD_POOL_MAP, f"mapped over `{_collection(node.args[1])}` by "
                                  f"`{receiver}.{func.attr}`", (node.lineno,))
                return None
            return _Frame(COMPREHENSION, f"mapped over `{receiver}` by `.{func.attr}`", (node.lineno,))
        return None

    def visit_Call(self, node):
        classified = self.facts.classify(node)
        function, frames = self.context()
        if classified:
            api, batched = classified
            items = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "messages"), None)
            if api.endswith((".batch", ".abatch", "batch_completion")) and items is not None:
                frames += (_Frame(THREAD_POOL_MAP, f"sends each of `{_collection(items)}` as its own synchronous "
                                  f"request by `{api.rsplit('.', 1)[-1]}`", (node.lineno,)),)
            self.found.append((node, api, batched, function, frames))
        mapping = self._mapping(node)
        mapped = node.args[0] if mapping else None
        references = [node.func] + list(node.args) + [k.value for k in node.keywords]
        for reference in references:
            name = _function_name(reference)
            if name:
                extra = (mapping,) if reference is mapped else ()
                self.sites.setdefault(name, []).append((node.lineno, function, frames + extra))
        if isinstance(mapped, ast.Lambda):
            self.within(None, [r for r in references if r is not mapped] + [mapped.args])
            self.within(mapping, [mapped.body])
        else:
            self.generic_visit(node)


# Every call the scanner recognises names one of these; a file without any is not parsed.
_CANDIDATE = re.compile(r"messages|invoke_model|converse|completion|Chat(?:Anthropic|Bedrock|LiteLLM)|init_chat_model"
                        r"|run_batch|create_model_invocation_job")


def scan_python(change: FileChange) -> tuple:
    """(calls found, a note when the file had to be read as text)."""
    if not _CANDIDATE.search(change.text):
        return [], None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(change.text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        where = f" (line {error.lineno}: {error.msg})" if isinstance(error, SyntaxError) and error.lineno else ""
        found = text_calls(change.text, change.changed, python=True)
        note = f"not valid Python 3{where}; read as text: loops by indentation, wrappers and jobs not recognised"
        return found, Note(change.path, note)
    facts = _Facts(tree)
    walker = _Walker(facts)
    walker.visit(tree)
    found = []
    for node, api, batched, function, frames in walker.found:
        line = getattr(node.func, "end_lineno", node.lineno)
        if batched:
            signals = (batched_signal(api, line, change.changed),)
        else:
            signals = _python_signals(walker, facts, function, frames, change.changed)
        found.append(Found(line, api, batched, signals, range(node.lineno, node.end_lineno + 1),
                           *facts.call_site(node)))
    return found, None


def _signal(frame: _Frame, changed: Lines, extra_lines=(), through: str = "") -> Signal:
    lines = frame.lines + tuple(extra_lines)
    return Signal(frame.kind, frame.text + through, frame.lines[0], any(is_changed(changed, n) for n in lines))


def _python_signals(walker: _Walker, facts: _Facts, function, frames, changed: Lines) -> tuple:
    """Bulk frames around the call, then around the places that call its function (a few callers up)."""
    signals = [_signal(frame, changed) for frame in frames]
    chain, queue = [function], [(function, 0)]
    while queue:
        name, depth = queue.pop(0)
        if name is None or depth >= THROUGH_DEPTH or name not in facts.functions:
            continue
        for line, caller, caller_frames in walker.sites.get(name, ()):
            through = f" (through `{name}()` at line {line})"
            signals += [_signal(frame, changed, (line,), through) for frame in caller_frames]
            if caller not in chain:
                chain.append(caller)
                queue.append((caller, depth + 1))
    if facts.scheduler:
        signals.append(_scheduler_signal(facts, chain, changed))
    unique = {}
    for signal in signals:
        unique.setdefault((signal.id, signal.description), signal)
    return tuple(unique.values())


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
