"""`/batch-review` commands in a PR's comments: who answered what, where and when (pure).

The Action keeps no store, so every review reads the answers again from the comments as they
stand now (an edited or deleted command counts as it is); per person and question the newest wins.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Optional

from bot.core.checklist import parse_volume
from bot.core.decision import volume_answer
from bot.core.names import (ANSWER_VERB, ANSWER_WORDS, COMMAND, COMMAND_FROM, COMMAND_SOURCES, EXEMPT_VERB, QUESTION_IDS,
                            REACTIONS, REPLY_MARKER, WRONG_VERB)

_PAIR = re.compile(r"(\w+)\s*=\s*(\S+)")


@dataclass(frozen=True)
class CommandAnswer:
    question: str
    value: str  # "yes" or "no"
    per_day: Optional[float]
    by: str  # login
    source: str  # COMMAND_SOURCES or BUTTON_SOURCES: reviewer-command, author-command, reviewer-button, author-button
    url: str = ""
    at: str = ""  # ISO 8601, when the comment was last written


@dataclass(frozen=True)
class Disagreement:
    """`/batch-review wrong: reason`: someone says the review is wrong."""

    by: str
    reason: str
    url: str = ""
    at: str = ""


@dataclass(frozen=True)
class Exemption:
    """`/batch-review exempt until 2027-03-31: reason` from an owner, member or collaborator."""

    by: str
    reason: str
    until: str  # YYYY-MM-DD, the last day it runs
    url: str = ""
    state: str = "active"  # names.EXEMPTION_NOTES: active, lapsed, too-long
    paths: tuple = ()  # the workloads' paths it covers (calls and design docs); () : the PR's checklist alone
    number: int = 0  # the PR it was given on, when another PR that touched the same path (0: this one)


_EXEMPT = re.compile(r"(?i:" + EXEMPT_VERB + r")\s+until\s+(\d{4}-\d{2}-\d{2})\s*:?\s*(.*)", re.S)


def command_line(body: Optional[str]) -> Optional[str]:
    """The words after /batch-review on a comment's first line; None when the comment is no command."""
    first = (body or "").strip().split("\n", 1)[0].strip()
    head, _, rest = first.partition(" ")
    return rest.strip() if head == COMMAND else None


def parse_answers(words: str, threshold: float) -> dict:
    """question -> (value, per_day) from `answer q=v ...` or the visible words ("nobody waits"); {} when none."""
    found = {}
    verb, _, rest = words.partition(" ")
    if verb.lower() == ANSWER_VERB:
        for question, value in _PAIR.findall(rest):
            question, value = question.lower(), value.lower().rstrip(",;.")
            if question not in QUESTION_IDS:
                continue
            if value in ("yes", "no"):
                found[question] = (value, None)
            elif question == "volume" and (per_day := parse_volume(value)) is not None:
                found[question] = (volume_answer(per_day, threshold), per_day)
        return found
    lowered = " ".join(words.lower().replace(",", " ").split())
    for phrase, (question, value) in ANSWER_WORDS.items():
        if re.search(rf"\b{phrase}\b", lowered):
            found[question] = (value, None)
    return found


def role(login: str, association: str, pr_author: str) -> Optional[str]:
    """`author` for the PR's author, `reviewer` for an owner, member or collaborator; None: not counted."""
    if login and login == pr_author:
        return "author"
    return "reviewer" if association in COMMAND_FROM else None


def answers(comments, pr_author: str, threshold: float) -> tuple:
    """The answers the PR's comments give now: the newest per person and question, oldest first."""
    newest = {}
    for comment in comments:
        words = command_line(comment.body)
        who = role(comment.author, comment.association, pr_author) if words is not None else None
        if who is None:
            continue
        for question, (value, per_day) in parse_answers(words, threshold).items():
            newest.pop((comment.author, question), None)  # re-insert: the dict keeps the newest last
            newest[(comment.author, question)] = CommandAnswer(question, value, per_day, comment.author,
                                                               COMMAND_SOURCES[who], comment.url, comment.updated_at)
    return tuple(newest.values())


def newest(*given) -> tuple:
    """Answers of several kinds (comments, the App's buttons) together: per person and question the latest stands."""
    found = {}
    for answer in sorted((answer for group in given for answer in group), key=lambda answer: answer.at):
        found.pop((answer.by, answer.question), None)
        found[(answer.by, answer.question)] = answer
    return tuple(found.values())


def wrong_reason(words: Optional[str]) -> Optional[str]:
    """The reason of a `wrong` command's words (`wrong: reason`); None for any other command."""
    verb, reason = re.match(r"(\w*)\s*:?\s*(.*)", words or "", re.S).groups()
    return reason if verb.lower() == WRONG_VERB else None


