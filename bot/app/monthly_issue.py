"""The monthly report issue: last month's report, opened once per month.

A scheduler thread records one task per month in the store's queue (its delivery id is the month, so
servers sharing a database record it once); a worker opens the issue through the installation that
covers the repository, and the store remembers that it did (an issue already there is found again).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone
from typing import Callable

from bot.app import periodic
from bot.app.events import Task
from bot.app.store import METRIC_REPORTS
from bot.core.config import ConfigError
from bot.metric import source as metric_source
from bot.metric import view as metric_view
from bot.metric.compute import month_key, parse_month, previous_month

log = logging.getLogger(__name__)

KIND = METRIC_REPORTS  # the pending task's kind and the cache's: subject/key is the month (YYYY-MM)
CHECK_SECONDS = 3600.0


def due_month(now: datetime) -> str:
    """The month whose report is due: the last full one."""

    return month_key(previous_month(now.date()))


def schedule(store, config_of: Callable, wake: Callable, stop: threading.Event, *,
             every: float = CHECK_SECONDS, clock: Callable[[], float] = time.time) -> threading.Thread:
    """Start the thread that queues the report task when `metric.report_repo` is set (checked every `every` s)."""

    def due():
        try:
            repo = config_of().metric.report_repo
        except ConfigError as error:
            log.warning("cannot queue the monthly report: %s", error)
            return None
        month = due_month(datetime.fromtimestamp(clock(), timezone.utc))
        if repo and store.cache_get(KIND, month) is None:
            return f"{KIND}:{month}", Task(KIND, 0, repo, month)
        return None

    return periodic.schedule("the monthly report", store, wake, stop, due, lambda: every)


def with_reports(work: Callable, store, github, config_of: Callable) -> Callable:
    """`work` that also opens the monthly report issue (tasks of kind KIND) through `github` (a GitHubApp)."""

    def open_report(lease):
        if store.cache_get(KIND, lease.subject) is not None:
            return
        month = parse_month(lease.subject)
        figures = metric_source.from_store(store, config_of(), focus=month, through=month)
        url = github.installation_for(lease.repo).open_issue(
            lease.repo, metric_view.report_title(figures), metric_view.report(figures),
            metric_view.report_marker(figures))
        store.cache_put(KIND, lease.subject, {"url": url, "repo": lease.repo})
        log.info("the report for %s is at %s", lease.subject, url)

    return periodic.handling(work, KIND, open_report)
