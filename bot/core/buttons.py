"""The App's check run buttons: which to offer, and what a click answers (pure)."""

from typing import Optional

from bot.core.commands import CommandAnswer, Reply
from bot.core.names import BUTTON_SOURCES, BUTTONS, Verdict

MAX_ACTIONS, MAX_LABEL, MAX_DESCRIPTION, MAX_IDENTIFIER = 3, 20, 40, 20  # GitHub's limits on a check run's actions
ROLES = ("author", "reviewer", "none")  # what a kept click's `role` becomes once checked


def next_question(review) -> Optional[str]:
    """The first unanswered question of the first workload that needs answers; None once nothing is asked."""
    if review.disagreements:  # someone said the review is wrong: batch-review stops asking
        return None
    return next((workload.decision.missing[0] for workload in review.workloads
                 if workload.decision.verdict is Verdict.NEEDS_ANSWERS and workload.decision.missing), None)


def identifier(question: str, value: str) -> str:
    return f"{question}={value}"


def actions(review) -> tuple:
    """The check run's `actions`: a yes and a no button for the next question that decides the verdict."""
    question = next_question(review)
    if question is None:
        return ()
    return tuple({"label": label, "description": description, "identifier": identifier(question, value)}
                 for value in ("yes", "no") for label, description in [BUTTONS[(question, value)]])


def answer_of(clicked: str) -> Optional[tuple]:
    """(question, value) of one of our buttons' identifiers; None for anything else."""
    question, equals, value = (clicked or "").partition("=")
    return (question, value) if equals and (question, value) in BUTTONS else None


def store_key(repo: str, number: int) -> str:
    """Where the App keeps a pull request's clicks (the cache kind `buttons`)."""
    return f"{repo}#{number}"


def with_click(kept: Optional[dict], by: str, question: str, value: str, at: str, url: str) -> dict:
    """The kept clicks with this one: the newest per person and question stands; its role is checked later."""
    clicks = [c for c in (kept or {}).get("clicks", []) if (c.get("by"), c.get("question")) != (by, question)]
    return {"clicks": clicks + [{"by": by, "question": question, "value": value, "at": at, "url": url, "role": None}]}


def with_roles(kept: Optional[dict], roles: dict) -> dict:
    """The kept clicks with the roles found for them: {(by, at): author, reviewer or none}."""
    return {"clicks": [{**c, "role": roles.get((c.get("by"), c.get("at")), c.get("role"))}
                       for c in (kept or {}).get("clicks", [])]}


def unchecked(kept: Optional[dict]) -> list:
    """The kept clicks whose role is not known yet."""
    return [c for c in (kept or {}).get("clicks", []) if c.get("role") not in ROLES]


def answers(kept: Optional[dict]) -> tuple:
    """(CommandAnswer of each click that counts, Reply owed to each person whose click does not)."""
    counted, refused = [], []
    for click in (kept or {}).get("clicks", []):
        if answer_of(identifier(click.get("question", ""), click.get("value", ""))) is None:
            continue
        if click.get("role") in BUTTON_SOURCES:
            counted.append(CommandAnswer(click["question"], click["value"], None, click["by"],
                                         BUTTON_SOURCES[click["role"]], click.get("url", ""), click.get("at", "")))
        elif click.get("role") == "none":
            refused.append(Reply("not-allowed", click["by"], click.get("url", ""), "button"))
    return tuple(counted), tuple(refused)
