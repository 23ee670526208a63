"""Which pull request an event asks to review, or why none (Action and App alike)."""

from dataclasses import dataclass
from typing import Mapping, Optional

from bot.core.commands import command_line, role, wrong_reason
from bot.core.names import ANSWER_LABELS

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")


@dataclass(frozen=True)
class Triage:
    """Which PR an event asks to review, or the note that says why none."""

    number: Optional[int] = None
    note: str = ""  # a key of names.ACTION_NOTES
    detail: Optional[dict] = None


def is_command(payload: Mapping, anyone: bool = False) -> bool:
    """A PR comment that starts with /batch-review, new or edited, from the PR's author, an owner, member or
    collaborator; `/batch-review wrong` from anyone; with `anyone`, every command (the App's review answers
    one from someone who may not give it with its one reply)."""
    comment, issue = payload.get("comment") or {}, payload.get("issue") or {}
    login, author = (comment.get("user") or {}).get("login"), (issue.get("user") or {}).get("login", "")
    return (payload.get("action") in ("created", "edited") and bool(issue.get("pull_request"))
            and (words := command_line(comment.get("body"))) is not None
            and (anyone or role(login or "", comment.get("author_association") or "", author) is not None
                 or wrong_reason(words) is not None))


def triage(event: str, payload: Mapping, anyone: bool = False) -> Triage:
    """The event's PR number, read from the payload; everything else about the PR is read from the API.

    `anyone` (the App): a command from anyone asks for a review; the Action's workflow admits only
    those who may give one, and this checks it again."""
    if event == "merge_group":
        return Triage()  # the review ran on the pull request; the merge queue has nothing to wait for
    if event in PULL_REQUEST_EVENTS:
        label = (payload.get("label") or {}).get("name")
        if payload.get("action") in ("labeled", "unlabeled") and label not in ANSWER_LABELS:
            return Triage(note="other-label", detail={"label": label})
        return Triage(payload["pull_request"]["number"])
    if event == "issue_comment":
        return Triage(payload["issue"]["number"]) if is_command(payload, anyone) else Triage(note="not-a-command")
    return Triage(note="unhandled-event", detail={"event": event or "an unnamed event"})
