"""The daily purge: review history older than BATCH_REVIEW_RETENTION_DAYS is deleted.

A scheduler thread records one purge task per day (at start-up too) under that day's delivery id,
so across all machines the first server to record it wins and one worker runs it, as for the
redelivery sweep. The purge deletes reviews (with the PR text and quotes in them), their diff
scans, the PR-derived cached values, label sets and delivery ids older than the retention; never
a queued task, the usage the metric counts, or the monthly report's record.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from bot.app import periodic

log = logging.getLogger(__name__)

KIND = "purge"  # the pending task's kind; one row (no repo, no subject)
EVERY_SECONDS = 24 * 3600.0
DAY = 24 * 3600.0


def purge(store, days: int, now: float = None) -> dict:
    """Delete what is older than `days`; how many of each, logged."""
    now = time.time() if now is None else now
    deleted = store.purge(before=now - days * DAY)
    log.info("retention: deleted %s older than %d days", ", ".join(f"{n} {what}" for what, n in deleted.items()), days)
    return deleted


def schedule(store, wake: Callable, stop: threading.Event, *, every: float = EVERY_SECONDS) -> None:
    """Queue the purge of each period of `every` s (a day), once across servers: now, then at each period's start."""
    periodic.schedule("the retention purge", store, wake, stop,
                      lambda: (f"{KIND}:{int(time.time() // every)}", periodic.one_row(KIND)),
                      periodic.aligned(every, time.time))


def with_purges(work: Callable, store, days: int) -> Callable:
    """`work` that also runs the purge tasks, keeping `days` of history."""

    return periodic.handling(work, KIND, lambda lease: purge(store, days))
