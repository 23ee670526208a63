"""The App's periodic tasks (report, lapses, sweep, purge), queued once across all servers.

Every server runs a thread per task that asks what is due: a delivery id naming the period (the month,
the day, the sweep's period) and the task. Servers sharing a database record a delivery id once, so one
worker runs each period's task; a period already recorded costs one insert that does nothing.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Optional

from bot.app.events import Task

log = logging.getLogger(__name__)


def schedule(name: str, store, wake: Callable, stop: threading.Event, due: Callable[[], Optional[tuple]],
             wait: Callable[[], float]) -> threading.Thread:
    """Until `stop`: queue what `due()` gives ((delivery id, Task), or None), then sleep `wait()` seconds."""

    def loop():
        while not stop.is_set():
            try:
                found = due()
                if found and store.record(found[0], found[1].kind, [found[1]]):
                    log.info("%s queued (%s)", name, found[0])
                    wake()
            except Exception:  # the database is unreachable: try again next time
                log.exception("cannot queue %s", name)
            stop.wait(wait())

    thread = threading.Thread(target=loop, name=f"batch-review-{name.replace(' ', '-')}", daemon=True)
    thread.start()
    return thread


def aligned(every: float, clock: Callable[[], float]) -> Callable[[], float]:
    """A `wait` to the start of the next period of `every` seconds."""
    return lambda: every - clock() % every


def one_row(kind: str) -> Task:
    """The task of a kind that runs one at a time (no repository, no subject)."""
    return Task(kind, 0, "", "")


def handling(work: Callable, kind: str, run: Callable) -> Callable:
    """`work` that hands the leases of `kind` to `run(lease)` instead (a periodic task keeps no review)."""

    def dispatch(lease):
        if lease.kind != kind:
            return work(lease)
        run(lease)
        return None

    return dispatch
