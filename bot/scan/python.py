"""Read changed files for calls to Claude and the signs that they run in bulk (pure: stdlib only).

Python is read by its syntax tree; JavaScript and TypeScript, and Python that does not parse, by a
text scan that blanks comments and strings first. Only changed lines count as evidence, but the
loop or job around a call comes from the whole file.
"""

from __future__ import annotations

import ast
import bisect
import re
import warnings
from dataclasses import dataclass
from typing import Iterable, Optional, Union

ALL = "all"  # every line of the file counts as changed (a new checkout scan, or a file without a patch)
Lines = Union[frozenset, str]  # changed line numbers of the new file, or ALL

# Signal ids (stable: they are in the JSON and the cache).
LOOP = "loop"
COMPREHENSION = "comprehension"
THREAD_POOL_MAP = "thread-pool-map"
SCHEDULED_JOB = "scheduled-job"
ALREADY_BATCHED = "already-batched"
BULK_SIGNALS = (LOOP, COMPREHENSION, THREAD_POOL_MAP, SCHEDULED_JOB)
SIGNAL_IDS = BULK_SIGNALS + (ALREADY_BATCHED,)

TEST_NOTE = "test file: its calls to Claude are not workloads"
NEARBY = 3  # lines around a call that count as "next to" it
THROUGH_DEPTH = 3  # callers followed from a function that calls Claude


@dataclass(frozen=True)
class FileChange:
    """One file to scan: its text at the head commit (None when it could not be read)."""

    path: str
    text: Optional[str]
    changed: Lines = ALL
    added: bool = False


@dataclass(frozen=True)
class Signal:
    id: str  # one of SIGNAL_IDS
    description: str  # "inside a loop over `rows`"; code in backticks, never a backtick inside
    line: Optional[int] = None  # where the evidence is; None: the file's path says it
    changed: bool = False  # the diff adds this evidence
    path: Optional[str] = None  # set when the evidence is in another file (a workflow)


@dataclass(frozen=True)
class Call:
    path: str
    line: int
    api: str  # messages.create, litellm.completion, @anthropic-ai/sdk messages.create, ...
    signals: tuple = ()
    batched: bool = False
    changed: bool = False  # the call's line is a changed line

    @property
    def adds_signal(self) -> bool:
        return any(s.changed and s.id in BULK_SIGNALS for s in self.signals)

    @property
    def new(self) -> bool:
        """The diff adds this call site or a bulk signal around it (not only lines next to it)."""
        return self.changed or self.adds_signal


@dataclass(frozen=True)
class Note:
    path: str
    text: str


@dataclass(frozen=True)
class ScanResult:
    calls: tuple = ()  # Call, by path and line: those the diff adds, wraps or touches
    notes: tuple = ()  # Note: test files, files read as text, files not read
    partial: bool = False  # more files mentioned Claude than `scan.max_files`

    @property
    def workload(self) -> bool:
        """The diff adds a synchronous call to Claude, or a bulk signal around one."""
        return any(call.new and not call.batched for call in self.calls)


# --- Which files ---------------------------------------------------------------------------------

_PYTHON = re.compile(r"\.py$")
_SCRIPT = re.compile(r"\.(?:[cm]?js|jsx|[cm]?ts|tsx)$")
_WORKFLOW = re.compile(r"(?:^|/)\.github/workflows/[^/]+\.ya?ml$")
_TEST_PATH = re.compile(
    r"(?:^|/)(?:tests?|testing|testdata|__tests__|__mocks__|mocks?|fixtures?|spec)/"
    r"|(?:^|/)(?:test_[^/]*\.py|[^/]*_test\.py|conftest\.py|[^/]*\.(?:test|spec)\.[cm]?[jt]sx?)$")


def language(path: str) -> Optional[str]:
    """"python", "script" (JavaScript/TypeScript), "workflow", or None for files the scanner skips."""
    if _PYTHON.search(path):
        return "python"
    if _SCRIPT.search(path):
        return "script"
    return "workflow" if _WORKFLOW.search(path) else None


def is_test(path: str) -> bool:
    return bool(_TEST_PATH.search(path))


# --- Patches and the selector ----------------------------------------------------------------------

