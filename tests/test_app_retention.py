"""The retention purge: history older than BATCH_REVIEW_RETENTION_DAYS goes daily, once across servers; queue and usage stay."""

import logging
import time
from datetime import date

import pytest
import sqlalchemy as sa

from bot.app.events import REVIEW, Task
from bot.app.server import create_app
from bot.app.settings import DEFAULT_RETENTION_DAYS, SettingsError, retention_days
from bot.app.store import ANSWERS, METRIC_REPORTS, PENDING, SCANS, TEAMS, TOKENS, Store
from bot.metric import compute as metric
from tests.app_support import Recorder, serving, settings, wait_until
from tests.databases import database_url, postgres_database  # noqa: F401  (fixtures)

DAY = 24 * 3600.0
NOW = 1_800_000_000.0  # 2027-01-15
DOCUMENT = {"verdict": "batch-candidate", "suggested_verdict": None, "workloads": [{"quotes": ["private PR text"]}]}


def test_the_retention_is_a_whole_number_of_days_above_zero():
    assert retention_days({}) == DEFAULT_RETENTION_DAYS == 180
    assert retention_days({"BATCH_REVIEW_RETENTION_DAYS": " 30 "}) == 30
    for value in ("0", "-5", "half a year", "1.5"):
        with pytest.raises(SettingsError, match="BATCH_REVIEW_RETENTION_DAYS must be a whole number of days above 0"):
            retention_days({"BATCH_REVIEW_RETENTION_DAYS": value})


def reviewed(store, number, at, scan_key):
    store.record(f"delivery-{number}", "pull_request", [Task(REVIEW, 7, "o/r", str(number), repo_id=5)], now=at)
    lease = next(lease for lease in iter(lambda: store.lease("w", 60, now=at), None) if lease.subject == str(number))
    store.finish(lease, {"head_sha": f"{number:040x}", "document": DOCUMENT, "scan_key": scan_key,
                         "labels": ["batch/candidate"]}, now=at)
    store.cache_put(SCANS, scan_key, {"calls": []}, now=at)


def test_the_purge_deletes_the_history_past_the_retention_and_keeps_the_queue_and_the_usage(database_url):
    store = Store(database_url)
    old, recent = NOW - 200 * DAY, NOW - 10 * DAY
    reviewed(store, 1, old, "scan-1")
    reviewed(store, 2, old, "scan-shared")  # the scan a later review of the same diff uses too
    reviewed(store, 3, recent, "scan-shared")
    reviewed(store, 4, recent, "scan-4")
    store.cache_put(ANSWERS, "prompt-hash", {"reply": "about the PR"}, now=old)
    store.cache_put(TEAMS, "o/r#1", {"team": "@o/core"}, now=old, repo_id=5)
    store.cache_put(TOKENS, "o/r 2026-06", {"tokens": 10}, now=old, repo_id=5)
    store.cache_put(TEAMS, "o/r#4", {"team": "@o/core"}, now=recent, repo_id=5)
    store.cache_put(METRIC_REPORTS, "2026-06", {"url": "https://github.com/o/r/issues/1"}, now=old)
    store.record("queued-long-ago", "pull_request", [Task(REVIEW, 7, "o/r", "9", repo_id=5)], now=old)
    store.replace_usage(metric.ADMIN, [metric.Usage(date(2026, 6, 1), "batch", output=5, api_key_id="k", model="m")],
                        start=date(2026, 6, 1), end=date(2026, 6, 2))
    assert store.purge(before=NOW - 180 * DAY) == {"reviews' scans": 1, "reviews": 2, "cached values": 3,
                                                   "label sets": 2, "delivery ids": 3}
    assert [row["number"] for row in store.history()] == [3, 4]
    assert store.cache_get(SCANS, "scan-shared") and store.cache_get(SCANS, "scan-1") is None
    assert store.cache_get(TEAMS, "o/r#4") and store.cache_get(ANSWERS, "prompt-hash") is None
    assert store.cache_get(METRIC_REPORTS, "2026-06")  # the monthly issue's record, no PR text
    assert set(store.pr_labels()) == {("o/r", 3), ("o/r", 4)}
    assert store.counts()[PENDING] == 1 and len(store.usage()) == 1
    assert store.record("queued-long-ago", "pull_request", []) is True  # an id that old is no longer held
    store.close()


def test_one_purge_a_day_runs_across_servers_sharing_the_database(database_url, caplog):
    caplog.set_level(logging.INFO, logger="bot.app.retention")
    store = Store(database_url)
    reviewed(store, 1, time.time() - 20 * DAY, "scan-1")
    reviewed(store, 2, time.time() - DAY, "scan-2")
    store.close()
    config = settings(database_url, WORK=Recorder(), PURGE_SECONDS=DAY, BATCH_REVIEW_RETENTION_DAYS="10")
    first, second = create_app(config), create_app(config)
    with serving(first), serving(second):
        kept = first.extensions["batch-review"].store
        wait_until(lambda: [row["number"] for row in kept.history()] == [2] and kept.counts()[PENDING] == 0,
                   what="the purge")
        with kept.engine.connect() as conn:
            purges = conn.scalar(sa.text("SELECT count(*) FROM deliveries WHERE event = 'purge'"))
    assert purges == 1
    (line,) = [record.getMessage() for record in caplog.records if record.name == "bot.app.retention"]
    assert line == ("retention: deleted 1 reviews' scans, 1 reviews, 0 cached values, 1 label sets, 1 delivery ids "
                    "older than 10 days")
