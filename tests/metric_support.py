"""Helpers for the metric's tests: a database holding known usage and review history, and its config file."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from bot.app.store import Store
from bot.core.names import ADOPTED_LABEL
from bot.metric import compute as metric

CONFIG = """\
metric:
  eligible: [apikey_01Jobs, wrkspc_01Evals]
  prices:
    claude-haiku-4-5: {input: 1, output: 5}
  repos:
    apikey_01Jobs: acme/<jobs>
  report_repo: acme/retro
"""
MONTHS = ("2026-08", "2026-09", "2026-10")
# (eligible batch, eligible standard, chat standard) output tokens per month, all on the 10th.
VOLUMES = {"2026-08": (20_000_000, 80_000_000, 500_000_000), "2026-09": (40_000_000, 60_000_000, 500_000_000),
           "2026-10": (70_000_000, 30_000_000, 600_000_000)}


def usage_rows() -> list:
    rows = []
    for month, (batch, standard, chat) in VOLUMES.items():
        day = metric.parse_month(month).replace(day=10)
        rows += [metric.Usage(day, "batch", output=batch, api_key_id="apikey_01Jobs", model="claude-haiku-4-5"),
                 metric.Usage(day, "standard", output=standard, api_key_id="apikey_01Jobs", model="claude-haiku-4-5"),
                 metric.Usage(day, "standard", output=chat, api_key_id="apikey_01Chat", model="claude-haiku-4-5")]
    return rows


def fill(url: str) -> None:
    """Usage for August to October 2026 (fetched after each month ended) and two flagged PRs, one adopted."""
    store = Store(url)
    for month in MONTHS:
        first = metric.parse_month(month)
        rows = [row for row in usage_rows() if metric.month_key(row.day) == month]
        store.replace_usage(metric.ADMIN, rows, start=first, end=metric.next_month(first),
                            month=(month, datetime(2026, 11, 2, tzinfo=timezone.utc), True))
    with store.engine.begin() as conn:
        from bot.app.store import pr_labels, reviews

        for number, day in ((7, date(2026, 10, 5)), (8, date(2026, 10, 6))):
            conn.execute(reviews.insert().values(
                repo="acme/<jobs>", number=number, head_sha=f"{number:040d}", verdict="batch-candidate",
                suggested_verdict=None, document={"verdict": "batch-candidate", "workloads": []},
                reviewed_at=datetime(day.year, day.month, day.day, 9, tzinfo=timezone.utc)))
        conn.execute(pr_labels.insert().values(repo="acme/<jobs>", number=8, labels=[ADOPTED_LABEL],
                                               updated_at=datetime(2026, 10, 20, tzinfo=timezone.utc)))
    store.close()


@pytest.fixture
def metric_database(tmp_path) -> str:
    """A SQLite URL whose database `fill` filled."""
    url = f"sqlite:///{tmp_path / 'metric.sqlite3'}"
    fill(url)
    return url


@pytest.fixture
def metric_config(tmp_path):
    """The path of a config file holding CONFIG."""
    path = tmp_path / "batch-review.yml"
    path.write_text(CONFIG)
    return path
