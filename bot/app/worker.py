"""Workers: lease a pending row, do its work, then finish, retry or give up."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Callable, Optional

import psutil

from bot.app import metrics
from bot.app.store import Lease, Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6  # leases of one row before it is kept as failed
RETRY_SECONDS = 30.0  # first wait after a failure; it doubles, up to RETRY_CAP
RETRY_CAP = 15 * 60.0
LEASE_SECONDS = 30.0  # a lease its process stops renewing is taken by any live worker after this
HEARTBEATS = 6  # renewals of a process's leases per LEASE_SECONDS while it runs
POLL_SECONDS = 1.0  # an idle worker looks again after this, woken or not (other processes queue too)
DELIVERIES_KEPT = 30 * 24 * 3600.0  # GitHub redelivers only recent deliveries
ERROR_CHARS = 2000


class ContentError(Exception):
    """The repository's content cannot be reviewed (a config or file the review chokes on): no worker failure.

    It is kept in the history with its reason, never retried and never counted by /healthz.
    """


class Wait(Exception):
    """GitHub's write budget of the lease's installation is spent: its rows wait until `until` (Unix time).

    No failure: the row's attempt is given back; other installations' rows go on.
    """

    def __init__(self, until: float, reason: str):
        super().__init__(reason)
        self.until = until


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_CHARS]


def process_identity(host: str) -> str:
    """host:pid:start time, which tells a restarted process (same host, maybe the same pid) from the dead one."""
    me = psutil.Process()
    return f"{host}:{me.pid}:{me.create_time():.2f}"


def gone(owner: str, host: str) -> bool:
    """Whether the lease owner `owner` (process identity:thread) ran on `host` and runs no more."""
    try:
        owner_host, pid, started, _ = owner.rsplit(":", 3)
        return owner_host == host and f"{psutil.Process(int(pid)).create_time():.2f}" != started
    except psutil.NoSuchProcess:
        return True
    except (ValueError, psutil.Error):  # another version's owner, or a process we may not look at
        return False


def backoff(attempts: int, first: float = RETRY_SECONDS, cap: float = RETRY_CAP) -> float:
    """Seconds to wait after the `attempts`-th failed attempt."""
    return min(cap, first * 2 ** (attempts - 1))


class Workers:
    """Worker threads sharing one store; `work(lease)` returns a review to keep in the history, or None.

    Several processes (and machines, on PostgreSQL) can run their own `Workers` on one database. A
    heartbeat renews the process's leases; on start, the leases of this host's dead processes are freed.
    """

    def __init__(self, store: Store, work: Callable[[Lease], Optional[dict]], count: int, *,
                 lease_seconds: float = LEASE_SECONDS, poll_seconds: float = POLL_SECONDS,
                 max_attempts: int = MAX_ATTEMPTS, retry_seconds: float = RETRY_SECONDS):
        self.store, self.work, self.count = store, work, count
        self.lease_seconds, self.poll_seconds = lease_seconds, poll_seconds
        self.max_attempts, self.retry_seconds = max_attempts, retry_seconds
        self.stopping = threading.Event()
        self._wake = threading.Event()
        self._threads: list = []
        self._heartbeat = threading.Thread(target=self._renew, name="batch-review-heartbeat", daemon=True)
        self._pruned_at = 0.0

    def start(self) -> "Workers":
        host = socket.gethostname()
        self.process = process_identity(host)
        dead = {owner for owner in self.store.lease_owners(host) if gone(owner, host)}
        if dead:
            log.info("took back %d row(s) from %d dead worker(s) on %s", self.store.release(dead), len(dead), host)
        for index in range(self.count):
            thread = threading.Thread(target=self.run, args=(f"{self.process}:{index}",),
                                      name=f"batch-review-worker-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        if self.count:
            self._heartbeat.start()
        return self

    def _renew(self) -> None:
        """Renew this process's leases every LEASE_SECONDS / HEARTBEATS until stopped."""
        while not self.stopping.wait(self.lease_seconds / HEARTBEATS):
            try:
                self.store.renew(self.process, time.time() + self.lease_seconds)
            except Exception:  # the database is unreachable: the next beat tries again
                log.exception("cannot renew the leases of %s", self.process)

    def wake(self) -> None:
        """Tell idle workers that something was queued."""
        self._wake.set()

    def stop(self, timeout: Optional[float] = None) -> None:
        self.stopping.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        if self._heartbeat.is_alive():
            self._heartbeat.join(timeout)

    def alive(self) -> int:
        return sum(thread.is_alive() for thread in self._threads)

    def run(self, owner: str) -> None:
        """Work until stopped; wait for a wake-up (or `poll_seconds`) whenever nothing is due."""
        while not self.stopping.is_set():
            try:
                busy = self.step(owner)
            except Exception:  # the database is unreachable: wait, then try again
                log.exception("worker %s cannot reach the database", owner)
                busy = False
            if not busy:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    def step(self, owner: str) -> bool:
        """Lease one due row and handle it; False when nothing was due."""
        lease = self.store.lease(owner, self.lease_seconds)
        if lease is None:
            self._forget_old_deliveries()
            return False
        if lease.attempts > self.max_attempts:  # its workers died each time
            self.store.fail(lease, f"no worker finished it in {self.max_attempts} attempts; "
                                   f"last error: {lease.last_error or 'none (the workers stopped)'}")
            return True
        started, outcome = time.monotonic(), "done"
        try:
            review = self.work(lease)
        except ContentError as error:
            log.warning("%s %s %s: the repository's content cannot be reviewed: %s", lease.kind, lease.repo,
                        lease.subject, error)
            review, outcome = {"error": str(error)}, "unreadable"
        except Wait as wait:
            log.info("%s %s %s waits %.0f s: %s", lease.kind, lease.repo, lease.subject, wait.until - time.time(), wait)
            self.store.postpone(lease, wait.until)
            outcome = "waiting"
            return True
        except Exception as error:
            message = describe(error)
            log.warning("%s %s %s failed (attempt %d of %d): %s", lease.kind, lease.repo, lease.subject,
                        lease.attempts, self.max_attempts, message, exc_info=True)
            if lease.attempts >= self.max_attempts:
                self.store.fail(lease, message)
                outcome = "failed"
            else:
                self.store.retry(lease, message, time.time() + backoff(lease.attempts, self.retry_seconds))
                outcome = "retried"
            return True
        finally:
            metrics.task_ended(lease.kind, outcome, time.monotonic() - started)
        self.store.finish(lease, review)
        return True

    def _forget_old_deliveries(self) -> None:
        now = time.time()
        if now - self._pruned_at > 3600:
            self._pruned_at = now
            self.store.forget_deliveries(now - DELIVERIES_KEPT)