def disagreements(comments) -> tuple:
    """`/batch-review wrong: reason` from anyone on the PR, oldest first; the newest per person stands."""
    newest = {}
    for comment in comments:
        reason = wrong_reason(command_line(comment.body))
        if reason is not None and comment.author:
            newest.pop(comment.author, None)
            newest[comment.author] = Disagreement(comment.author, reason.strip()[:500], comment.url, comment.updated_at)
    return tuple(newest.values())


def exemption(comments, max_days: int, today: Optional[date]) -> Optional[Exemption]:
    """The newest exempt command from an owner, member or collaborator, with its state on `today` (None: active)."""
    found = None
    for comment in comments:
        match = _EXEMPT.match(command_line(comment.body) or "")
        if not match or comment.association not in COMMAND_FROM:
            continue
        try:
            until, said = date.fromisoformat(match.group(1)), date.fromisoformat(comment.updated_at[:10])
        except ValueError:
            continue
        state = ("too-long" if until > said + timedelta(days=max_days)
                 else "lapsed" if today is not None and until < today else "active")
        found = Exemption(comment.author, match.group(2).strip()[:300], until.isoformat(), comment.url, state)
    return found


@dataclass(frozen=True)
class Reply:
    """One reply to post: someone's command was not allowed or not understood (`names.REPLIES`)."""

    kind: str  # not-allowed or not-understood
    login: str
    url: str  # the comment (or check run) it answers
    subject: str = "comment"  # names.REPLY_SUBJECTS: comment or button


_REPLIED = re.compile(re.escape(REPLY_MARKER) + r"(\S+) (\S+) -->")


def reply_key(login: str) -> str:
    """A login as our reply's marker names it: GitHub's login characters only, in lower case."""
    return re.sub(r"[^a-z0-9\-\[\]]", "", login.lower()) or "-"


def _fully_understood(words: str, threshold: float) -> bool:
    """Whether every part of an `answer ...` command, or some of the visible words, gave an answer."""
    verb, _, rest = words.partition(" ")
    found = parse_answers(words, threshold)
    if verb.lower() != ANSWER_VERB:
        return bool(found)
    pairs = _PAIR.findall(rest)
    return bool(found) and len(found) == len(pairs) and not _PAIR.sub("", rest).replace(",", " ").strip()


def judge(comment, pr_author: str, threshold: float) -> Optional[str]:
    """How a comment's command is taken: taken, not-understood or not-allowed; None when it is no command.

    `wrong` is open to anyone; everything else (answers, exemptions, a bare re-run) needs the PR's
    author or an owner, member or collaborator, and an exemption an owner, member or collaborator.
    """
    words = command_line(comment.body)
    if words is None:
        return None
    if wrong_reason(words) is not None:
        return "taken"
    who = role(comment.author, comment.association, pr_author)
    if who is None:
        return "not-allowed"
    if not words:
        return "taken"  # `/batch-review` alone: review again
    if words.partition(" ")[0].lower() == EXEMPT_VERB:
        if not _EXEMPT.match(words):
            return "not-understood"
        return "taken" if comment.association in COMMAND_FROM else "not-allowed"
    return "taken" if _fully_understood(words, threshold) else "not-understood"


def reactions(comments, pr_author: str, threshold: float, identity: str) -> tuple:
    """(comment, reaction) for each command of someone else's: `+1` when taken, `confused` when not understood."""
    found = []
    for comment in comments:
        verdict = judge(comment, pr_author, threshold) if comment.author != identity else None
        if verdict in REACTIONS:
            found.append((comment, REACTIONS[verdict]))
    return tuple(found)


def replied(comments, identity: str) -> set:
    """(kind, reply_key) of every reply of ours already on the PR."""
    return {(kind, login) for comment in comments if comment.author == identity
            for kind, login in _REPLIED.findall(comment.body or "")}


def replies(comments, pr_author: str, threshold: float, identity: str, clicks=()) -> tuple:
    """The replies still owed: one per person and kind (not-allowed, not-understood) on the PR, ever.

    `clicks` are Reply values for the App's check run buttons clicked by someone who may not answer.
    """
    done, owed = replied(comments, identity), []
    wanted = [Reply(verdict, comment.author, comment.url) for comment in comments if comment.author != identity
              and comment.author and (verdict := judge(comment, pr_author, threshold)) in ("not-allowed", "not-understood")]
    for reply in (*wanted, *clicks):
        if (reply.kind, reply_key(reply.login)) not in done:
            done.add((reply.kind, reply_key(reply.login)))
            owed.append(reply)
    return tuple(owed)
