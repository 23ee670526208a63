"""Scan changed files: each language's calls plus path and workflow signals."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

from bot.scan.diff import SCHEDULE_LINE, is_test, language
from bot.scan.model import (
    ALL,
    NEARBY,
    SCHEDULED_JOB,
    TEST_NOTE,
    Call,
    Dismissal,
    FileChange,
    Found,
    Lines,
    Note,
    ScanResult,
    Signal,
    is_changed,
    short_code,
)
from bot.scan.python import scan_python
from bot.scan.text import scan_script


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
            return Signal(SCHEDULED_JOB, f"in an offline-job folder (`{short_code(folder)}/`)", None, added)
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
        if SCHEDULE_LINE.match(row) and is_changed(workflow.changed, number):
            return _Schedule(workflow.path, number, workflow.text)
    return None


def _runs(schedule: _Schedule, path: str) -> bool:
    """The workflow names the file: by a path suffix (`jobs/enrich.py`, `enrich.py`) or module (`jobs.enrich`)."""
    parts = path.lstrip("./").split("/")
    suffixes = ["/".join(parts[i:]) for i in range(len(parts))]
    modules = [s.rsplit(".", 1)[0].replace("/", ".") for s in suffixes if "/" in s]
    return any(re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", schedule.text) for name in suffixes + modules)


_OFFLINE_TRIGGER = re.compile(r"^\s*(?:-\s*)?(?:schedule|workflow_dispatch|cron)\s*:|^\s*on\s*:.*\b(?:schedule|workflow_dispatch)\b"
                              r"|^\s*-\s*(?:schedule|workflow_dispatch)\s*$", re.M)
CI_TIME = "CI-time code under `.github/`: a pull_request or push workflow runs it while the author waits"
ALONE = "no loop, comprehension, pool or offline job around it"


def _ci_time(path: str, workflows: list) -> bool:
    """Code under `.github/` that no scheduled or manually dispatched workflow runs, and not named like a job."""
    if ".github" not in path.split("/")[:-1]:
        return False
    if any(_runs(w, path) and _OFFLINE_TRIGGER.search(w.text) for w in workflows):
        return False
    return _path_signal(path.rsplit("/", 1)[-1], False) is None


def _judged(item: Found, extra: tuple, ci_time: bool) -> tuple:
    """(signals, dismissals) of a call with the path and workflow signals added."""
    if item.batched:
        return item.signals, ()
    signals, dismissed = item.signals + extra, item.dismissed
    if ci_time:
        signals, dismissed = (), dismissed + tuple(Dismissal(s.id, CI_TIME, s.line) for s in signals)
    if not signals and not dismissed:
        dismissed = (Dismissal(None, ALONE),)
    return signals, dismissed


def _touched(found: Found, changed: Lines) -> bool:
    """A changed line is among the call's lines or within NEARBY of them."""
    if changed == ALL:
        return True
    return any(found.span.start - NEARBY <= line < found.span.stop + NEARBY for line in changed)


def scan(files: Iterable[FileChange], *, notes=(), partial: bool = False) -> ScanResult:
    """Every call to Claude that the changed lines add, wrap in bulk work, or touch, with its signals."""
    files = list(files)
    workflows = [_Schedule(f.path, 0, f.text) for f in files if language(f.path) == "workflow" and f.text]
    schedules = [s for s in map(_schedule, (f for f in files if language(f.path) == "workflow")) if s]
    calls, notes, hygiene = [], list(notes), []
    for change in files:
        kind = language(change.path)
        if kind not in ("python", "script"):
            continue
        if change.text is None:
            notes.append(Note(change.path, "could not be read at the head commit; not scanned"))
            continue
        try:
            found, note, findings = (scan_python if kind == "python" else scan_script)(change)
        except RecursionError:
            notes.append(Note(change.path, "nested too deeply for the scanner to follow; not scanned"))
            continue
        if is_test(change.path):
            if found:
                notes.append(Note(change.path, f"{TEST_NOTE} ({len(found)} not counted)"))
            continue
        if note:
            notes.append(note)
        hygiene += findings
        ci_time = _ci_time(change.path, workflows)
        by_path = _path_signal(change.path, change.added or change.changed == ALL)
        extra = ((by_path,) if by_path else ()) + tuple(
            Signal(SCHEDULED_JOB, f"run on a schedule by `{short_code(s.path, 200)}`", s.line, True, s.path)
            for s in schedules if _runs(s, change.path))
        for item in found:
            if _touched(item, change.changed) or any(s.changed for s in item.signals):
                signals, dismissed = _judged(item, extra, ci_time)
                calls.append(Call(change.path, item.line, item.api, signals, item.batched,
                                  is_changed(change.changed, item.line), item.model, item.max_tokens, dismissed))
    calls.sort(key=lambda c: (c.path, c.line, c.api))
    return ScanResult(tuple(calls), tuple(notes), partial, tuple(hygiene))
