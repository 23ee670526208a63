"""The Admin usage report adapter and `batch-review metric sync` / `import`, against a fake Admin API over HTTP."""

import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

import pytest

from bot.app.store import Store
from bot.clients.usage_report import UsageReportError, fetch
from bot.helper import run_batch
from bot.metric import compute as metric
from tests.conftest import ROOT
from tests.fake_admin import KEY, FakeAdmin, result
from tests.fake_anthropic import FakeAnthropic

OCT = date(2026, 10, 1)
NOV = date(2026, 11, 1)


def test_every_page_is_read_and_each_result_becomes_a_row():
    with FakeAdmin(page_size=2) as fake:
        for offset in range(5):
            fake.usage[OCT + timedelta(days=offset)] = [result("batch", uncached=10, cache_5m=1, cache_1h=2,
                                                               cache_read=3, output=4)]
        rows = fetch(KEY, OCT, OCT + timedelta(days=5), base_url=fake.base_url)
    assert len(fake.requests) == 3 and fake.problems == []
    assert [row.day for row in rows] == [OCT + timedelta(days=offset) for offset in range(5)]
    first = rows[0]
    assert (first.uncached_input, first.cache_creation_5m, first.cache_creation_1h, first.cache_read, first.output) == (
        10, 1, 2, 3, 4)
    assert first.tokens == 20 and first.source == metric.ADMIN
    assert (first.api_key_id, first.workspace_id, first.model, first.service_tier) == (
        "apikey_01A", "wrkspc_01A", "claude-haiku-4-5", "batch")


def test_missing_tiers_a_null_tier_and_an_unknown_tier_are_kept():
    with FakeAdmin() as fake:
        fake.usage[OCT] = [result("standard", output=100)]  # no batch row that day
        fake.usage[OCT + timedelta(days=1)] = [result("batch", output=30), result("flex_discount", output=5),
                                               {**result(None, output=7), "model": None, "api_key_id": None}]
        rows = fetch(KEY, OCT, OCT + timedelta(days=2), base_url=fake.base_url)
    assert [(row.service_tier, row.tier) for row in rows] == [
        ("standard", "standard"), ("batch", "batch"), ("flex_discount", metric.OTHER), ("", metric.OTHER)]
    assert rows[-1].model == "" and rows[-1].api_key_id == ""
    totals = metric.volume(rows)
    assert (totals.batch, totals.standard, totals.other, totals.total) == (30, 100, 12, 142)
    assert totals.other_tiers == ("(none)", "flex_discount")


def test_an_empty_month_is_no_rows():
    with FakeAdmin(page_size=10) as fake:
        rows = fetch(KEY, OCT, NOV, base_url=fake.base_url)
    assert rows == [] and len(fake.requests) == 4  # 31 empty buckets, 10 a page


def test_a_wrong_key_is_a_clear_401():
    with FakeAdmin() as fake:
        with pytest.raises(UsageReportError) as raised:
            fetch("sk-ant-api03-not-an-admin-key", OCT, NOV, base_url=fake.base_url)
    message = str(raised.value)
    assert "ANTHROPIC_ADMIN_KEY" in message and "401" in message and "invalid x-api-key" in message
    assert "Admin API key" in message and "sk-ant-api03-not-an-admin-key" not in message


def test_no_key_says_which_variable_to_set():
    with pytest.raises(UsageReportError, match="ANTHROPIC_ADMIN_KEY is not set"):
        fetch("", OCT, NOV)


def test_rate_limits_and_server_errors_are_waited_out():
    with FakeAdmin() as fake:
        fake.faults = [(429, {"retry-after": "0"}), (503, {})]
        fake.usage[OCT] = [result("batch", output=1)]
        rows = fetch(KEY, OCT, OCT + timedelta(days=1), base_url=fake.base_url, retry_wait=0.0)
    assert len(rows) == 1 and len(fake.requests) == 3


def test_a_client_error_is_not_retried():
    with FakeAdmin() as fake:
        fake.faults = [(400, {})]
        with pytest.raises(UsageReportError, match="answered 400"):
            fetch(KEY, OCT, NOV, base_url=fake.base_url, retry_wait=0.0)
    assert len(fake.requests) == 1


def test_an_unreachable_host_is_named():
    with pytest.raises(UsageReportError, match="cannot reach the usage report at http://127.0.0.1:9"):
        fetch(KEY, OCT, NOV, base_url="http://127.0.0.1:9", retry_wait=0.0)


# --- batch-review metric sync / import ----------------------------------------------------------

def cli(*args, env=None, cwd=None, stdin=None):
    return subprocess.run([sys.executable, "-m", "bot.cli", "metric", *args], capture_output=True, text=True,
                          cwd=cwd, input=stdin, env={"PYTHONPATH": str(ROOT), "PATH": os.environ["PATH"], **(env or {})})


@pytest.fixture
def database(tmp_path):
    return f"sqlite:///{tmp_path / 'metric.sqlite3'}"


