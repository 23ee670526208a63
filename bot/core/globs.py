"""Path globs as in `design_docs`: `*`, `?` and `**` (pure)."""

import re
from functools import lru_cache


def _segment(part: str) -> str:
    """One path segment's pattern as a regex: `*` and `?` never cross `/`; `[...]` is a character class."""
    out, i = [], 0
    while i < len(part):
        char = part[i]
        if char == "*":
            while i + 1 < len(part) and part[i + 1] == "*":
                i += 1
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and "]" in part[i + 2 :]:
            end = part.index("]", i + 2)
            inner = part[i + 1 : end]
            negate = inner[:1] in ("!", "^")
            inner = re.escape(inner[1:] if negate else inner).replace(r"\-", "-")
            out.append(f"[{'^/' if negate else ''}{inner}]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


@lru_cache(maxsize=256)
def compile_glob(pattern: str) -> re.Pattern:
    """`docs/**` matches every file under docs/; `**/x.md` matches x.md at any depth, the top included."""
    parts = pattern.strip("/").split("/")
    regex = ""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            regex += ".+" if last else "(?:[^/]+/)*"
        else:
            regex += _segment(part) + ("" if last else "/")
    return re.compile(regex, re.DOTALL)


def matches(path: str, patterns) -> bool:
    """Whether a repository path (no leading slash) matches any of the globs."""
    return any(compile_glob(pattern).fullmatch(path) for pattern in patterns)
