"""The App's Prometheus metrics: GET /metrics behind the dashboard token, and a worker process's own port."""

import os
import socket
import subprocess
import sys

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from bot.app.server import create_app
from bot.app.store import PENDING, Store
from bot.core.names import DASHBOARD_REFUSALS
from tests.app_support import INSTALLATION, REPO, deliver, github_with_app, pr_event, private_key, serving, wait_until
from tests.conftest import ROOT
from tests.databases import sqlite_url  # noqa: F401  (a fixture)
from tests.test_app_github import app_config, open_pr

TOKEN = "metrics-token-0123456789"


@pytest.fixture
def github():
    with github_with_app(pulls=(2, 3)) as fake:
        yield fake


def samples(text: str) -> dict:
    """(name, sorted labels) -> value, for every sample of a Prometheus text page."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def scrape(url: str) -> dict:
    answer = requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/plain")
    return samples(answer.text)


def test_metrics_count_deliveries_reviews_github_answers_and_the_queue(github, sqlite_url):
    app = create_app(app_config(github, sqlite_url, DASHBOARD_TOKEN=TOKEN))
    with serving(app) as url:
        store = app.extensions["batch-review"].store
        assert requests.get(f"{url}/metrics").status_code == 401
        assert requests.get(f"{url}/metrics?token={TOKEN}").text.strip() == DASHBOARD_REFUSALS["query"]
        before = scrape(url)
        open_pr(url)
        deliver(url, "pull_request", pr_event(repo=REPO, installation=INSTALLATION), secret="wrong")
        deliver(url, "pull_request", b"{not json")
        wait_until(lambda: store.counts()[PENDING] == 0 and store.history(), what="the review")
        after = scrape(url)

    def grew(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("batch_review_deliveries_total", event="pull_request", outcome="queued") == 1
    assert grew("batch_review_deliveries_total", event="pull_request", outcome="unsigned") == 1
    assert grew("batch_review_deliveries_total", event="pull_request", outcome="refused") == 1
    assert grew("batch_review_ack_seconds_count") == 3
    assert grew("batch_review_tasks_total", kind="review", outcome="done") == 1
    assert grew("batch_review_task_seconds_count", kind="review") == 1
    assert grew("batch_review_github_answers_total", method="GET", status="200") > 3
    assert grew("batch_review_github_answers_total", method="POST", status="201") >= 1  # comment, check run
    assert 0 < after[("batch_review_github_rate_limit_remaining", (("installation", str(INSTALLATION)),))] < 5000
    assert after[("batch_review_queue_rows", (("state", "pending"),))] == 0
    assert after[("batch_review_queue_rows", (("state", "failed"),))] == 0
    assert after[("batch_review_oldest_pending_seconds", ())] == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_worker_process_serves_its_metrics_on_its_own_port(github, sqlite_url):
    from bot.app.events import REVIEW, Task

    store = Store(sqlite_url)
    store.record("d1", "pull_request", [Task(REVIEW, INSTALLATION, REPO, "3")])
    port = free_port()
    env = {**os.environ, "GITHUB_APP_ID": "12345", "GITHUB_APP_PRIVATE_KEY": private_key(),
           "GITHUB_API_URL": github.base_url, "DATABASE_URL": sqlite_url, "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen([sys.executable, "-m", "bot.cli", "app", "worker", "--threads", "1", "--metrics-port",
                               str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert worker.stdout.readline().startswith(b"batch-review workers")
        wait_until(lambda: store.counts()[PENDING] == 0, what="the worker's review")
        found = samples(requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text)
        assert found[("batch_review_tasks_total", (("kind", "review"), ("outcome", "done")))] == 1
    finally:
        worker.terminate()
        worker.wait(30)
        store.close()