def test_sync_stores_the_months_and_never_fetches_a_closed_month_again(tmp_path, database):
    today = datetime.now(timezone.utc).date()
    this_month = today.replace(day=1)
    last_month = metric.previous_month(this_month)
    with FakeAdmin() as fake:
        fake.usage[last_month] = [result("batch", output=10), result("standard", output=30)]
        fake.usage[today] = [result("batch", output=5)]
        env = {"ANTHROPIC_ADMIN_KEY": KEY, "ANTHROPIC_BASE_URL": fake.base_url, "DATABASE_URL": database}
        first = cli("sync", "--months", "2", env=env, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert fake.months_asked() == [metric.month_key(last_month), metric.month_key(this_month)]
        fake.usage[today] = [result("batch", output=8)]  # the current month grew since
        second = cli("sync", "--months", "2", env=env, cwd=tmp_path)
        assert second.returncode == 0, second.stderr
        assert fake.months_asked()[2:] == [metric.month_key(this_month)]  # the closed month is kept
    assert KEY not in first.stdout + first.stderr + second.stdout + second.stderr
    assert "kept" in second.stdout
    store = Store(database)
    rows = store.usage()
    logged = store.usage_months()
    store.close()
    assert sorted((row.day, row.service_tier, row.output) for row in rows) == sorted(
        [(last_month, "batch", 10), (last_month, "standard", 30), (today, "batch", 8)])
    assert logged[metric.month_key(last_month)][1] is True and logged[metric.month_key(this_month)][1] is False


def test_sync_with_a_wrong_key_fails_clearly_and_keeps_what_was_stored(tmp_path, database):
    with FakeAdmin() as fake:
        result_ = cli("sync", env={"ANTHROPIC_ADMIN_KEY": "sk-wrong", "ANTHROPIC_BASE_URL": fake.base_url,
                                   "DATABASE_URL": database}, cwd=tmp_path)
    assert result_.returncode == 1
    assert "ANTHROPIC_ADMIN_KEY" in result_.stderr and "401" in result_.stderr and "sk-wrong" not in result_.stderr


def test_sync_without_a_key_or_jobs_says_what_to_set(tmp_path, database):
    result_ = cli("sync", env={"DATABASE_URL": database}, cwd=tmp_path)
    assert result_.returncode == 2 and "ANTHROPIC_ADMIN_KEY is not set" in result_.stderr


def test_sync_without_a_key_records_the_helpers_job_totals_as_partial(tmp_path, database):
    with FakeAnthropic() as fake:
        fake.usage = lambda params, text: {"input_tokens": 100, "output_tokens": 20, "cache_creation_input_tokens": 5,
                                           "cache_read_input_tokens": 50}
        items = ["a", "b"]
        with run_batch(items, lambda text: {"model": "claude-haiku-4-5", "max_tokens": 8,
                                            "messages": [{"role": "user", "content": text}]},
                       job="enrich-2026-10-14", store=tmp_path / "batch-jobs", client=fake.client(), poll=0.001):
            pass
    result_ = cli("sync", env={"DATABASE_URL": database}, cwd=tmp_path)
    assert result_.returncode == 0, result_.stderr
    assert "partial" in result_.stdout
    store = Store(database)
    (row,) = store.usage()
    store.close()
    assert (row.source, row.origin, row.service_tier, row.tokens) == (metric.HELPER, "enrich-2026-10-14", "batch", 350)


CSV_TEXT = """date,model,service_tier,workspace_id,api_key_id,uncached_input_tokens,output_tokens,cache_creation_tokens,cache_read_tokens,web_search_requests
2026-10-01,claude-haiku-4-5,standard,wrkspc_01A,apikey_01A,100,20,5,50,0
2026-10-02,claude-haiku-4-5,batch,wrkspc_01A,apikey_01A,10,2,0,0,0
"""


def test_import_stores_a_csv_and_importing_it_again_replaces_it(tmp_path, database):
    path = tmp_path / "usage.csv"
    path.write_text(CSV_TEXT)
    for _ in range(2):
        imported = cli("import", str(path), env={"DATABASE_URL": database}, cwd=tmp_path)
        assert imported.returncode == 0, imported.stderr
    assert "imported 2 rows for 2026-10-01 to 2026-10-02" in imported.stdout
    store = Store(database)
    rows = store.usage()
    store.close()
    assert [(row.day, row.service_tier, row.tokens, row.source) for row in rows] == [
        (date(2026, 10, 1), "standard", 175, metric.CSV), (date(2026, 10, 2), "batch", 12, metric.CSV)]


def test_a_broken_csv_imports_nothing_and_names_every_bad_line(tmp_path, database):
    bad = CSV_TEXT + "2026-10-3,claude-haiku-4-5,batch,w,k,1,1,1,1,0\n2026-10-04,m,batch,w,k,lots,1,1,1,0\n"
    imported = cli("import", "-", env={"DATABASE_URL": database}, cwd=tmp_path, stdin=bad)
    assert imported.returncode == 2
    assert "line 4: date '2026-10-3' is not YYYY-MM-DD" in imported.stderr
    assert "line 5: uncached_input_tokens 'lots' is not a whole number" in imported.stderr
    store = Store(database)
    assert store.usage() == []
    store.close()
    missing = cli("import", "-", env={"DATABASE_URL": database}, cwd=tmp_path, stdin="date,tokens\n2026-10-01,5\n")
    assert missing.returncode == 2 and "lacks the column(s) service_tier" in missing.stderr
