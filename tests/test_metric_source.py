"""What the metric reads: the store's usage and fetch log, the review history, scans and labels (SQLite and PostgreSQL)."""

import json
from datetime import date, datetime, timezone

import pytest

from bot.app.events import Task
from bot.app.store import EXEMPTIONS, SCANS, Store
from bot.core.config import ConfigError, from_mapping, parse_mapping
from bot.core.names import ADOPTED_LABEL
from bot.metric import compute as metric
from bot.metric import view
from bot.metric.source import from_store, helper_usage, load_config, review_facts
from tests.databases import database_url, load_dump, postgres_database  # noqa: F401  (fixtures)

OCT = date(2026, 10, 1)


@pytest.fixture
def store(database_url):
    opened = Store(database_url)
    yield opened
    opened.close()


def row(day, tier, output, source=metric.ADMIN, origin=""):
    return metric.Usage(day, tier, output=output, api_key_id="apikey_01A", model="claude-haiku-4-5", source=source,
                        origin=origin)


def test_usage_is_replaced_by_month_by_days_and_by_job(store):
    fetched = datetime(2026, 11, 2, tzinfo=timezone.utc)
    store.replace_usage(metric.ADMIN, [row(OCT, "batch", 1), row(date(2026, 10, 31), "standard", 2)],
                        start=OCT, end=date(2026, 11, 1), month=("2026-10", fetched, True))
    store.replace_usage(metric.ADMIN, [row(OCT, "batch", 5)], start=OCT, end=date(2026, 11, 1),
                        month=("2026-10", fetched, True))  # a refresh replaces the month
    store.replace_usage(metric.CSV, [row(date(2026, 9, 1), "standard", 7, metric.CSV)],
                        start=date(2026, 9, 1), end=date(2026, 9, 2))
    store.replace_usage(metric.HELPER, [row(date(2026, 9, 3), "batch", 3, metric.HELPER, "job-a"),
                                        row(date(2026, 9, 4), "batch", 4, metric.HELPER, "job-b")],
                        origins=["job-a", "job-b"])
    store.replace_usage(metric.HELPER, [row(date(2026, 9, 5), "batch", 6, metric.HELPER, "job-a")], origins=["job-a"])
    assert [(r.day, r.source, r.origin, r.output) for r in store.usage()] == [
        (date(2026, 9, 1), metric.CSV, "", 7), (date(2026, 9, 4), metric.HELPER, "job-b", 4),
        (date(2026, 9, 5), metric.HELPER, "job-a", 6), (OCT, metric.ADMIN, "", 5)]
    assert [r.day for r in store.usage(since=OCT)] == [OCT]
    ((month, (at, closed)),) = store.usage_months().items()
    assert month == "2026-10" and closed is True and at.replace(tzinfo=timezone.utc) == fetched


def finish_review(store, repo, number, sha, verdict, now, *, hints=(), labels=None, savings=None):
    store.record(f"delivery-{repo}-{number}-{sha}", "pull_request", [Task("review", 1, repo, str(number))], now=now)
    lease = store.lease("test", 60, now=now)
    review = {"head_sha": sha, "document": {"verdict": verdict, "workloads": [{"hints": list(hints)}],
                                            "savings_usd_month": savings},
              "scan_key": f"scan of {sha}"}
    if labels is not None:
        review["labels"] = labels
    store.finish(lease, review, now=now)


def stamp(day, hour=12):
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc).timestamp()


