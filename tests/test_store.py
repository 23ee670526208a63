"""The App's store on SQLite and PostgreSQL: deliveries once, one row per PR, leases, retries, history, cache."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from bot.app.events import REVIEW, Task
from bot.app.store import FAILED, PENDING, Store, StoreError
from tests.databases import database_url, postgres_database  # noqa: F401  (fixtures)

PR = Task(REVIEW, 7, "octo/repo", "2")
DOCUMENT = {"schema_version": 1, "verdict": "batch-candidate", "suggested_verdict": None, "problems": [],
            "workloads": []}


@pytest.fixture
def store(database_url):
    opened = Store(database_url)
    yield opened
    opened.close()


def test_a_delivery_is_recorded_once_even_after_a_restart(database_url):
    first = Store(database_url)
    assert first.record("d-1", "pull_request", [PR]) is True
    assert first.record("d-1", "pull_request", [PR]) is False
    first.close()
    again = Store(database_url)
    assert again.record("d-1", "pull_request", [PR]) is False
    assert again.counts() == {PENDING: 1, FAILED: 0}
    lease = again.lease("w", 60)
    assert lease.generation == 1  # the duplicates bumped nothing
    again.close()


def test_events_for_one_pr_collapse_into_one_row_and_one_lease(store):
    for index in range(10):
        assert store.record(f"d-{index}", "pull_request", [PR])
    store.record("other", "pull_request", [Task(REVIEW, 7, "octo/repo", "3")])
    assert store.counts()[PENDING] == 2
    first, second = store.lease("w1", 60), store.lease("w2", 60)
    assert {first.subject, second.subject} == {"2", "3"}
    assert store.lease("w3", 60) is None


def test_finishing_drops_the_row_and_keeps_the_review(store):
    store.record("d-1", "pull_request", [PR], now=100.0)
    lease = store.lease("w", 60, now=100.0)
    assert (lease.kind, lease.installation_id, lease.repo, lease.subject, lease.attempts) == (REVIEW, 7, "octo/repo", "2", 1)
    store.finish(lease, {"head_sha": "abc", "document": DOCUMENT}, now=101.0)
    assert store.counts() == {PENDING: 0, FAILED: 0}
    (row,) = store.history()
    assert (row["repo"], row["number"], row["head_sha"], row["verdict"], row["suggested_verdict"]) == (
        "octo/repo", 2, "abc", "batch-candidate", None)
    assert row["document"] == DOCUMENT
    assert store.history(repo="elsewhere/repo") == []


def test_an_event_during_the_work_makes_one_more_run(store):
    store.record("d-1", "pull_request", [PR], now=100.0)
    lease = store.lease("w", 60, now=100.0)
    store.record("d-2", "pull_request", [PR], now=100.5)
    store.record("d-3", "pull_request", [PR], now=100.6)
    assert store.lease("other", 60, now=100.7) is None  # still held
    store.finish(lease, None, now=101.0)
    again = store.lease("w", 60, now=101.0)
    assert again.id == lease.id and again.generation == 3 and again.attempts == 1
    store.finish(again, None, now=102.0)
    assert store.counts()[PENDING] == 0


def test_an_expired_lease_is_taken_again_and_the_late_worker_changes_nothing(store):
    store.record("d-1", "pull_request", [PR], now=100.0)
    dead = store.lease("dead", 60, now=100.0)
    assert store.lease("alive", 60, now=159.0) is None
    taken = store.lease("alive", 60, now=161.0)
    assert taken.id == dead.id and taken.attempts == 2
    store.finish(dead, {"head_sha": "late", "document": DOCUMENT}, now=162.0)  # it woke up after all
    assert store.counts()[PENDING] == 1  # the row is still the living worker's
    store.finish(taken, None, now=163.0)
    assert store.counts()[PENDING] == 0


def test_a_retry_waits_and_the_last_failure_is_kept_until_a_new_event(store):
    store.record("d-1", "pull_request", [PR], now=100.0)
    lease = store.lease("w", 60, now=100.0)
    store.retry(lease, "GithubException: 502", at=130.0, now=100.0)
    assert store.lease("w", 60, now=129.0) is None
    lease = store.lease("w", 60, now=130.0)
    assert lease.attempts == 2 and lease.last_error == "GithubException: 502"
    store.record("d-2", "pull_request", [PR], now=131.0)  # an event during a backoff keeps the backoff
    store.fail(lease, "GithubException: 503", now=132.0)  # ... but an event during the work counts
    assert store.counts() == {PENDING: 1, FAILED: 0}
    lease = store.lease("w", 60, now=133.0)
    store.fail(lease, "GithubException: 503", now=134.0)
    assert store.counts() == {PENDING: 0, FAILED: 1}
    assert store.failures() == [(REVIEW, "octo/repo", "2", "GithubException: 503")]
    assert store.lease("w", 60, now=1000.0) is None
    store.record("d-3", "pull_request", [PR], now=1001.0)
    lease = store.lease("w", 60, now=1001.0)
    assert store.counts() == {PENDING: 1, FAILED: 0} and lease.attempts == 1


def test_requeue_puts_failed_rows_back(store):
    store.record("d-1", "pull_request", [PR], now=100.0)
    store.fail(store.lease("w", 60, now=100.0), "boom", now=100.0)
    assert store.requeue(now=200.0) == 1
    assert store.lease("w", 60, now=200.0).attempts == 1


def test_concurrent_workers_lease_each_row_exactly_once(store):
    tasks = [Task(REVIEW, 7, "octo/repo", str(number)) for number in range(40)]
    for index, task in enumerate(tasks):
        store.record(f"d-{index}", "pull_request", [task])
    taken, lock = [], threading.Lock()

    def drain(worker):
        while (lease := store.lease(f"w{worker}", 60)) is not None:
            with lock:
                taken.append(lease.subject)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(drain, range(8)))
    assert sorted(taken, key=int) == [str(number) for number in range(40)]


def test_concurrent_redeliveries_are_recorded_once(store):
    with ThreadPoolExecutor(8) as pool:
        recorded = list(pool.map(lambda _: store.record("same", "pull_request", [PR]), range(16)))
    assert recorded.count(True) == 1
    assert store.lease("w", 60).generation == 1


def test_cache_keeps_json_per_kind_and_key(store):
    assert store.cache_get("scan", "abc") is None
    store.cache_put("scan", "abc", {"calls": [1]})
    store.cache_put("scan", "abc", {"calls": [1, 2]})
    store.cache_put("answers", "abc", ["x"])
    assert store.cache_get("scan", "abc") == {"calls": [1, 2]}
    assert store.cache_get("answers", "abc") == ["x"]


def test_old_delivery_ids_are_forgotten(store):
    store.record("old", "pull_request", [PR], now=100.0)
    store.record("new", "pull_request", [PR], now=200.0)
    assert store.forget_deliveries(before=150.0) == 1
    assert store.record("old", "pull_request", [PR], now=300.0) is True


def test_processes_opening_a_new_database_together_migrate_it_once(database_url):
    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: Store(database_url), range(4)))
    stores[0].record("d", "pull_request", [PR])
    assert all(s.counts()[PENDING] == 1 for s in stores)
    for opened in stores:
        opened.close()


def test_an_unreachable_database_is_named():
    with pytest.raises(StoreError, match="DATABASE_URL"):
        Store("postgresql://nobody@127.0.0.1:1/none")


def test_writes_are_counted_per_installation_and_window_and_old_windows_dropped(store):
    for now in (100.0, 110.0, 119.0):
        store.count_write(7, (60, 3600), now=now)
    assert store.writes(7, (60, 3600), now=119.0) == {60: 3, 3600: 3}
    store.count_write(7, (60, 3600), now=121.0)
    store.count_write(8, (60, 3600), now=121.0)
    assert store.writes(7, (60, 3600), now=121.0) == {60: 1, 3600: 4}
    assert store.writes(8, (60, 3600), now=121.0) == {60: 1, 3600: 1}
    store.count_write(8, (60,), now=3700.0)  # every window that ended is dropped
    with store.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM github_writes")) == 1


def test_a_postponed_installation_waits_without_using_an_attempt_and_others_go_on(store):
    other = Task(REVIEW, 8, "octo/other", "1")
    store.record("d-1", "pull_request", [PR, Task(REVIEW, 7, "octo/repo", "3")], now=100.0)
    store.record("d-2", "pull_request", [other], now=101.0)
    lease = store.lease("w", 60, now=102.0)
    store.postpone(lease, 160.0, now=102.0)
    assert store.lease("w", 60, now=103.0).repo == "octo/other"
    assert store.lease("w", 60, now=159.0) is None
    again = store.lease("w", 60, now=160.0)
    assert (again.subject, again.attempts) == ("2", 1)


def test_a_repositorys_onboarding_state_is_kept_replaced_and_forgotten(store):
    assert store.onboarding("octo/repo") is None
    store.keep_onboarding("octo/repo", "resume")
    store.keep_onboarding("octo/repo", "open", "https://github.com/octo/repo/pull/3")
    store.keep_onboarding("octo/other", "not-wanted", "https://github.com/octo/other/pull/1")
    assert store.onboarding("octo/repo") == {"state": "open", "url": "https://github.com/octo/repo/pull/3"}
    assert store.forget("octo/repo", but=0)["onboarding states"] == 1
    assert store.onboarding("octo/repo") is None and store.onboarding("octo/other")["state"] == "not-wanted"


def test_a_cached_value_changed_by_many_writers_at_once_loses_nothing(store):
    """The button answers' read-change-write: concurrent clicks on one PR all stay (SQLite and PostgreSQL)."""
    def add(index):
        store.cache_update("buttons", "octo/repo#2", lambda kept: {"clicks": (kept or {}).get("clicks", []) + [index]})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(add, range(40)))
    assert sorted(store.cache_get("buttons", "octo/repo#2")["clicks"]) == list(range(40))


