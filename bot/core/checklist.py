"""Markdown in, the checklist's answers out: read by marker from what GitHub shows (pure)."""

import html
import re
from dataclasses import dataclass
from typing import Optional

from bot.core.gfm import to_html
from bot.core.names import QUESTION_IDS

# Markers, matched in GitHub's HTML where only real comments keep their `<!--`: code shows `&lt;!--`.
_MARKER = re.compile(r"<!--[ \t]*(?i:batch-review:)[^<>]*-->")
_FIELD = re.compile(r"<!--[ \t]*(?i:batch-review:[ \t]*(volume_per_day|checklist))[ \t]*-->")
# Option markers as they read with spaces removed from lower-cased text.
_OPTIONS = {f"<!--batch-review:{q}={v}-->": (q, v) for q in QUESTION_IDS for v in ("yes", "no")}
# An HTML comment other than one marker alone (a marker inside a longer comment is hidden too).
_OTHER_COMMENT = re.compile(r"<!--(?![ \t]*(?i:batch-review:)[^<>]*-->)(?:[^-]|-(?!->))*-->")
_HIDING = re.compile(r"<(/?)(?:pre|blockquote)\b[^>]*>")  # code and quotes: not answers
# The rest of a ticked task item's line (cmark-gfm starts every nested block on a new line), or of its
# paragraph's first line in a loose list (items apart by blank lines: each item's text is a <p>).
_TICKED = re.compile('<input type="checkbox" checked="" disabled="" /> ?(?:\n<p>)?([^\n]*)')
_TAG = re.compile(r"<[^>]*>")
_BLANK_LINE = re.compile(r"\n[ \t]*\r?\n")  # ends a paragraph
_BLANK_VALUE = re.compile(r"[\s_*\-.…?]*")


@dataclass(frozen=True)
class Checklist:
    """What one text's checklist says."""

    ticked: tuple = ()  # (question, value) pairs of the ticked options, each once, in order
    volume_text: Optional[str] = None  # what the volume field holds, as written
    has_section: bool = False

    @property
    def answered(self) -> bool:
        """Blank checklists are not answers: a box must be ticked or the volume field filled."""
        return bool(self.ticked) or self.volume_text is not None

    @property
    def answers(self) -> dict:
        """question -> "yes"/"no", leaving out questions ticked both ways."""
        found = {}
        for question, value in self.ticked:
            found.setdefault(question, set()).add(value)
        return {q: values.pop() for q, values in found.items() if len(values) == 1}

    @property
    def conflicts(self) -> tuple:
        """Questions whose yes and no were both ticked."""
        return tuple(q for q in QUESTION_IDS if {(q, "yes"), (q, "no")} <= set(self.ticked))

    @property
    def per_day(self) -> Optional[float]:
        return None if self.volume_text is None else parse_volume(self.volume_text)


def _shown(text: str) -> str:
    """GitHub's HTML for `text` without what is not an answer: code, quotes and comments other than our markers."""
    page = to_html(_through_last_marker(text))
    last_end = page.rfind("-->")
    unclosed = page.find("<!--", last_end + 3 if last_end >= 0 else 0)
    page = _OTHER_COMMENT.sub("", page if unclosed < 0 else page[:unclosed])
    if "<pre" not in page and "<blockquote" not in page:
        return page
    kept, depth, start = [], 0, 0
    for tag in _HIDING.finditer(page):
        if not tag.group(1):
            kept.append(page[start : tag.start()] if depth == 0 else "")
            depth += 1
        elif depth:
            depth -= 1
            start = tag.end()
    return "".join(kept) + (page[start:] if depth == 0 else "")


def _through_last_marker(text: str) -> str:
    """The text up to the end of the line of its last marker (each ends with `-->`): nothing after it changes
    how GitHub shows what comes before, unless a later line of that paragraph closes a code span or an HTML
    tag opened before (then the whole text is kept)."""
    last = text.rfind("-->")
    line_end = text.find("\n", last)
    if last < 0 or line_end < 0:
        return text if last >= 0 else ""
    closers = [found for found in (text.find("`", line_end), text.find(">", line_end)) if found >= 0]
    if closers and not _BLANK_LINE.search(text, line_end, min(closers)):
        return text
    return text[:line_end]