def test_flags_labels_and_batched_calls_come_from_the_history(store):
    finish_review(store, "o/a", 1, "a1", "needs-answers", stamp(date(2026, 10, 1)))
    finish_review(store, "o/a", 1, "a2", "batch-candidate", stamp(date(2026, 10, 2)), labels=["batch/candidate"])
    finish_review(store, "o/a", 1, "a3", "batch-candidate", stamp(date(2026, 10, 3)),
                  labels=["batch/candidate", ADOPTED_LABEL])
    finish_review(store, "o/a", 2, "b1", "batch-candidate", stamp(date(2026, 10, 4)))
    finish_review(store, "o/a", 3, "c1", "batch-candidate", stamp(date(2026, 10, 5)),
                  hints=[{"batched": True, "new": True}])  # the PR's own diff brings in a batch call
    finish_review(store, "o/a", 4, "d1", "not-applicable", stamp(date(2026, 10, 6)), labels=[])
    finish_review(store, "o/a", 5, "e1", "not-applicable", stamp(date(2026, 10, 7)))
    finish_review(store, "o/a", 6, "f1", "synchronous", stamp(date(2026, 10, 8)),
                  hints=[{"batched": True, "new": False}])  # only touches a batch call: no evidence
    store.cache_put(SCANS, "scan of d1", {"v": 1, "sha": "d1", "partial": False, "notes": [], "calls": [
        ["jobs/x.py", 3, "messages.batches.create", "bc", []]]})  # a later PR that only moves work to batches
    store.cache_put(SCANS, "scan of e1", {"v": 1, "sha": "e1", "partial": False, "notes": [], "calls": [
        ["jobs/y.py", 3, "messages.create", "c", []]]})
    flags, facts = review_facts(store, datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert sorted((f.repo, f.number, f.at.day) for f in flags) == [("o/a", 1, 2), ("o/a", 2, 4), ("o/a", 3, 5)]
    by_pr = {(f.repo, f.number): f for f in facts}
    assert by_pr[("o/a", 1)].labels == ("batch/candidate", ADOPTED_LABEL)  # the latest review's labels
    assert by_pr[("o/a", 3)].batched_at.day == 5 and by_pr[("o/a", 4)].batched_at.day == 6
    assert ("o/a", 5) not in by_pr and ("o/a", 6) not in by_pr
    assert metric.adopted(flags, facts) == {("o/a", 1), ("o/a", 2), ("o/a", 3)}


def test_scans_cached_by_head_sha_before_the_migration_still_count(database_url):
    load_dump(database_url, 2)  # the schema before scan keys: octo/old#1's scan, cached by its head SHA, batches
    migrated = Store(database_url)
    _, facts = review_facts(migrated, datetime(2025, 10, 1, tzinfo=timezone.utc))
    assert {(f.repo, f.number, f.batched_at is not None) for f in facts} == {("octo/old", 1, True)}
    migrated.close()


def test_each_flag_carries_its_latest_candidate_reviews_dollars(store):
    finish_review(store, "o/a", 1, "a1", "batch-candidate", stamp(date(2026, 10, 1)), savings=63.0)
    finish_review(store, "o/a", 1, "a2", "batch-candidate", stamp(date(2026, 10, 2)), savings=210.0)  # a number given
    finish_review(store, "o/a", 1, "a3", "synchronous", stamp(date(2026, 10, 3)), savings=None)
    finish_review(store, "o/a", 2, "b1", "batch-candidate", stamp(date(2026, 10, 4)))  # a review before dollars
    flags, _ = review_facts(store, datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert sorted((f.number, f.usd_month) for f in flags) == [(1, 210.0), (2, None)]


def test_the_metric_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_config(env={}).metric.eligible == ()  # no file: the defaults
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "batch-review.yml").write_text("metric: {eligible: [wrkspc_1]}\n")
    assert load_config(env={}).metric.eligible == ("wrkspc_1",)
    other = tmp_path / "other.yml"
    other.write_text("metric: {eligible: [apikey_2], report_repo: acme/retro}\n")
    assert load_config(env={"BATCH_REVIEW_CONFIG": str(other)}).metric.report_repo == "acme/retro"
    assert load_config(str(other), env={"BATCH_REVIEW_CONFIG": "nowhere.yml"}).metric.eligible == ("apikey_2",)
    with pytest.raises(ConfigError, match="cannot read the config file nowhere.yml"):
        load_config(env={"BATCH_REVIEW_CONFIG": "nowhere.yml"})


@pytest.mark.parametrize("text, message", [
    ("metric: {prices: {claude-x: {input: 1}}}", "metric.prices"),
    ("metric: {prices: {claude-x: {input: 1, output: -5}}}", "dollars per million tokens"),
    ("metric: {prices: {claude-x: {input: true, output: 5}}}", "metric.prices"),
    ("metric: {repos: {apikey_1: [a, b]}}", "metric.repos"),
    ("metric: {report_repo: retro}", "owner/name"),
    ("metric: {report_repo: acme/retro/x}", "owner/name"),
])
def test_metric_settings_are_checked_with_the_key_named(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_mapping(text)


def test_metric_settings_are_read():
    config = from_mapping(parse_mapping("metric: {eligible: [k], prices: {claude-x: {input: 1.5, output: 5}}, "
                                        "repos: {k: acme/jobs}, report_repo: acme/retro}"))
    settings = metric.Accounting.from_config(config)
    assert settings.eligible == frozenset({"k"}) and settings.price("claude-x-2")[:2] == (1.5, 5)
    assert settings.repos == {"k": "acme/jobs"} and config.metric.report_repo == "acme/retro"


def test_helper_usage_skips_a_damaged_job(tmp_path):
    usage = {"input_tokens": 10, "output_tokens": 2, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 3}
    manifest = {"job": "good", "fingerprint": "f", "requests": 1, "batches": [], "created_at": "2026-11-02T10:00:00+00:00"}
    for name, text in (("good", json.dumps({**manifest, "usage": usage})), ("damaged", "{}")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text(text)
    (row,) = helper_usage(tmp_path)
    assert (row.origin, row.day, row.output, row.cache_read) == ("good", date(2026, 11, 2), 2, 3)


def test_the_report_counts_false_alarms_and_lists_exemptions_from_the_store(store):
    finish_review(store, "o/a", 1, "a1", "batch-candidate", stamp(date(2026, 10, 2)), hints=[{"signals": [{"id": "loop"}]}])
    store.record("d-wrong", "issue_comment", [Task("review", 1, "o/a", "1")], now=stamp(date(2026, 10, 3)))
    lease = store.lease("test", 60, now=stamp(date(2026, 10, 3)))
    store.finish(lease, {"head_sha": "a1", "document": {
        "verdict": "batch-candidate", "workloads": [{"hints": [{"signals": [{"id": "loop"}]}]}],
        "exemption": {"by": "carol", "reason": "launch", "until": "2026-11-30", "url": "u", "paths": ["jobs/a.py"],
                      "pull_request": None},
        "disagreements": [{"by": "mallory", "reason": "chat", "url": "u", "at": "2026-10-03T09:00:00Z",
                           "verdict": "batch-candidate", "signals": ["loop"]}]}}, now=stamp(date(2026, 10, 3)))
    store.cache_put(EXEMPTIONS, "o/a#1", {"by": "carol", "reason": "launch", "until": "2026-11-30", "url": "u",
                                          "paths": ["jobs/a.py"], "number": 1})
    store.cache_put(EXEMPTIONS, "o/a#2", {})  # a PR whose exemption was withdrawn
    figures = from_store(store, from_mapping({}), today=date(2026, 11, 14), focus=OCT, through=OCT)
    october = figures.false_alarms[-1]
    assert (october.month, october.reviewed, october.wrong, october.by_signal) == ("2026-10", 1, 1, (("loop", 1),))
    assert [(s.repo, s.path, s.by, active) for s, active in figures.exemptions] == [("o/a", "jobs/a.py", ("carol",), True)]
    assert figures.funnel[-1].exempted == 1 and figures.repos == ()
    report = view.report(figures)
    assert "| o/a: `jobs/a.py` | carol | launch | 2026-11-30 | runs |" in report
