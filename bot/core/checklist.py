"""Markdown in, the checklist's answers out, read by marker (pure)."""

import re
from dataclasses import dataclass
from typing import Optional

from bot.core.names import QUESTION_IDS

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_QUOTE = re.compile(r"[ \t]*>")
_TASK = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\[([ xX])\](?:[ \t]|$)")
_BULLET = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+")
_INLINE_CODE = re.compile(r"`[^`]*`")
_OPTION = re.compile(rf"<!--[ \t]*batch-review:[ \t]*({'|'.join(QUESTION_IDS)})[ \t]*=[ \t]*(yes|no)[ \t]*-->", re.I)
_VOLUME = re.compile(r"<!--[ \t]*batch-review:[ \t]*volume_per_day[ \t]*-->", re.I)
_SECTION = re.compile(r"<!--[ \t]*batch-review:[ \t]*checklist[ \t]*-->", re.I)
_COMMENT = re.compile(r"<!--.{0,500}?-->")
_BLANK_VALUE = re.compile(r"[\s_*\-.…?]*")


@dataclass(frozen=True)
class Checklist:
    """What one text's checklist says."""

    ticked: tuple = ()  # (question, value) pairs of every ticked option, in order
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


def _visible_lines(text: str):
    """Lines outside fenced code, quotes and multi-line HTML comments; linear in the text's size."""
    fence = None
    in_comment = False
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if fence:
            stripped = line.strip()
            if stripped.startswith(fence) and stripped.strip(fence[0]) == "":
                fence = None
            continue
        if in_comment:
            end = line.find("-->")
            if end < 0:
                continue
            line, in_comment = line[end + 3 :], False
        opening = _FENCE.match(line)
        if opening:
            fence = opening.group(1)
            continue
        if _QUOTE.match(line):
            continue
        tail = line.rsplit("-->", 1)[-1]
        in_comment = "<!--" in tail
        yield line


def parse(text: Optional[str]) -> Checklist:
    """Read ticked options and the volume field by their hidden markers."""
    ticked, volume_text, has_section = [], None, False
    for line in _visible_lines(text or ""):
        if "<!--" not in line:
            continue
        outside_code = _INLINE_CODE.sub("", line)
        has_section = has_section or bool(_SECTION.search(outside_code))
        task = _TASK.match(outside_code)
        if task and task.group(1) != " ":
            ticked.extend((m.group(1).lower(), m.group(2).lower()) for m in _OPTION.finditer(outside_code))
        if volume_text is None and _VOLUME.search(outside_code):
            volume_text = _field_value(outside_code)
    return Checklist(tuple(ticked), volume_text, has_section)


def _field_value(line: str) -> Optional[str]:
    """The volume field's text: the line without its bullet, markers and label."""
    value = _COMMENT.sub("", line)
    value = value[_BULLET.match(value).end() :] if _BULLET.match(value) else value
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