def parse(text: Optional[str]) -> Checklist:
    """Read ticked options and the volume field by their hidden markers, as GitHub renders the text."""
    page = _shown(text or "")
    if not _MARKER.search(page):
        return Checklist()
    ticked = "\n".join(dict.fromkeys(_TICKED.findall(page))).lower().replace(" ", "").replace("\t", "")
    at = {pair: ticked.find(marker) for marker, pair in _OPTIONS.items()}
    volume_text, has_section = None, False
    for marker in _FIELD.finditer(page):
        if marker.group(1).lower() == "checklist":
            has_section = True
        elif volume_text is None:
            volume_text = _field_value(page, marker.start())
        if has_section and volume_text is not None:
            break
    return Checklist(tuple(sorted((pair for pair in at if at[pair] >= 0), key=at.get)), volume_text, has_section)


def _field_value(page: str, at: int) -> Optional[str]:
    """The volume field's text: its line as shown, without markers, tags and the label before a colon."""
    end = page.find("\n", at)
    line = page[page.rfind("\n", 0, at) + 1 : end if end >= 0 else len(page)]
    value = html.unescape(_TAG.sub("", _MARKER.sub("", line)))
    value = value.split(":", 1)[1] if ":" in value else value
    value = value.strip(" \t*_")
    return None if _BLANK_VALUE.fullmatch(value) else value


_NUMBER = r"(\d[\d,_]*(?:\.\d+)?|\.\d+)"
_VOLUME_TEXT = re.compile(
    rf"(?:~|≈|about|approx\.?|approximately|around|roughly|up to|<=?|>=?|≤|≥)?\s*"
    rf"{_NUMBER}\s*(k|m|mm|b|bn|thousand|million|billion)?"
    rf"(?:\s*(?:-|–|to)\s*{_NUMBER}\s*(k|m|mm|b|bn|thousand|million|billion)?)?\+?"
    r"(?:\s+(?:requests?|reqs?|calls?|messages?|prompts?|items?|documents?|docs?|rows?|records?))?"
    r"\s*(?:(?:/|per|a|an|each|every)\s*)?"
    r"(second|sec|s|minute|min|hour|hr|h|day|d|daily|week|wk|weekly|month|mo|monthly|year|yr|yearly|annually|"
    r"rps|rpm|rph|rpd)?s?\.?",
    re.I,
)
_MAX_VOLUME_TEXT = 120
_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}
_PER_DAY = {
    "second": 86400, "sec": 86400, "s": 86400, "rps": 86400,
    "minute": 1440, "min": 1440, "rpm": 1440,
    "hour": 24, "hr": 24, "h": 24, "rph": 24,
    "day": 1, "d": 1, "daily": 1, "rpd": 1,
    "week": 1 / 7, "wk": 1 / 7, "weekly": 1 / 7,
    "month": 1 / 30, "mo": 1 / 30, "monthly": 1 / 30,
    "year": 1 / 365, "yr": 1 / 365, "yearly": 1 / 365, "annually": 1 / 365,
}


def parse_volume(text: str) -> Optional[float]:
    """Requests a day from "2,000", "2k", "~1500/day" or "50 per hour"; a range counts as its top; None if unreadable."""
    text = " ".join(text.replace("`", "").split())
    match = len(text) <= _MAX_VOLUME_TEXT and _VOLUME_TEXT.fullmatch(text)
    if not match:
        return None
    low, low_unit, high, high_unit, period = match.groups()
    number, unit = (high, high_unit or low_unit) if high else (low, low_unit)
    value = float(number.replace(",", "").replace("_", ""))
    value *= _MULTIPLIERS.get((unit or "").lower(), 1)
    return round(value * _PER_DAY[(period or "day").lower()], 3)
