"""The redelivery sweep: ask GitHub again for the deliveries the App missed while down.

GitHub does not redeliver a failed delivery by itself. A scheduler thread records one sweep task per
period (and one at start-up) in the queue, so across all machines one worker at a time runs it: it
lists the App's recent deliveries and asks GitHub to redeliver each GUID none of whose attempts
succeeded, unless the database holds it or the App answered it with a 4xx (bad input stays refused).
A redelivery keeps its GUID, so the delivery dedupe holds.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Iterable

from bot.app import metrics, periodic
from bot.clients.github import GitHubError

log = logging.getLogger(__name__)

KIND = "sweep"  # the pending task's kind; one row (no repo, no subject), so one sweep at a time
EVERY_SECONDS = 600.0
MAX_REDELIVERIES = 100  # per sweep; the rest wait for the next one


def to_redeliver(attempts: Iterable[dict], held: set, limit: int = MAX_REDELIVERIES) -> list:
    """The latest attempt of each GUID to ask again for, newest first: no attempt was answered 2xx or 4xx and the
    database does not hold the GUID (`held`)."""
    by_guid: dict = {}
    for attempt in attempts:
        by_guid.setdefault(attempt["guid"], []).append(attempt)
    chosen = [max(tried, key=lambda a: a["id"]) for guid, tried in by_guid.items()
              if guid not in held and not any(200 <= a["status_code"] < 300 or 400 <= a["status_code"] < 500
                                              for a in tried)]
    return sorted(chosen, key=lambda a: a["id"], reverse=True)[:limit]


def sweep(github, store) -> int:
    """One sweep through `github` (a GitHubApp); returns how many deliveries GitHub was asked to send again.

    When GitHub cannot list them, the sweep is over: the next one tries again (not a failed task).
    """
    try:
        listed = github.deliveries()
    except GitHubError as error:
        log.warning("redelivery sweep: %s; the next sweep tries again", error)
        metrics.SWEEP_REDELIVERIES.labels("unlisted").inc()
        return 0
    chosen = to_redeliver(listed, store.held({attempt["guid"] for attempt in listed}))
    asked = 0
    for attempt in chosen:
        try:
            github.redeliver(attempt["id"])
            asked += 1
        except GitHubError as error:
            log.warning("cannot redeliver %s (%s %s): %s", attempt["guid"], attempt["event"], attempt["action"], error)
    metrics.SWEEP_REDELIVERIES.labels("asked").inc(asked)
    metrics.SWEEP_REDELIVERIES.labels("refused").inc(len(chosen) - asked)
    log.info("redelivery sweep: %d attempts listed, %d GUIDs missed, %d redeliveries asked", len(listed),
             len(chosen), asked)
    return asked


def schedule(store, wake: Callable, stop: threading.Event, *, every: float = EVERY_SECONDS, start: str) -> None:
    """Queue a sweep now (`start`: this process, so each start-up sweeps) and once per `every` s across servers."""
    first = [f"{KIND}:start:{start}"]

    def due():
        return (first.pop() if first else f"{KIND}:{int(time.time() // every)}"), periodic.one_row(KIND)

    periodic.schedule("the redelivery sweep", store, wake, stop, due, periodic.aligned(every, time.time))


def with_sweeps(work: Callable, store, github) -> Callable:
    """`work` that also runs the sweep tasks."""

    return periodic.handling(work, KIND, lambda lease: sweep(github, store))
