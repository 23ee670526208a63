"""Lapsed exemptions: once a day, one issue per workload whose exemption ended.

A scheduler thread records one task per UTC day in the store's queue (its delivery id is the day, so
servers sharing a database record it once, and one worker runs it). The worker reads each PR's kept
exemption (the store's cache, kind `exemptions`), finds per workload (repository and path) the one
that stands, and for each that ended and was not told yet opens, or updates, the repository's open
issue "Exemption expired: PATH" through the installation that covers it, then remembers the lapse
(kind `exemption-expired`): never twice for the same lapse. An issue left from an earlier run is found
again by its title and marker, so a crash between the write and the memory makes no second issue.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import defaultdict
from datetime import date, datetime, timezone
from typing import Callable

from bot.app import periodic
from bot.app.events import Task
from bot.app.store import EXEMPTIONS, EXPIRED
from bot.app.work import rollout
from bot.clients.github import GitHubError
from bot.core import exemptions
from bot.core.config import serves

log = logging.getLogger(__name__)

KIND = EXPIRED  # the pending task's kind (subject: the day) and the cache's (key: repo#workload)
CHECK_SECONDS = 3600.0
TOLD_WITHIN_DAYS = 30  # a lapse older than this when first seen (the App was off, or just installed) is not told


def schedule(store, wake: Callable, stop: threading.Event, *, every: float = CHECK_SECONDS,
             clock: Callable[[], float] = time.time) -> threading.Thread:
    """Start the thread that queues one task per UTC day (checked every `every` s)."""

    def due():
        day = datetime.fromtimestamp(clock(), timezone.utc).date().isoformat()
        return f"{KIND}:{day}", Task(KIND, 0, "", day)

    return periodic.schedule("the lapsed exemptions", store, wake, stop, due, lambda: every)


def standings(store) -> list:
    """Every repository's exemptions per workload, from each PR's kept exemption."""
    by_repo = defaultdict(list)
    for key, value in store.cache_prefix(EXEMPTIONS).items():
        by_repo[key.rpartition("#")[0]].append(value)
    return [found for repo in sorted(by_repo) for found in exemptions.standing(repo, by_repo[repo])]


def tell(store, github, today: date) -> int:
    """Open or update the issue of each lapse not told yet; how many were told. A repository GitHub refuses, or
    that the organisation keeps in shadow mode or out of `repositories`, is tried again the next day."""
    found = standings(store)
    told = store.cache_values(KIND, {exemptions.told_key(s) for s in found})
    done = 0

    @functools.cache  # a repository with several lapses: its installation and settings are read once a run
    def reached(repo: str) -> tuple:
        gh = github.installation_for(repo)
        org = rollout(gh.read_text, repo)
        return gh, "shadow mode" if org.mode == "shadow" else None if serves(org, repo) else "not served"

    for lapsed in exemptions.to_tell(found, told, today, TOLD_WITHIN_DAYS):
        title, body, marker = exemptions.expired_issue(lapsed)
        try:
            gh, held_back = reached(lapsed.repo)
            if held_back:  # told once it is live, if still recent
                log.info("%s: the exemption of %s ended; not told (%s)", lapsed.repo, lapsed.workload, held_back)
                continue
            url = gh.upsert_issue(lapsed.repo, title, body, marker)
        except GitHubError as error:
            log.warning("cannot tell %s that the exemption of %s ended: %s", lapsed.repo, lapsed.workload, error)
            continue
        store.cache_put(KIND, exemptions.told_key(lapsed), {"until": lapsed.until, "url": url})
        log.info("%s: the exemption of %s ended on %s: %s", lapsed.repo, lapsed.workload, lapsed.until, url)
        done += 1
    return done


def with_expiries(work: Callable, store, github) -> Callable:
    """`work` that also runs the daily task (kind KIND) through `github` (a GitHubApp)."""

    return periodic.handling(work, KIND, lambda lease: tell(store, github, date.fromisoformat(lease.subject)))
