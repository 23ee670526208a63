"""GitHub's write budgets per installation, shared through the store.

A spent budget or GitHub's secondary rate limit makes that installation's rows wait, using no attempt, while
other installations go on.
"""

import logging

import pytest

from bot.app.budgets import opens_at
from bot.app.server import create_app
from bot.app.settings import DEFAULT_WRITE_BUDGETS, SettingsError, write_budgets
from bot.app.store import FAILED, PENDING
from tests.app_support import INSTALLATION, REPO, github_with_app, pr_event, deliver, serving, settings, wait_until
from tests.checklists import CANDIDATE
from tests.databases import sqlite_url  # noqa: F401  (a fixture)
from tests.fake_github import NO_WAITS, SECONDARY_RATE_LIMIT

OTHER_REPO, OTHER_INSTALLATION = "octo-org/other", 43
CHECK_RUNS = "/repos/{owner}/{repo}/check-runs"


def test_budgets_default_to_githubs_documented_secondary_limits():
    assert write_budgets({}) == DEFAULT_WRITE_BUDGETS == {60: 80, 3600: 500}
    assert write_budgets({"GITHUB_WRITE_BUDGETS": " 3/2, 10/60"}) == {2: 3, 60: 10}


@pytest.mark.parametrize("value", ["", "80", "80/0", "0/60", "80/60;500/3600", "-1/60", "a/b"])
def test_a_malformed_budget_is_named(value):
    with pytest.raises(SettingsError, match="GITHUB_WRITE_BUDGETS"):
        write_budgets({"GITHUB_WRITE_BUDGETS": value})


def test_a_budget_opens_when_the_window_of_each_spent_budget_ends():
    budgets = {60: 3, 3600: 10}
    assert opens_at(budgets, {}, 125.0) is None
    assert opens_at(budgets, {60: 2, 3600: 9}, 125.0) is None
    assert opens_at(budgets, {60: 3, 3600: 9}, 125.0) == 180
    assert opens_at(budgets, {60: 3, 3600: 10}, 125.0) == 3600
    assert opens_at(budgets, {60: 1, 3600: 12}, 3725.0) == 7200


def served_app(github, database_url, **extra):
    return create_app(settings(database_url, GITHUB_API_URL=github.base_url, GITHUB_PACING=NO_WAITS, **extra))


def retries_logged(caplog) -> list:
    return [record.getMessage() for record in caplog.records if "failed (attempt" in record.getMessage()]


def test_a_spent_budget_holds_back_only_its_installation_and_costs_no_attempt(sqlite_url, caplog):
    caplog.set_level(logging.INFO)
    with github_with_app(pulls=(1, 2, 3, 4)) as github:
        github.add_repo(OTHER_REPO)
        github.add_pull(OTHER_REPO, 1, body=CANDIDATE)
        github.limit_writes(8, 5)  # GitHub's limit, small: 8 writes (two reviews) per installation in 5 s,
        app = served_app(github, sqlite_url, GITHUB_WRITE_BUDGETS="8/5")  # so four reviews must wait, however fast
        with serving(app) as url:
            store = app.extensions["batch-review"].store
            for number in (1, 2, 3, 4):
                deliver(url, "pull_request", pr_event(repo=REPO, number=number, installation=INSTALLATION))
            deliver(url, "pull_request", pr_event(repo=OTHER_REPO, number=1, installation=OTHER_INSTALLATION))
            wait_until(lambda: len(store.history()) == 5, what="every PR's review")
            assert store.counts() == {PENDING: 0, FAILED: 0}
    reviewed = [(review["repo"], review["number"]) for review in store.history()]
    assert sorted(reviewed) == sorted([(REPO, n) for n in (1, 2, 3, 4)] + [(OTHER_REPO, 1)])
    waits = [record.getMessage() for record in caplog.records if " waits " in record.getMessage()]
    assert waits and all(REPO in line and OTHER_REPO not in line for line in waits)  # only the spent one waited
    assert retries_logged(caplog) == []


def test_a_secondary_rate_limit_answer_waits_for_retry_after_without_a_failure(sqlite_url, caplog):
    caplog.set_level(logging.INFO)
    with github_with_app(pulls=(2,)) as github:
        github.fail("POST", CHECK_RUNS, 403, headers={"Retry-After": "1"}, message=SECONDARY_RATE_LIMIT,
                    times=NO_WAITS.retries + 1)  # PyGithub's own retries, then ours
        app = served_app(github, sqlite_url)
        with serving(app) as url:
            store = app.extensions["batch-review"].store
            deliver(url, "pull_request", pr_event(repo=REPO, number=2, installation=INSTALLATION))
            wait_until(lambda: store.history(), what="the review")
            assert store.counts() == {PENDING: 0, FAILED: 0}
    assert retries_logged(caplog) == []
    assert any("waits" in record.getMessage() and "rate limit" in record.getMessage() for record in caplog.records)
    assert len(github.repos[REPO].check_runs) == 1