_HUNK = re.compile(r"@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def changed_lines(patch: Optional[str]) -> Lines:
    """A GitHub `patch` (unified diff hunks) -> added or changed line numbers; no patch -> ALL."""
    if patch is None:
        return ALL
    lines, number = set(), None
    for row in patch.split("\n"):
        hunk = _HUNK.match(row)
        if hunk:
            number = int(hunk.group(1))
        elif number is None or row.startswith(("-", "\\")):
            continue
        elif row.startswith("+"):
            lines.add(number)
            number += 1
        else:
            number += 1
    return frozenset(lines)


# Lower-case words whose presence in a patch or a path makes a file worth reading (substrings: fast).
MENTIONS = ("anthropic", "claude", "invoke_model", "converse", "litellm", "run_batch", "messages.create",
            "messages.stream", "messages.batches")
_CALL_MENTIONS = re.compile(r"messages\s*\.\s*(?:create|stream|batches)|invoke_model|\bconverse|completion\s*\("
                            r"|ChatAnthropic|run_batch")
_SCHEDULE_LINE = re.compile(r"\s*(?:-\s*)?(?:schedule|cron)\s*:|\s*on\s*:.*\bschedule\b")  # matched at a line's start


def _mentions(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in MENTIONS)


def _adds_schedule(patch: str) -> bool:
    return any(_SCHEDULE_LINE.match(row, 1) for row in patch.split("\n") if row.startswith("+"))


@dataclass(frozen=True)
class Selection:
    fetch: tuple  # the listed files to read at the head commit, most telling first
    notes: tuple = ()  # Note for each test file that mentions Claude
    partial: bool = False  # more files qualified than max_files


def select(files: Iterable, max_files: int = 50) -> Selection:
    """Which changed files to read: code whose patch or name mentions Claude, and workflows that add a schedule.

    `files` hold `path`, `status` and `patch` (GitHub's PR files list; `patch` None when left out,
    and then the file may hold anything, so it is read).
    """
    wanted, notes = [], []
    for listed in files:
        kind = language(listed.path)
        if kind is None or listed.status == "removed":
            continue
        mentions = _mentions(listed.path) or (listed.patch is not None and _mentions(listed.patch))
        if kind == "workflow":
            if listed.patch is None or _adds_schedule(listed.patch):
                wanted.append((1, listed))
        elif is_test(listed.path):
            if mentions:
                notes.append(Note(listed.path, TEST_NOTE))
        elif listed.patch is None:
            wanted.append((2, listed))
        elif mentions:
            wanted.append((0 if _CALL_MENTIONS.search(listed.patch) else 1, listed))
    wanted.sort(key=lambda pair: pair[0])
    return Selection(tuple(f for _, f in wanted[:max_files]), tuple(notes), len(wanted) > max_files)


def to_change(listed, text: Optional[str]) -> FileChange:
    """A listed file and its text at the head commit -> what `scan` reads."""
    return FileChange(listed.path, text, changed_lines(listed.patch), listed.status == "added")


# --- Shared pieces ---------------------------------------------------------------------------------

def _is_changed(changed: Lines, line: Optional[int]) -> bool:
    return changed == ALL or line in changed


def _code(text: str, limit: int = 40) -> str:
    """Source text fit for a description: one line, no backticks, at most `limit` characters."""
    text = " ".join(text.split()).replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1] + "…"


_RETRY_NAME = re.compile(r"attempt|retr|tries", re.I)
_SMALL_COUNT = 10  # `for _ in range(3)`: retries or a few samples, not bulk work


def _words(part: str) -> list:
    return re.findall(r"[a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", part).lower())


_JOB_FOLDERS = {"jobs", "job", "cron", "crons", "cronjobs", "scripts", "dags", "etl", "backfill", "backfills",
                "batch", "batches", "pipelines"}
_JOB_WORDS = ("cron", "nightly", "daily", "hourly", "weekly", "backfill", "etl", "batch", "offline", "dag")


