"""The ready change on the PR: rewritten loops as one GitHub suggested change (pure).

A suggestion replaces lines `start_line`..`line` of the head commit; GitHub takes it only inside one
diff hunk. The helper's import, when it lands above the changed lines, is given as a line to add.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Optional

from bot.fix.patch import fix_file, loops
from bot.scan.diff import changed_lines

MARKER = "<!-- batch-review:ready-change {key} {digest} -->"
_MARKER = re.compile(r"<!-- batch-review:ready-change (\S+) (\w+) -->")
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.M)
INTRO = ("**Ready change:** {jobs} onto `run_batch`, the shared batch helper. "
         "It waits for the batch (up to 24 hours, usually under one).")
ADD_IMPORT = "Add this line with the file's imports: `{}`"


@dataclass(frozen=True)
class Suggestion:
    path: str
    start_line: int  # first line replaced, at the head commit
    line: int  # last line replaced
    text: str  # the replacement lines
    jobs: tuple  # the run_batch job of each loop it moves
    add_import: Optional[str] = None  # a line the author adds above, outside the suggested lines

    @property
    def key(self) -> str:
        """The loops it moves, across pushes: path and job names."""
        return f"{self.path}#{'+'.join(self.jobs)}"

    @property
    def body(self) -> str:
        fence = "`" * max([3] + [len(run) + 1 for run in re.findall(r"`+", self.text)])
        digest = hashlib.sha256(f"{self.start_line}:{self.line}:{self.text}:{self.add_import}".encode()).hexdigest()
        jobs = ", ".join(f'`{job}`' for job in self.jobs)
        parts = [INTRO.format(jobs=f"moves job{'s' * (len(self.jobs) > 1)} {jobs}"),
                 f"{fence}suggestion\n{self.text}\n{fence}"]
        if self.add_import:
            parts.append(ADD_IMPORT.format(self.add_import))
        return "\n\n".join(parts + [MARKER.format(key=self.key, digest=digest[:16])])

    @property
    def comment(self) -> dict:
        """A review comment, as `POST .../pulls/{n}/reviews` takes it."""
        where = {"start_line": self.start_line, "start_side": "RIGHT"} if self.start_line < self.line else {}
        return {"path": self.path, **where, "line": self.line, "side": "RIGHT", "body": self.body}


def hunks(patch: str) -> list:
    """The head-side line ranges (first, last) of a GitHub `patch`'s hunks."""
    return [(int(start), int(start) + int(count or 1) - 1)
            for start, count in _HUNK.findall(patch)]


def ready_change(path: str, text: Optional[str], calls, patch: Optional[str], helper_import: str) -> Optional[Suggestion]:
    """The suggestion moving the flagged loops this PR adds or changes, or None (nothing to move, not one hunk)."""
    if patch is None or text is None:
        return None
    added = changed_lines(patch)
    calls = [call for line, found in loops(calls).items() if line in added for call, _ in found]
    fix = fix_file(path, text, calls, helper_import)
    if not fix.rewrites:
        return None
    before, after = fix.before.splitlines(), fix.after.splitlines()
    ops = [op for op in SequenceMatcher(None, before, after, autojunk=False).get_opcodes() if op[0] != "equal"]
    add_import = None
    if len(ops) > 1 and ops[0][0] == "insert" and after[ops[0][3]:ops[0][4]] == [helper_import]:
        add_import, ops = helper_import, ops[1:]
    i1, i2, j1, j2 = ops[0][1], ops[-1][2], ops[0][3], ops[-1][4]
    if i1 == i2:  # only inserted lines: the suggestion replaces the line above them too
        if i1:
            i1, j1 = i1 - 1, j1 - 1
        else:
            i2, j2 = i2 + 1, j2 + 1
    start, end = i1 + 1, i2
    if not any(first <= start and end <= last for first, last in hunks(patch)):
        return None
    return Suggestion(path, start, end, "\n".join(after[j1:j2]), tuple(r.job for r in fix.rewrites), add_import)


def to_write(wanted, existing) -> tuple:
    """(suggestions to post, ids of our review comments to delete), given existing (id, body) comments.

    A suggestion already posted for the same loops and lines stays; one whose loops changed is replaced.
    """
    posted = {}
    for comment_id, body in existing:
        found = _MARKER.search(body or "")
        if found:
            posted.setdefault(found.group(1), []).append((comment_id, found.group(2)))
    post, delete = [], []
    for suggestion in wanted:
        digest = _MARKER.search(suggestion.body).group(2)
        same = [comment_id for comment_id, kept in posted.get(suggestion.key, []) if kept == digest]
        delete += [comment_id for comment_id, kept in posted.get(suggestion.key, []) if comment_id not in same[:1]]
        if not same:
            post.append(suggestion)
    return tuple(post), tuple(delete)
