"""Exemptions belong to the workload: a repository's path of a call or design doc (pure).

A PR's own `/batch-review exempt` (bot.core.commands) covers the paths of its workloads; each PR's
exemption is kept as an *entry* (the App's store, the Action's sticky comment), and the entries of
a repository say, per path, which exemption stands: a later PR that changes the path inherits it
while it runs, and is told when it lapsed.
"""

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Iterable, Optional

from bot.core.commands import Exemption
from bot.core.names import EXPIRED_BODY, EXPIRED_MARKER, EXPIRED_TITLE
from bot.core.workload import PR_SOURCE

STORE_KIND = "exemptions"  # the App's cache: key "owner/name#number", value the PR's `entry` ({} without one)


@dataclass(frozen=True)
class Standing:
    """The exemption that stands for one workload: a repository's path ("": a PR without call or doc)."""

    repo: str
    path: str
    by: tuple  # the logins who asked for it (GitHub's comment authors), in order
    reason: str
    until: str  # YYYY-MM-DD, the last day it runs
    url: str  # the command's comment
    numbers: tuple  # the PRs it was given on

    def active(self, today: date) -> bool:
        return date.fromisoformat(self.until) >= today

    @property
    def workload(self) -> str:
        """The path, or the PR for an exemption of a checklist alone."""
        return self.path or f"#{self.numbers[0]}"


def paths_of(review) -> tuple:
    """The paths of a review's workloads: its calls' files and its design docs, in order."""
    found = [call.path for workload in review.workloads for call in workload.hints]
    found += [workload.source for workload in review.workloads if workload.source != PR_SOURCE]
    return tuple(dict.fromkeys(found))


def entry(exemption: Optional[Exemption], number: int) -> Optional[dict]:
    """What to keep of a PR's own exemption, running or lapsed (none refused, none inherited)."""
    if exemption is None or exemption.number or exemption.state == "too-long":
        return None
    return {"by": exemption.by, "reason": exemption.reason, "until": exemption.until, "url": exemption.url,
            "paths": list(exemption.paths), "number": number}


def _valid(value) -> bool:
    try:
        return (isinstance(value, dict) and isinstance(value.get("by"), str) and isinstance(value.get("number"), int)
                and bool(date.fromisoformat(value["until"])) and all(isinstance(p, str) for p in value.get("paths", ())))
    except (KeyError, TypeError, ValueError):
        return False


def standing(repo: str, entries: Iterable) -> tuple:
    """Per path of `repo`, the exemption that runs longest among the `entries` (each PR's `entry`; anything else
    is skipped), and everyone who asked for one ending that day; sorted by path."""
    by_path: dict = {}
    for value in entries:
        if not _valid(value):
            continue
        for path in value.get("paths") or ("",):
            key = (path, value["number"] if not path else 0)
            kept = by_path.get(key)
            if kept is None or value["until"] > kept.until:
                by_path[key] = Standing(repo, path, (value["by"],), str(value.get("reason", "")), value["until"],
                                        str(value.get("url", "")), (value["number"],))
            elif value["until"] == kept.until:
                by_path[key] = replace(kept, by=tuple(dict.fromkeys(kept.by + (value["by"],))),
                                       numbers=tuple(dict.fromkeys(kept.numbers + (value["number"],))))
    return tuple(sorted(by_path.values(), key=lambda s: (s.path, s.numbers)))


def inherited(standings: Iterable[Standing], changed: Iterable[str], number: int, today: date,
              shown_days: int) -> Optional[Exemption]:
    """The exemption another PR gave for a path this PR changes: one that runs (the longest), else one that ended
    within `shown_days` (the latest), as this PR's Exemption; None without any."""
    changed = set(changed)
    found = [s for s in standings if s.path and s.path in changed and number not in s.numbers]
    running = [s for s in found if s.active(today)]
    ended = [s for s in found if not s.active(today)
             and date.fromisoformat(s.until) + timedelta(days=shown_days) >= today]
    chosen = max(running or ended, key=lambda s: (s.until, s.path), default=None)
    if chosen is None:
        return None
    return Exemption(", ".join(chosen.by), chosen.reason, chosen.until, chosen.url,
                     "active" if running else "lapsed", (chosen.path,), chosen.numbers[0])


_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")  # a GitHub user's login


def to_tell(standings: Iterable[Standing], told: dict, today: date, within_days: int) -> tuple:
    """The exemptions that ended (at most `within_days` ago) whose lapse is not told yet: `told` maps
    `told_key` to what was last told ({"until": ...})."""
    return tuple(s for s in standings if not s.active(today)
                 and date.fromisoformat(s.until) + timedelta(days=within_days) >= today
                 and (told.get(told_key(s)) or {}).get("until") != s.until)


def told_key(standing_: Standing) -> str:
    return f"{standing_.repo}#{standing_.workload}"


def _quiet(text: str) -> str:
    """Text from a PR, in an issue: no @mention and no #reference (a zero-width space after @ and #)."""
    return re.sub(r"([@#])", r"\1&#8203;", text)


def expired_issue(standing_: Standing) -> tuple:
    """(title, body, marker) of the issue saying a workload's exemption ended. The only mentions are the logins of
    those who asked (GitHub's comment authors); the reason, from a PR comment, mentions nobody."""
    people = [f"@{login}" if _LOGIN.fullmatch(login) else _quiet(login) for login in standing_.by]
    marker = EXPIRED_MARKER.format(workload=standing_.workload.replace("--", "- -"))
    body = EXPIRED_BODY.format(workload=f"`{standing_.workload}`" if standing_.path else f"pull request {standing_.workload}",
                               until=standing_.until, reason=_quiet(standing_.reason or "no reason given"),
                               people=", ".join(people))
    return EXPIRED_TITLE.format(workload=standing_.workload), f"{marker}\n{body}", marker
