"""The flowchart: three answers in, a verdict with its reason and path out (pure)."""

from dataclasses import dataclass
from typing import Mapping, Optional

from bot.core.names import QUESTION_IDS, SYNC_ANSWER, VERDICT_PRIORITY, Verdict

DEFAULT_VOLUME_THRESHOLD = 300


@dataclass(frozen=True)
class Step:
    question: str
    answer: Optional[str]  # "yes", "no" or None (unknown)


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: Optional[str] = None  # the deciding question of a synchronous verdict
    missing: tuple = ()  # questions that still decide a needs-answers verdict
    path: tuple = ()  # Steps walked through the flowchart


def volume_answer(per_day: Optional[float], threshold: float = DEFAULT_VOLUME_THRESHOLD) -> Optional[str]:
    """A volume is high when strictly above the threshold."""
    if per_day is None:
        return None
    return "yes" if per_day > threshold else "no"


def decide(answers: Mapping[str, Optional[str]]) -> Decision:
    """Decide as soon as the known answers decide: any synchronous answer ends the walk."""
    path = []
    for question in QUESTION_IDS:
        answer = answers.get(question)
        path.append(Step(question, answer))
        if answer == SYNC_ANSWER[question]:
            return Decision(Verdict.SYNCHRONOUS, reason=question, path=tuple(path))
    missing = tuple(q for q in QUESTION_IDS if answers.get(q) is None)
    if missing:
        first_unknown = QUESTION_IDS.index(missing[0])
        return Decision(Verdict.NEEDS_ANSWERS, missing=missing, path=tuple(path[: first_unknown + 1]))
    return Decision(Verdict.BATCH_CANDIDATE, path=tuple(path))


def most_actionable(verdicts) -> Verdict:
    """The PR's verdict: candidate, then needs-answers, then synchronous; none is not-applicable."""
    present = set(verdicts)
    return next((v for v in VERDICT_PRIORITY if v in present), Verdict.NOT_APPLICABLE)