def _path_signal(path: str, added: bool) -> Optional[Signal]:
    """`jobs/`, `scripts/`, `nightly_*.py`, ...: the path says the file is a scheduled or offline job."""
    *folders, name = path.split("/")
    for folder in folders:
        if folder.lower() in _JOB_FOLDERS:
            return Signal(SCHEDULED_JOB, f"in an offline-job folder (`{_code(folder)}/`)", None, added)
    for where, parts in (("file name", [name.rsplit(".", 1)[0]]), ("path", folders)):
        words = [word for part in parts for word in _words(part)]
        for word in _JOB_WORDS:
            if word in words:
                return Signal(SCHEDULED_JOB, f"the {where} says `{word}`", None, added)
    return None


@dataclass(frozen=True)
class _Schedule:
    path: str
    line: int
    text: str


def _schedule(workflow: FileChange) -> Optional[_Schedule]:
    """A workflow whose `schedule:` trigger (or a cron line) is among the changed lines."""
    for number, row in enumerate((workflow.text or "").splitlines(), 1):
        if _SCHEDULE_LINE.match(row) and _is_changed(workflow.changed, number):
            return _Schedule(workflow.path, number, workflow.text)
    return None


def _runs(schedule: _Schedule, path: str) -> bool:
    """The workflow names the file: by a path suffix (`jobs/enrich.py`, `enrich.py`) or module (`jobs.enrich`)."""
    parts = path.lstrip("./").split("/")
    suffixes = ["/".join(parts[i:]) for i in range(len(parts))]
    modules = [s.rsplit(".", 1)[0].replace("/", ".") for s in suffixes if "/" in s]
    return any(re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", schedule.text) for name in suffixes + modules)


@dataclass(frozen=True)
class _Found:
    """A call as a language scanner sees it, before the path and workflow signals are added."""

    line: int
    api: str
    batched: bool
    signals: tuple
    span: range  # the call's lines


_BATCH_PATHS = {"run_batch": "the shared `run_batch` helper",
                "bedrock.create_model_invocation_job": "Bedrock batch inference"}


def _batched(api: str, line: int, changed: Lines) -> Signal:
    how = _BATCH_PATHS.get(api, "the Message Batches API")
    return Signal(ALREADY_BATCHED, f"goes through {how}", line, _is_changed(changed, line))


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
    return _code(ast.unparse(node))


def _few(node) -> bool:
    """`range(3)`, `range(1, 4)`: a handful of repeats, not a dataset."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"):
        return False
    bounds = [a.value for a in node.args[:2] if isinstance(a, ast.Constant) and isinstance(a.value, int)]
    return len(bounds) == len(node.args[:2]) > 0 and bounds[-1] - (bounds[0] if len(bounds) == 2 else 0) <= _SMALL_COUNT


def _retry_target(target) -> bool:
    return any(isinstance(n, ast.Name) and _RETRY_NAME.search(n.id) for n in ast.walk(target))


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
        frame = None if endless or agent else _Frame(LOOP, f"inside a `while {_code(condition)}` loop", (node.lineno,))
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
            receiver = _code(ast.unparse(func.value))
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


def _python(change: FileChange) -> tuple:
    """(calls found, a note when the file had to be read as text)."""
    if not _CANDIDATE.search(change.text):
        return [], None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(change.text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        where = f" (line {error.lineno}: {error.msg})" if isinstance(error, SyntaxError) and error.lineno else ""
        found = _text_calls(change.text, change.changed, python=True)
        note = f"not valid Python 3{where}; read as text: loops by indentation, wrappers and jobs not recognised"
        return found, Note(change.path, note)
    facts = _Facts(tree)
    walker = _Walker(facts)
    walker.visit(tree)
    found = []
    for node, api, batched, function, frames in walker.found:
        line = getattr(node.func, "end_lineno", node.lineno)
        if batched:
            signals = (_batched(api, line, change.changed),)
        else:
            signals = _python_signals(walker, facts, function, frames, change.changed)
        found.append(_Found(line, api, batched, signals, range(node.lineno, node.end_lineno + 1)))
    return found, None


def _signal(frame: _Frame, changed: Lines, extra_lines=(), through: str = "") -> Signal:
    lines = frame.lines + tuple(extra_lines)
    return Signal(frame.kind, frame.text + through, frame.lines[0], any(_is_changed(changed, n) for n in lines))


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
                                  _is_changed(changed, decorator.lineno))
    return Signal(SCHEDULED_JOB, f"the file imports {framework} (`{module}`)", import_line,
                  _is_changed(changed, import_line))


# --- JavaScript, TypeScript, and Python that does not parse: a careful text scan -------------------

_SCRIPT_TOKENS = re.compile(r"""
    (?P<comment>//[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)
  | (?<=[(,=:\[!&|?{};])(?P<regex>\s*/(?![/*])(?:\\.|\[(?:\\.|[^\]\\\n])*\]|[^/\\\n\[])+/)
""", re.S | re.X)
_PYTHON_TOKENS = re.compile(r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>'''.*?(?:'''|\Z)|\"\"\".*?(?:\"\"\"|\Z)|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")
""", re.S | re.X)


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def _mask(text: str, python: bool) -> tuple:
    """(text without comments, text without comments or string contents): same length, same lines."""
    kept, code, end = [], [], 0
    for match in (_PYTHON_TOKENS if python else _SCRIPT_TOKENS).finditer(text):
        kept.append(text[end:match.start()])
        code.append(text[end:match.start()])
        token = match.group()
        if match.lastgroup == "string":
            quote = len(token) - len(token.lstrip(token[0]))
            quote = 3 if python and quote >= 3 else 1
            kept.append(token)
            code.append(token[:quote] + _blank(token[quote:-quote]) + token[-quote:] if len(token) > 2 * quote
                        else token)
        else:
            kept.append(_blank(token))
            code.append(_blank(token))
        end = match.end()
    kept.append(text[end:])
    code.append(text[end:])
    return "".join(kept), "".join(code)


_SCRIPT_IMPORT = re.compile(r"""(?:\bfrom|\brequire\s*\(|\bimport\s*\(?)\s*["']@anthropic-ai/[\w./-]+["']""")
_PYTHON_IMPORT = re.compile(r"^\s*(?:import|from)\s+anthropic\b", re.M)
_TEXT_CALL = re.compile(r"\.\s*messages\s*\.\s*(batches\s*\.\s*)?(create|stream)\s*\(")
_SCRIPT_EVENTS = re.compile(r"\bfor\s*(?:await\s*)?\(|\bwhile\s*\(|\.\s*(?:forEach|map|flatMap)\s*\(|[()\[\]{};\n]"
                            r"|" + _TEXT_CALL.pattern)


def _text_calls(text: str, changed: Lines, python: bool) -> list:
    kept, code = _mask(text, python)
    context = (_PYTHON_IMPORT if python else _SCRIPT_IMPORT).search(kept) or "claude" in kept.lower()
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    line_of = lambda offset: bisect.bisect_right(starts, offset)  # noqa: E731
    prefix = "" if python else "@anthropic-ai/sdk "
    found = []
    loops = _indent_loops(code.split("\n"), kept.split("\n")) if python else _script_loops(kept, code, line_of)
    for match in _TEXT_CALL.finditer(code):
        before = code[max(0, match.start() - 40):match.start()]
        has_tokens = re.search(r"max_tokens|maxTokens", code[match.end():match.end() + 2000])
        if re.search(r"threads\s*\.?\s*$", before) or not (context or has_tokens):
            continue
        api = "messages.batches.create" if match.group(1) else f"messages.{match.group(2)}"
        line = line_of(match.start(2))
        end = line_of(_closing(code, match.end() - 1))
        if match.group(1):
            signals = (_batched(api, line, changed),)
        else:
            signals = tuple(Signal(kind, description, at, _is_changed(changed, at))
                            for kind, description, at in loops(match.start(2), line))
        found.append(_Found(line, prefix + api, bool(match.group(1)), signals, range(line, end + 1)))
    return found


def _closing(code: str, opening: int) -> int:
    """Offset of the bracket that closes the one at `opening` (or the end of the text)."""
    depth = 0
    for match in re.compile(r"[()\[\]{}]").finditer(code, opening):
        depth += 1 if match.group() in "([{" else -1
        if depth == 0:
            return match.start()
    return len(code)


def _few_text(condition: str) -> bool:
    """`i < 3`, `attempt <= 5`: a handful of repeats."""
    bound = re.search(r"<=?\s*(\d+)\s*$", condition.strip())
    return bool(bound and int(bound.group(1)) <= _SMALL_COUNT) or bool(_RETRY_NAME.search(condition.split("<")[0]))


def _script_header(header: str) -> Optional[str]:
    """The description of a `for (...)` or `while (...)` header, or None when it is not bulk work."""
    parsed = re.match(r"(\w+)\s*(?:await\s*)?\((.*)\)\s*$", header, re.S)
    if not parsed:
        return None
    keyword, inside = parsed.groups()
    inside = " ".join(inside.split())
    if keyword == "while":
        if inside in ("true", "1", "!0") or re.search(r"stop_reason|tool_use", inside):
            return None
        return f"inside a `while ({_code(inside)})` loop"
    over = re.search(r"\b(?:of|in)\s+(.+)$", inside)
    if over and ";" not in inside:
        return f"inside a loop over `{_code(over.group(1))}`"
    parts = inside.split(";")
    condition = parts[1] if len(parts) == 3 else inside
    if _few_text(condition):
        return None
    length = re.search(r"<=?\s*([\w$.]+)\.length\b", condition)
    return f"inside a loop over `{length.group(1)}`" if length else f"inside a `for ({_code(inside)})` loop"


def _script_loops(kept: str, code: str, line_of):
    """Brackets of the whole file, tracked once; returns where -> the loops open at an offset."""
    stack, stream = [], None  # stack: (kind, start offset, description, line); stream: a braceless loop body
    pending = None  # a loop header closed and its body not begun: (description, line, end of header)
    spans = []  # (start, end, description, line) of every loop body and callback
    for match in _SCRIPT_EVENTS.finditer(code):
        token, at = match.group(), match.start()
        if pending and token != "{" and (token != "\n" or code[pending[2]:at].strip()):
            stream, pending = (len(stack), pending[0], pending[1], at), None
        if stream and ((token in ";\n" and len(stack) == stream[0] and code[stream[3]:at].strip())
                       or (token in ")]}" and len(stack) <= stream[0])):
            spans.append((stream[3], at, stream[1], stream[2]))
            stream = None
        if token.startswith(("for", "while")):
            stack.append(("header", at, None, None))
        elif token.startswith("."):
            if _TEXT_CALL.match(token):
                stack.append(("(", at, None, None))
                continue
            receiver = re.search(r"([\w$][\w$.]*)\s*$", code[max(0, at - 80):at])
            method = re.search(r"\w+", token[1:]).group()
            description = (f"mapped over `{_code(receiver.group(1))}` by `.{method}`" if receiver
                           else f"in a `.{method}` callback")
            stack.append(("callback", at, description, line_of(at)))
        elif token in "([":
            stack.append(("(", at, None, None))
        elif token == "{":
            if pending:
                stack.append(("loop", at, pending[0], pending[1]))
                pending = None
            else:
                stack.append(("{", at, None, None))
        elif token in ")]}" and stack:
            kind, start, description, line = stack.pop()
            if kind == "header":
                description = _script_header(kept[start:at + 1])
                pending = (description, line_of(start), at + 1) if description else None
            elif kind in ("loop", "callback"):
                spans.append((start, at, description, line))

    def loops(offset: int, line: int) -> list:
        return [(LOOP if description.startswith("inside") else COMPREHENSION, description, at)
                for start, end, description, at in spans if start < offset < end]

    return loops


_INDENT_HEADER = re.compile(r"(\s*)(?:async\s+)?(for|while|def|class)\b(.*)")


def _indent_loops(code_lines: list, kept_lines: list):
    """Python that does not parse: the `for`/`while` lines above a call with less indentation."""

    def loops(offset: int, line: int) -> list:
        found, indent = [], len(code_lines[line - 1]) - len(code_lines[line - 1].lstrip())
        for number in range(line - 1, 0, -1):
            row = code_lines[number - 1]
            depth = len(row) - len(row.lstrip())
            if not row.strip() or depth >= indent:
                continue
            indent = depth
            header = _INDENT_HEADER.match(kept_lines[number - 1])
            if header and header.group(2) in ("def", "class"):
                break
            if header and header.group(2) == "for":
                over = re.search(r"\bin\s+(.+?):?\s*$", header.group(3))
                if over and not re.match(r"range\(\s*\d+\s*\)", over.group(1)):
                    found.append((LOOP, f"inside a loop over `{_code(over.group(1))}`", number))
        return found

    return loops


# --- The scan -------------------------------------------------------------------------------------

def _script(change: FileChange) -> tuple:
    return (_text_calls(change.text, change.changed, python=False) if "messages" in change.text else []), None


def _touched(found: _Found, changed: Lines) -> bool:
    """A changed line is among the call's lines or within NEARBY of them."""
    if changed == ALL:
        return True
    return any(found.span.start - NEARBY <= line < found.span.stop + NEARBY for line in changed)


def scan(files: Iterable[FileChange], *, notes=(), partial: bool = False) -> ScanResult:
    """Every call to Claude that the changed lines add, wrap in bulk work, or touch, with its signals."""
    files = list(files)
    schedules = [s for s in map(_schedule, (f for f in files if language(f.path) == "workflow")) if s]
    calls, notes = [], list(notes)
    for change in files:
        kind = language(change.path)
        if kind not in ("python", "script"):
            continue
        if change.text is None:
            notes.append(Note(change.path, "could not be read at the head commit; not scanned"))
            continue
        found, note = (_python if kind == "python" else _script)(change)
        if is_test(change.path):
            if found:
                notes.append(Note(change.path, f"{TEST_NOTE} ({len(found)} not counted)"))
            continue
        if note:
            notes.append(note)
        by_path = _path_signal(change.path, change.added or change.changed == ALL)
        extra = ((by_path,) if by_path else ()) + tuple(
            Signal(SCHEDULED_JOB, f"run on a schedule by `{_code(s.path, 200)}`", s.line, True, s.path)
            for s in schedules if _runs(s, change.path))
        for item in found:
            if _touched(item, change.changed) or any(s.changed for s in item.signals):
                signals = item.signals if item.batched else item.signals + extra
                calls.append(Call(change.path, item.line, item.api, signals, item.batched,
                                  _is_changed(change.changed, item.line)))
    calls.sort(key=lambda c: (c.path, c.line, c.api))
    return ScanResult(tuple(calls), tuple(notes), partial)


# --- Remembered per head SHA (the Action's hidden comment block, the App's store) -----------------

CACHE_VERSION = 1
CACHED_CALLS = 50  # the comment shows fewer; the ones that make the PR a workload come first


def to_cache(result: ScanResult, head_sha: str) -> dict:
    """A compact JSON-able value: {"v", "sha", "partial", "calls": [[path, line, api, flags, signals]], "notes"}.

    flags: "b" batched, "c" changed; a signal is [id, line, changed 0/1, description, other path or null].
    """
    ranked = sorted(result.calls, key=lambda c: (not (c.new and not c.batched), c.path, c.line))[:CACHED_CALLS]
    return {
        "v": CACHE_VERSION,
        "sha": head_sha,
        "partial": result.partial,
        "calls": [[c.path, c.line, c.api, "b" * c.batched + "c" * c.changed,
                   [[s.id, s.line, int(s.changed), s.description, s.path] for s in c.signals]]
                  for c in ranked],
        "notes": [[n.path, n.text] for n in result.notes[:CACHED_CALLS]],
    }


def from_cache(value, head_sha: str) -> Optional[ScanResult]:
    """The remembered scan for this head SHA, or None (another SHA, another version, or unreadable)."""
    try:
        if value["v"] != CACHE_VERSION or value["sha"] != head_sha:
            return None
        calls = tuple(Call(path, int(line), api, tuple(Signal(sid, desc, at, bool(ch), other)
                                                       for sid, at, ch, desc, other in signals),
                           "b" in flags, "c" in flags)
                      for path, line, api, flags, signals in value["calls"])
        notes = tuple(Note(path, text) for path, text in value["notes"])
        return ScanResult(tuple(sorted(calls, key=lambda c: (c.path, c.line, c.api))), notes, bool(value["partial"]))
    except (KeyError, TypeError, ValueError):
        return None

