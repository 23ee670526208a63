"""The App across processes: killed with work queued and started again, and two servers sharing one database."""

import os
import signal
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from bot.app.store import PENDING, Store
from tests.app_support import INSTALLATION, REPO, SECRET, deliver, github_with_app, pr_event, private_key, wait_until
from tests.conftest import ROOT
from tests.databases import database_url, postgres_database  # noqa: F401  (fixtures)

PULLS = "/repos/{owner}/{repo}/pulls/{pull_number}"


@pytest.fixture
def github():
    with github_with_app(range(1, 6)) as fake:
        yield fake


@contextmanager
def app_process(mode, github, database_url, workers, lease_seconds=600.0):
    """`python -m tests.app_process MODE` with the App's settings; yields (process, base URL or None)."""
    env = {**os.environ, "GITHUB_APP_ID": "12345", "GITHUB_APP_PRIVATE_KEY": private_key(),
           "GITHUB_WEBHOOK_SECRET": SECRET, "GITHUB_API_URL": github.base_url, "DATABASE_URL": database_url,
           "BATCH_REVIEW_WORKERS": str(workers), "TEST_LEASE_SECONDS": str(lease_seconds), "PYTHONPATH": str(ROOT)}
    env.pop("GITHUB_APP_PRIVATE_KEY_PATH", None)
    process = subprocess.Popen([sys.executable, "-m", "tests.app_process", mode], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith(("PORT", "WORKING")), f"the app process did not start: {line!r}"
        yield process, f"http://127.0.0.1:{line.split()[1]}" if line.startswith("PORT") else None
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(30)


def reviewed(github, store):
    return store.counts()[PENDING] == 0 and all(
        any(run["head_sha"] == pull.head_sha for run in github.repos[REPO].check_runs)
        for pull in github.repos[REPO].pulls.values())


def test_a_server_killed_with_work_queued_loses_nothing_when_started_again(github, tmp_path):
    url_of_db = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    stalled, release = threading.Event(), threading.Event()

    def stall(_fake):
        stalled.set()
        release.wait(30)

    github.before("GET", PULLS, stall)  # the first review hangs, mid-way, until the server is dead
    deliveries = [str(uuid.uuid4()) for _ in range(5)]
    with app_process("serve", github, url_of_db, workers=1) as (process, url):  # a 10-minute lease
        for number, delivery in enumerate(deliveries, start=1):
            answer = deliver(url, "pull_request", pr_event(repo=REPO, number=number, installation=INSTALLATION),
                             delivery=delivery)
            assert answer.status_code == 202
        assert stalled.wait(30)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    release.set()
    assert not github.repos[REPO].check_runs  # nothing was finished before the kill
    store = Store(url_of_db)
    assert store.counts()[PENDING] == 5
    with app_process("serve", github, url_of_db, workers=2) as (_, url):  # frees the dead process's row at once
        wait_until(lambda: reviewed(github, store), timeout=30, what="every PR reviewed after the restart")
        assert deliver(url, "pull_request", pr_event(repo=REPO, number=1, installation=INSTALLATION),
                       delivery=deliveries[0]).json()["status"] == "duplicate"
    for number in range(1, 6):
        assert len(github.comments(REPO, number)) == 1
    assert sorted(row["number"] for row in store.history()) == [1, 2, 3, 4, 5]
    store.close()


def test_two_servers_sharing_a_database_review_a_pr_once(github, database_url):
    events = ["opened", "reopened", "labeled", "unlabeled", "synchronize"] * 2
    with app_process("serve", github, database_url, workers=0) as (_, first), \
            app_process("serve", github, database_url, workers=0) as (_, second):
        servers = [first, second] * 5
        with ThreadPoolExecutor(10) as pool:
            answers = list(pool.map(
                lambda pair: deliver(pair[0], "pull_request", pr_event(pair[1], repo=REPO, number=2,
                                                                        installation=INSTALLATION)),
                zip(servers, events)))
        assert [answer.status_code for answer in answers] == [202] * 10
        redelivered = str(uuid.uuid4())  # GitHub's redelivery may reach the other server
        same = [deliver(server, "pull_request", pr_event(repo=REPO, number=2, installation=INSTALLATION),
                        delivery=redelivered).json()["status"] for server in (first, second)]
        assert same == ["queued", "duplicate"]
        store = Store(database_url)
        assert store.counts()[PENDING] == 1
        with app_process("work", github, database_url, workers=2), app_process("work", github, database_url, workers=2):
            wait_until(lambda: store.counts()[PENDING] == 0 and github.repos[REPO].check_runs, what="the review")
    assert len(github.comments(REPO, 2)) == 1
    assert [row["number"] for row in store.history()] == [2]
    store.close()


def test_when_one_of_two_servers_on_postgresql_is_killed_the_other_finishes_its_rows(github, postgres_database):
    from tests.databases import _empty_postgres

    _empty_postgres(postgres_database)
    stalled, release = threading.Event(), threading.Event()

    def stall(_fake):
        stalled.set()
        release.wait(30)

    github.before("GET", PULLS, stall)  # the first review hangs until its server is dead
    with app_process("serve", github, postgres_database, workers=1, lease_seconds=2.0) as (doomed, url):
        for number in range(1, 6):
            assert deliver(url, "pull_request", pr_event(repo=REPO, number=number,
                                                         installation=INSTALLATION)).status_code == 202
        assert stalled.wait(30)
        with app_process("work", github, postgres_database, workers=1, lease_seconds=2.0):
            doomed.send_signal(signal.SIGKILL)
            doomed.wait(30)
            release.set()
            store = Store(postgres_database)
            wait_until(lambda: reviewed(github, store), timeout=30, what="the survivor finishing every row")
    for number in range(1, 6):
        assert len(github.comments(REPO, number)) == 1
    store.close()
