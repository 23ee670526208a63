"""JS/TS and Python that does not parse: a text scan that blanks comments and strings."""

from __future__ import annotations

import bisect
import re
from typing import Optional

from bot.scan.model import (
    COMPREHENSION,
    LOOP,
    RETRY_NAME,
    SMALL_COUNT,
    FileChange,
    Found,
    Lines,
    Signal,
    batched_signal,
    is_changed,
    short_code,
)

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


def text_calls(text: str, changed: Lines, python: bool) -> list:
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
            signals = (batched_signal(api, line, changed),)
        else:
            signals = tuple(Signal(kind, description, at, is_changed(changed, at))
                            for kind, description, at in loops(match.start(2), line))
        found.append(Found(line, prefix + api, bool(match.group(1)), signals, range(line, end + 1)))
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
    return bool(bound and int(bound.group(1)) <= SMALL_COUNT) or bool(RETRY_NAME.search(condition.split("<")[0]))


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
        return f"inside a `while ({short_code(inside)})` loop"
    over = re.search(r"\b(?:of|in)\s+(.+)$", inside)
    if over and ";" not in inside:
        return f"inside a loop over `{short_code(over.group(1))}`"
    parts = inside.split(";")
    condition = parts[1] if len(parts) == 3 else inside
    if _few_text(condition):
        return None
    length = re.search(r"<=?\s*([\w$.]+)\.length\b", condition)
    return f"inside a loop over `{length.group(1)}`" if length else f"inside a `for ({short_code(inside)})` loop"


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
            description = (f"mapped over `{short_code(receiver.group(1))}` by `.{method}`" if receiver
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
                    found.append((LOOP, f"inside a loop over `{short_code(over.group(1))}`", number))
        return found

    return loops


# --- The scan -------------------------------------------------------------------------------------

def scan_script(change: FileChange) -> tuple:
    return (text_calls(change.text, change.changed, python=False) if "messages" in change.text else []), None, ()
