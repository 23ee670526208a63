"""The App's Prometheus metrics: `GET /metrics`; `app worker --metrics-port N`.

Under gunicorn with several processes, set PROMETHEUS_MULTIPROC_DIR (an empty directory) and run with
`-c python:bot.app.gunicorn_conf`: each process writes its figures there and `/metrics` adds them up.
The queue's figures are read from the database at each scrape.
"""

from __future__ import annotations

import os
import time
from typing import Optional

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from bot.app.events import EVENTS

KNOWN_EVENTS = frozenset(EVENTS + ("ping", "installation", "installation_repositories"))
REFUSALS = {400: "refused", 401: "unsigned", 413: "too-large"}  # answers without a JSON status

DELIVERIES = Counter("batch_review_deliveries", "Webhook deliveries by event and outcome "
                     "(queued, duplicate, ignored, refused, unsigned, too-large)", ["event", "outcome"])
ACK_SECONDS = Histogram("batch_review_ack_seconds", "Time to answer a webhook delivery",
                        buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5))
TASKS = Counter("batch_review_tasks", "Tasks workers ended, by kind and outcome "
                "(done, unreadable: the repository's content, retried, failed: given up)", ["kind", "outcome"])
TASK_SECONDS = Histogram("batch_review_task_seconds", "Time a worker spent on a task", ["kind"],
                         buckets=(.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300))
GITHUB_ANSWERS = Counter("batch_review_github_answers", "GitHub API answers by method and status", ["method", "status"])
RATE_LIMIT_REMAINING = Gauge("batch_review_github_rate_limit_remaining",
                             "Requests left in an installation's hourly budget, as GitHub last said",
                             ["installation"], multiprocess_mode="mostrecent")

SWEEP_REDELIVERIES = Counter("batch_review_sweep_redeliveries", "Missed deliveries the sweep asked GitHub to send "
                             "again (asked), or could not (refused); unlisted: sweeps that could not list them",
                             ["result"])


def delivered(event: str, status: int, answer: Optional[str], seconds: float) -> None:
    """Count a webhook answer (`answer`: its JSON status); events outside the handled ones count as "other"."""
    outcome = REFUSALS.get(status) or answer or str(status)
    DELIVERIES.labels(event if event in KNOWN_EVENTS else "other", outcome).inc()
    ACK_SECONDS.observe(seconds)


def task_ended(kind: str, outcome: str, seconds: float) -> None:
    TASKS.labels(kind, outcome).inc()
    TASK_SECONDS.labels(kind).observe(seconds)


def github_answered(method: str, status: int) -> None:
    GITHUB_ANSWERS.labels(method, str(status)).inc()


class Queue:
    """The queue's figures, read from the store at each scrape."""

    def __init__(self, store):
        self.store = store

    def collect(self):
        depth = GaugeMetricFamily("batch_review_queue_rows", "Rows in the queue by state", labels=["state"])
        for state, count in self.store.counts().items():
            depth.add_metric([state], count)
        yield depth
        since = self.store.waiting_since()
        yield GaugeMetricFamily("batch_review_oldest_pending_seconds", "How long the oldest due row has waited",
                                value=0.0 if since is None else max(0.0, time.time() - since))


def exposition(store) -> bytes:
    """The text of `GET /metrics`: this process's figures (every process's under PROMETHEUS_MULTIPROC_DIR) and the queue's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    queue = CollectorRegistry()
    queue.register(Queue(store))
    return generate_latest(processes) + generate_latest(queue)
