"""Which changed files to read, and which of their lines changed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Optional

from bot.scan.model import ALL, TEST_NOTE, FileChange, Lines, Note

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
SCHEDULE_LINE = re.compile(r"\s*(?:-\s*)?(?:schedule|cron)\s*:|\s*on\s*:.*\bschedule\b")  # matched at a line's start


def _mentions(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in MENTIONS)


def _adds_schedule(patch: str) -> bool:
    return any(SCHEDULE_LINE.match(row, 1) for row in patch.split("\n") if row.startswith("+"))


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
