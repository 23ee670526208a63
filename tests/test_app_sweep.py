"""The redelivery sweep: what the App missed while it was down is asked for again, the rest is not."""

import pytest

from bot.app.server import create_app
from bot.app.store import PENDING
from bot.app.sweep import to_redeliver
from tests.app_support import INSTALLATION, REPO, SECRET, github_with_app, pr_event, serving, wait_until
from tests.databases import sqlite_url  # noqa: F401  (a fixture)
from tests.test_app_github import app_config


def attempt(id_, guid, status_code):
    return {"id": id_, "guid": guid, "status_code": status_code, "event": "pull_request", "action": "opened"}


def test_the_latest_attempt_of_each_missed_guid_is_chosen_newest_first_within_the_limit():
    attempts = [attempt(1, "down", 0), attempt(2, "down", 502), attempt(3, "ok-later", 0), attempt(4, "ok-later", 202),
                attempt(5, "refused", 400), attempt(6, "held", 0), attempt(7, "timeout", 504), attempt(8, "unsigned", 401)]
    assert [a["id"] for a in to_redeliver(attempts, held={"held"})] == [7, 2]
    assert [a["id"] for a in to_redeliver(attempts, held={"held"}, limit=1)] == [7]


@pytest.fixture
def github():
    with github_with_app(pulls=(2, 3, 4, 5)) as fake:
        fake.hook_secret = SECRET
        yield fake


def event(number):
    return pr_event(repo=REPO, number=number, installation=INSTALLATION)


def test_events_sent_while_the_app_was_down_are_redelivered_and_reviewed_once(github, sqlite_url):
    app = create_app(app_config(github, sqlite_url))
    with serving(app) as url:
        store = app.extensions["batch-review"].store
        github.hook_url = f"{url}/webhook"
        refused = github.send_webhook("pull_request", {**event(5), "pull_request": {"number": "5abc"}})
        reviewed = github.send_webhook("pull_request", event(5))
        wait_until(lambda: github.comments(REPO, 5) and store.counts()[PENDING] == 0, what="PR 5's review")
    assert (refused["status_code"], reviewed["status_code"]) == (400, 202)
    github.hook_url = None  # the App is down
    missed = [github.send_webhook("pull_request", event(number)) for number in (2, 3, 4)]
    held = github.send_webhook("pull_request", event(5))  # the App kept this one; GitHub saw no answer
    assert {a["status"] for a in missed + [held]} == {"failed to connect"}
    github.hook_deliveries += [({**held, "id": 10**8 + i, "guid": f"answered-{i}", "status_code": 200, "status": "OK"},
                                b"{}") for i in range(100)]  # newer, answered: the missed ones are on page 2
    app = create_app(app_config(github, sqlite_url, SWEEP_SECONDS=0.2))
    with serving(app) as url:
        store = app.extensions["batch-review"].store
        store.record(held["guid"], "pull_request", [])
        github.hook_url = f"{url}/webhook"
        wait_until(lambda: len(store.history()) == 4, what="the missed PRs reviewed")  # sweeps keep a row queued
    redelivered = [a for a, _ in github.hook_deliveries if a["redelivery"]]
    assert {a["guid"] for a in redelivered} == {a["guid"] for a in missed}
    assert {a["status_code"] for a in redelivered} <= {0, 202, 200}  # 0: asked before the App was back
    for number in (2, 3, 4, 5):
        assert len(github.comments(REPO, number)) == 1
    assert sorted(row["number"] for row in store.history()) == [2, 3, 4, 5]