def test_leaving_the_app_forgets_the_repositorys_button_answers_only(store):
    store.cache_put("buttons", "octo/repo#2", {"clicks": []})
    store.cache_put("buttons", "octo/repo-two#2", {"clicks": []})
    assert store.forget("octo/repo", but=0)["button answers"] == 1
    assert store.cache_get("buttons", "octo/repo#2") is None and store.cache_get("buttons", "octo/repo-two#2") == {
        "clicks": []}


def review(store, task, delivery, now):
    store.record(delivery, "pull_request", [task], now=now)
    store.finish(store.lease("w", 60, now=now), {"head_sha": f"{int(now):040x}", "document": DOCUMENT,
                                                 "labels": [delivery]}, now=now)


def test_a_repository_keeps_its_rows_across_a_rename_and_those_an_older_version_kept_without_its_id(store):
    review(store, Task(REVIEW, 7, "o/old", "1"), "from-an-older-server", 100.0)  # no id: written before ids
    review(store, Task(REVIEW, 7, "o/old", "2", repo_id=55), "first-with-id", 200.0)
    review(store, Task(REVIEW, 7, "o/new", "1", repo_id=55), "after-the-rename", 300.0)
    review(store, Task(REVIEW, 7, "o/other", "1", repo_id=66), "another", 400.0)
    review(store, Task(REVIEW, 7, "o/old", "9"), "old-server-during-the-deploy", 500.0)  # no id, after first sight
    assert [(row["repo"], row["number"]) for row in store.history()] == [
        ("o/new", 1), ("o/new", 2), ("o/new", 1), ("o/other", 1), ("o/old", 9)]
    assert len(store.history(repo="o/new")) == 3
    assert store.pr_labels() == {("o/new", 1): ("after-the-rename",), ("o/new", 2): ("first-with-id",),
                                 ("o/other", 1): ("another",), ("o/old", 9): ("old-server-during-the-deploy",)}
    assert sorted((repo, number) for repo, number, _ in store.first_flags()) == [
        ("o/new", 1), ("o/new", 2), ("o/old", 9), ("o/other", 1)]
    store.keep_check_run("o/old", "a" * 40, 11, repo_id=55)
    assert store.check_run("o/new", "a" * 40, repo_id=55) == 11 and store.check_run("o/new", "a" * 40) is None


