"""Sample data for the metric (pure): a year of a team moving to batches.

`batch-review dashboard --sample` and `batch-review report --sample` show it, so a newcomer can read
the trend offline. The same inputs every time: the story is fixed at SAMPLE_TODAY.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

from bot.core.codeowners import NOBODY
from bot.core.names import ADOPTED_LABEL
from bot.metric import compute as metric

SAMPLE_TODAY = date(2026, 11, 14)
FIRST_ADMIN_MONTH = date(2026, 3, 1)  # before it: the team had no admin key (CSV export and helper jobs only)

SETTINGS = metric.Accounting(
    eligible=frozenset({"apikey_01Enrichment", "apikey_01Evals", "wrkspc_01Reporting"}),
    repos={"apikey_01Enrichment": "acme/enrichment", "apikey_01Evals": "acme/evals",
           "wrkspc_01Reporting": "acme/reporting", "apikey_01Chat": "acme/support-chat"},
    teams={"apikey_01Enrichment": "@acme/data", "apikey_01Evals": "@acme/ml-platform",
           "wrkspc_01Reporting": "@acme/insights"},
)
# Who owns each repository's workloads (their CODEOWNERS); the search indexer has no CODEOWNERS file.
_OWNERS = {"acme/enrichment": "@acme/data", "acme/evals": "@acme/ml-platform", "acme/reporting": "@acme/insights",
           "acme/support-chat": "@acme/support"}

# key, workspace, model, millions of tokens a day, and the share sent as batches from each month on.
_TRAFFIC = (
    ("apikey_01Enrichment", "wrkspc_01Pipelines", "claude-haiku-4-5", 42, {date(2026, 7, 1): 0.55, date(2026, 8, 1): 0.9}),
    ("apikey_01Evals", "wrkspc_01Pipelines", "claude-sonnet-4-5", 16,
     {date(2026, 1, 1): 0.15, date(2026, 3, 1): 0.5, date(2026, 5, 1): 0.95}),
    ("apikey_01Nightly", "wrkspc_01Reporting", "claude-sonnet-4-5", 9, {date(2026, 10, 1): 0.6}),
    ("apikey_01Chat", "wrkspc_01Product", "claude-sonnet-4-5", 260, {}),
)


def _batch_share(steps: dict, day: date) -> float:
    return max((share for start, share in steps.items() if start <= day), default=0.02)


def usage(today: date = SAMPLE_TODAY) -> list:
    """Daily rows: the Admin report's from FIRST_ADMIN_MONTH on, earlier a CSV export's and the helper's jobs."""
    rng = random.Random(7)
    rows = []
    day = metric.months_back(today.replace(day=1), 11)
    while day <= today:
        admin = day >= FIRST_ADMIN_MONTH
        for key, workspace, model, millions, steps in _TRAFFIC:
            total = int(millions * 1_000_000 * rng.uniform(0.8, 1.2) * (0.6 if day.weekday() >= 5 else 1.0))
            batch = int(total * _batch_share(steps, day))
            tiers = {"standard": total - batch, "batch": batch}
            if key == "apikey_01Chat":
                tiers["priority"] = total // 20
            if key == "apikey_01Evals" and day.month == 9:
                tiers["flex"] = total // 50  # a tier this version does not know: the "other" row
            for tier, tokens in tiers.items():
                if not tokens:
                    continue
                if tier == "batch" and not admin:
                    continue  # before the admin key, batch volume is known only through the helper's jobs
                rows.append(_row(day, tier, tokens, key, workspace, model, metric.ADMIN if admin else metric.CSV))
            if not admin and batch:
                rows.append(metric.Usage(day, metric.BATCH, uncached_input=batch // 2, cache_read=batch // 4,
                                         output=batch - batch // 2 - batch // 4, source=metric.HELPER,
                                         origin=f"{key.removeprefix('apikey_01').lower()}-{day.isoformat()}"))
        day += timedelta(days=1)
    return rows


def _row(day, tier, tokens, key, workspace, model, source) -> metric.Usage:
    return metric.Usage(day, tier, uncached_input=tokens * 5 // 10, cache_creation_5m=tokens // 20,
                        cache_read=tokens * 3 // 10, output=tokens - tokens * 5 // 10 - tokens // 20 - tokens * 3 // 10,
                        api_key_id=key, workspace_id=workspace, model=model,
                        source=source)


def admin_months(today: date = SAMPLE_TODAY) -> list:
    return [metric.month_key(first) for first in metric.month_range(FIRST_ADMIN_MONTH, today)]


# Workloads flagged per month (oldest first) and how many of each month's went on to use batches.
_FLAGGED = (2, 3, 2, 4, 3, 5, 4, 3, 4, 5, 4, 2)
_ADOPTED = (1, 2, 2, 3, 2, 4, 3, 2, 2, 2, 1, 0)
_REPOS = ("acme/enrichment", "acme/evals", "acme/reporting", "acme/search-indexer", "acme/support-chat")


def reviews(today: date = SAMPLE_TODAY) -> tuple:
    """(flags, facts): the review history's flagged workloads, half adopted by label and half by a later batched PR."""
    flags, facts, number = [], [], 100
    for month, flagged, moved in zip(metric.month_range(metric.months_back(today.replace(day=1), 11), today),
                                     _FLAGGED, _ADOPTED):
        for index in range(flagged):
            number += 1
            repo = _REPOS[(number * 7) % len(_REPOS)]
            at = datetime(month.year, month.month, 3 + 2 * index, 10, tzinfo=timezone.utc)
            flags.append(metric.Flag(repo, number, at, usd_month=105.0 * (1 + number % 4),
                                     team=_OWNERS.get(repo, NOBODY)))
            if index < moved:
                later = at + timedelta(days=9)
                facts.append(metric.Facts(repo, number, (ADOPTED_LABEL,)) if index % 2 else
                             metric.Facts(repo, number, (), batched_at=later))
    return flags, facts


def compute(focus=None, through=None) -> metric.Figures:
    flags, facts = reviews()
    return metric.compute(usage(), SETTINGS, today=SAMPLE_TODAY, admin_months=admin_months(), flags=flags,
                          facts=facts, focus=focus, through=through)
