"""What the fixer decides, as plain values."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Optional

DEFAULT_HELPER_IMPORT = "from bot.helper import run_batch"
HELPER_IMPORT = re.compile(r"from [A-Za-z_][\w.]* import run_batch")

# Why a loop gets no patch (shown to the user after "no ready change: ").
ASYNC = "async code: the rewrite would block the event loop while the batch runs"
OTHER_FIELDS = "the loop reads more of the reply than `content[0].text` (`{}`)"
DEPENDENT = "each request reads `{}`, which the loop changes: a call needs the one before it"
SIDE_EFFECT = "`{}` runs between the calls"
STOPS_EARLY = "the loop can stop early (`{}`): a batch would pay for every item"
NESTED = "the call sits inside `{}` in the loop"
CLIENT_ELSEWHERE = "the client `{}` is built in another module (its type and settings are not visible here)"
CLIENT_LOCAL = "the client `{}` is made inside the function that calls Claude"
NOT_CREATE = "only the Anthropic SDK's `messages.create` is rewritten (this call is `{}`)"
SHAPE = "the loop's shape is not one the fixer knows ({})"
HELPER_SHAPE = "`{}()` does more than build the request, call Claude and return the text"
STREAMING = "the request streams (`stream=`), which a batch cannot"
UNPARSED = "the file does not parse ({})"


@dataclass(frozen=True)
class Refusal:
    """A flagged loop the fixer leaves alone: why, and a filled-in example to adapt by hand."""

    path: str
    line: int  # the loop's line
    reason: str
    snippet: str


@dataclass(frozen=True)
class Rewrite:
    path: str
    line: int  # the loop's line in the original file
    job: str


@dataclass(frozen=True)
class FileFix:
    path: str
    before: Optional[str]  # None: the file is not UTF-8
    after: Optional[str]  # equal to `before` when nothing was rewritten
    rewrites: tuple = ()  # Rewrite
    refusals: tuple = ()  # Refusal

    @property
    def diff(self) -> str:
        if self.after == self.before:
            return ""
        from_lines, to_lines = self.before.splitlines(keepends=True), self.after.splitlines(keepends=True)
        return "".join(difflib.unified_diff(from_lines, to_lines, f"a/{self.path}", f"b/{self.path}"))


def job_name(path: str, function: Optional[str]) -> str:
    """`jobs/enrich.py` in `main()` -> `jobs.enrich.main`: a valid run_batch job name."""
    module = re.sub(r"\.py$", "", path.lstrip("./")).replace("/", ".")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{module}.{function}" if function else module).strip(".-_")
    return (name or "job")[-100:].lstrip(".-_") or "job"
