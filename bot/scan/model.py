"""What the scanner reports: files, calls, signals, notes, and shared helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Union

ALL = "all"  # every line of the file counts as changed (a new checkout scan, or a file without a patch)
Lines = Union[frozenset, str]  # changed line numbers of the new file, or ALL

# Signal ids (stable: they are in the JSON and the cache).
LOOP = "loop"
COMPREHENSION = "comprehension"
THREAD_POOL_MAP = "thread-pool-map"
EXECUTOR_SUBMIT = "executor-submit"
ASYNC_FAN_OUT = "async-fan-out"
SCHEDULED_JOB = "scheduled-job"
ALREADY_BATCHED = "already-batched"
BULK_SIGNALS = (LOOP, COMPREHENSION, THREAD_POOL_MAP, EXECUTOR_SUBMIT, ASYNC_FAN_OUT, SCHEDULED_JOB)
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
class Dismissal:
    """A bulk signal the scanner saw and set aside, and why (`signal` None: nothing bulk around the call)."""

    signal: Optional[str]
    reason: str  # code in backticks, as in Signal.description
    line: Optional[int] = None


@dataclass(frozen=True)
class Call:
    path: str
    line: int
    api: str  # messages.create, litellm.completion, @anthropic-ai/sdk messages.create, ...
    signals: tuple = ()
    batched: bool = False
    changed: bool = False  # the call's line is a changed line
    model: Optional[str] = None  # a literal model (or a module constant) at the call site
    max_tokens: Optional[int] = None  # a literal max_tokens at the call site
    dismissed: tuple = ()  # Dismissal: why a loop, pool or job around it is not bulk work

    @property
    def bulk(self) -> bool:
        """A synchronous call with a bulk signal that stands (what makes a file a batch candidate)."""
        return not self.batched and any(s.id in BULK_SIGNALS for s in self.signals)

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
class Hygiene:
    """A way code already on `messages.batches` loses results or money (rules in HYGIENE_RULES)."""

    path: str
    line: int
    rule: str
    message: str
    changed: bool = False


@dataclass(frozen=True)
class ScanResult:
    calls: tuple = ()  # Call, by path and line: those the diff adds, wraps or touches
    notes: tuple = ()  # Note: test files, files read as text, files not read
    partial: bool = False  # more files mentioned Claude than `scan.max_files`
    hygiene: tuple = ()  # Hygiene, by path and line

    @property
    def workload(self) -> bool:
        """The diff adds a synchronous call to Claude, or a bulk signal around one."""
        return any(call.new and not call.batched for call in self.calls)


# --- Shared pieces ---------------------------------------------------------------------------------

def is_changed(changed: Lines, line: Optional[int]) -> bool:
    return changed == ALL or line in changed


def short_code(text: str, limit: int = 40) -> str:
    """Source text fit for a description: one line, no backticks, at most `limit` characters."""
    text = " ".join(text.split()).replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1] + "…"


RETRY_NAME = re.compile(r"attempt|retr|tries", re.I)
SMALL_COUNT = 10  # `for _ in range(3)`: retries or a few samples, not bulk work


@dataclass(frozen=True)
class Found:
    """A call as a language scanner sees it, before the path and workflow signals are added."""

    line: int
    api: str
    batched: bool
    signals: tuple
    span: range  # the call's lines
    model: Optional[str] = None
    max_tokens: Optional[int] = None
    dismissed: tuple = ()


_BATCH_PATHS = {"run_batch": "the shared `run_batch` helper",
                "bedrock.create_model_invocation_job": "Bedrock batch inference"}


def batched_signal(api: str, line: int, changed: Lines) -> Signal:
    how = _BATCH_PATHS.get(api, "the Message Batches API")
    return Signal(ALREADY_BATCHED, f"goes through {how}", line, is_changed(changed, line))
