"""GitHub's secondary limits per installation, shared by every worker on every machine.

Each write an installation's client sends is counted in the store as GitHub answers it. Before a task, the
installation's budgets are read: when one is spent, the task and every pending row of that installation wait for
its window to end. Tasks already running when a budget runs out may overshoot it by a few writes; GitHub's own
403 (or 429) then makes the installation's rows wait as its `Retry-After` says. Waiting uses no attempt and holds
no other installation back.
"""

from __future__ import annotations

import time
from typing import Callable, Mapping, Optional

from bot.app.store import Lease, Store, window_start
from bot.app.worker import Wait
from bot.clients.github import RateLimited

SECONDARY_WAIT = 60.0  # GitHub's advice when a secondary limit answer gives no Retry-After


def opens_at(budgets: Mapping[int, int], writes: Mapping[int, int], now: float) -> Optional[float]:
    """When every spent budget's window has ended (Unix time); None when no budget is spent."""
    ends = [window_start(now, window) + window for window, limit in budgets.items() if writes.get(window, 0) >= limit]
    return max(ends, default=None)


class Budgets:
    """Each installation's write budgets (window seconds -> writes: the GITHUB_WRITE_BUDGETS setting), counted in `store`."""

    def __init__(self, store: Store, budgets: Mapping[int, int], clock: Callable[[], float] = time.time):
        self.store, self.budgets, self.clock = store, dict(budgets), clock

    def count(self, installation_id: int) -> None:
        self.store.count_write(installation_id, self.budgets, self.clock())

    def opens_at(self, installation_id: int) -> Optional[float]:
        now = self.clock()
        return opens_at(self.budgets, self.store.writes(installation_id, self.budgets, now), now)

    def check(self, installation_id: int) -> None:
        """Wait (raised) while a budget of the installation is spent: before a task, and before each write of a
        task that writes many times (an onboarding pull request), so that it never runs past the budget."""
        if (until := self.opens_at(installation_id)) is not None:
            raise Wait(until, f"installation {installation_id} spent its GitHub write budget")


def with_budgets(work: Callable[[Lease], Optional[dict]], budgets: Budgets) -> Callable[[Lease], Optional[dict]]:
    """`work`, run only while the lease's installation has budget left; GitHub's rate limit answer makes it wait."""

    def budgeted(lease: Lease) -> Optional[dict]:
        budgets.check(lease.installation_id)
        try:
            return work(lease)
        except RateLimited as error:
            raise Wait(budgets.clock() + (error.retry_after or SECONDARY_WAIT), str(error)) from error

    return budgeted