def test_forgetting_a_repository_by_id_takes_every_name_and_its_rows_kept_without_an_id(store):
    review(store, Task(REVIEW, 7, "o/new", "1"), "older-server", 100.0)
    review(store, Task(REVIEW, 7, "o/old", "2", repo_id=55), "old-name", 200.0)
    review(store, Task(REVIEW, 7, "o/new", "3", repo_id=55), "new-name", 300.0)
    review(store, Task(REVIEW, 7, "o/other", "1", repo_id=66), "another", 400.0)
    store.keep_check_run("o/old", "a" * 40, 11, repo_id=55)
    store.cache_put("tokens", "o/old 2026-01", {"tokens": 5}, repo_id=55)
    store.cache_put("team", "o/new#1", {"team": "@o/core"})  # kept without an id, under the current name
    store.cache_put("team", "o/other#1", {"team": "@o/web"}, repo_id=66)
    store.record("queued", "pull_request", [Task(REVIEW, 7, "o/old", "4", repo_id=55)], now=500.0)
    store.record("gone", "installation", [Task("forget", 7, "o/new", "", repo_id=55)], now=500.0)
    forget = next(lease for lease in iter(lambda: store.lease("w", 60, now=500.0), None) if lease.kind == "forget")
    assert store.forget(forget.repo, but=forget.id, repo_id=forget.repo_id) == {
        "scans": 0, "token counts, teams and exemptions": 2, "onboarding states": 0, "button answers": 0,
        "reviews": 3, "label sets": 3, "check runs": 1, "queued tasks": 1}
    assert [row["repo"] for row in store.history()] == ["o/other"]
    assert store.cache_get("team", "o/other#1") == {"team": "@o/web"}
    assert store.check_run("o/old", "a" * 40, repo_id=55) is None




def test_servers_creating_a_sqlite_database_together_never_see_it_locked(tmp_path):
    """SQLite does not wait for a file another connection is switching to WAL: four openers of a new file saw
    'database is locked' about once in sixteen tries, so fifty tries show it."""
    for attempt in range(50):
        url = f"sqlite:///{tmp_path}/new-{attempt}.sqlite3"
        with ThreadPoolExecutor(4) as pool:
            for opened in list(pool.map(lambda _: Store(url), range(4))):
                opened.close()
