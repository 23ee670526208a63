"""The one place that builds the App's parts: store, GitHub App, work, workers."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Mapping, Optional

from bot.app import expired, metrics, monthly_issue, retention, sweep
from bot.app.budgets import Budgets, with_budgets
from bot.app.settings import Settings
from bot.app.store import Store
from bot.app.work import make_work
from bot.app.worker import Workers
from bot.clients.claude import Claude
from bot.clients.github import GitHubApp, Pacing
from bot.metric import source as metric_source


@dataclass
class Parts:
    """What /healthz, `app serve`, `app worker` and the tests reach."""

    store: Store
    github: GitHubApp
    workers: Workers
    metric_config: Callable  # () -> the metric config, read from BATCH_REVIEW_CONFIG on each use


def build(settings: Settings, env: Mapping, threads: int, *, pacing: Pacing = Pacing(), work: Optional[Callable] = None,
          **worker_options) -> Parts:
    """Store -> GitHubApp -> work (the review pipeline, or `work` in tests) with monthly reports, lapsed exemptions'
    issues, the redelivery sweep and the daily purge, within each installation's GitHub write budgets -> workers."""
    store = Store(settings.database_url)
    budgets = Budgets(store, settings.write_budgets)
    github = GitHubApp(settings.app_id, settings.private_key, base_url=settings.api_url, pacing=pacing,
                       observe=metrics.github_answered, count_write=budgets.count)
    metric_config = functools.partial(metric_source.load_config, env=env)
    work = monthly_issue.with_reports(work or make_work(github, store, Claude.from_env(env), budgets), store, github,
                                      metric_config)
    work = expired.with_expiries(work, store, github)
    work = retention.with_purges(sweep.with_sweeps(work, store, github), store, settings.retention_days)
    work = with_budgets(work, budgets)
    return Parts(store, github, Workers(store, work, threads, **worker_options), metric_config)
