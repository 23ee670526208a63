"""What the metric reads: its config file, the store and helper job totals."""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Mapping, Optional

from bot.core.codeowners import NOBODY
from bot.core.codeowners import STORE_KIND as TEAM_KIND
from bot.core.config import DEFAULT, Config, ConfigError, from_mapping, parse_mapping, resolve
from bot.core import exemptions
from bot.core.exemptions import STORE_KIND as EXEMPTIONS_KIND
from bot.core.names import ADOPTED_LABEL, CONFIG_PATH, VERDICT_LABELS, Verdict
from bot.helper import BatchError, Job
from bot.metric import compute as metric
from bot.scan.cache import STORE_KIND

CONFIG_VARIABLE = "BATCH_REVIEW_CONFIG"  # the file whose `metric` section the App's dashboard and reports use
HISTORY_MONTHS = 15  # review history and usage read for the figures


def load_config(path: Optional[str] = None, env: Mapping = os.environ) -> Config:
    """The config file given (else BATCH_REVIEW_CONFIG, else .github/batch-review.yml here, else the defaults)."""
    path = path or env.get(CONFIG_VARIABLE) or (CONFIG_PATH if Path(CONFIG_PATH).is_file() else None)
    if path is None:
        return DEFAULT
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read the config file {path}: {error}") from None
    return from_mapping(parse_mapping(text, path))


def helper_usage(jobs_dir) -> list:
    """The token totals `run_batch` recorded in each job's manifest, as batch usage on the day its results were saved."""

    rows = []
    for path in sorted(Path(jobs_dir).glob("*/manifest.json")):
        try:
            job = Job(path.parent.name, jobs_dir).manifest
        except (OSError, ValueError, BatchError):
            continue  # damaged (`batch status` names it), or not one of ours (a folder name no job can have)
        totals = job.get("usage")
        if not totals:
            continue  # a run that has not finished: no totals yet
        saved = [entry["results_saved_at"] for entry in job.get("batches", ()) if entry.get("results_saved_at")]
        day = datetime.fromisoformat(max(saved) if saved else job["created_at"]).astimezone(timezone.utc).date()
        rows.append(metric.Usage(day, metric.BATCH, uncached_input=totals.get("input_tokens", 0),
                                 cache_creation_5m=totals.get("cache_creation_input_tokens", 0),
                                 cache_read=totals.get("cache_read_input_tokens", 0),
                                 output=totals.get("output_tokens", 0), source=metric.HELPER, origin=job["job"]))
    return rows


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time in the store is UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _batched(document: dict, scan: Optional[dict]) -> bool:
    """The review's diff brings in `messages.batches` or the shared helper (the scanner's "already batched")."""
    hints = [hint for workload in document.get("workloads", ()) for hint in workload.get("hints", ())]
    if any(hint.get("batched") and hint.get("new") for hint in hints):
        return True
    calls = (scan or {}).get("calls") or ()
    return any(isinstance(call, list) and len(call) > 3 and "b" in call[3] and "c" in call[3] for call in calls)


def _until(document: dict) -> Optional[date]:
    """The day a review's running exemption ends; None without one."""
    try:
        return date.fromisoformat((document.get("exemption") or {})["until"])
    except (KeyError, TypeError, ValueError):
        return None


def review_facts(store, since: datetime, history: Optional[list] = None) -> tuple:
    """(flags, facts) for the funnel, from the App's review history (`history`: read when not given), its scan
    cache and the PRs' labels; a flag carries the end of its latest review's exemption."""

    history = store.history(since=since) if history is None else history
    saving = {(review["repo"], review["number"]): review["document"].get("savings_usd_month") for review in history
              if review["document"].get("verdict") == Verdict.BATCH_CANDIDATE.value}  # the latest candidate review's
    exempt_until = {(review["repo"], review["number"]): _until(review["document"]) for review in history}  # the latest
    first = store.first_flags()
    teams = store.cache_values(TEAM_KIND, {f"{repo}#{number}" for repo, number, _ in first})
    flags = [metric.Flag(repo, number, _utc(at), saving.get((repo, number)),
                         (teams.get(f"{repo}#{number}") or {}).get("team", NOBODY), exempt_until.get((repo, number)))
             for repo, number, at in first]
    scans = store.cache_values(STORE_KIND, {review["scan_key"] for review in history if review["scan_key"]})
    batched_at = {}
    for review in history:
        key = (review["repo"], review["number"])
        if key not in batched_at and _batched(review["document"], scans.get(review["scan_key"])):
            batched_at[key] = _utc(review["reviewed_at"])
    labels = store.pr_labels()
    facts = [metric.Facts(repo, number, labels.get((repo, number), ()), batched_at.get((repo, number)))
             for repo, number in set(labels) | set(batched_at)]
    return flags, facts


def from_store(store, config: Config, *, today: Optional[date] = None, focus: Optional[date] = None,
               through: Optional[date] = None) -> metric.Figures:
    """The figures from what `batch-review metric sync` and `import` stored and the App's review history."""
    today = today or datetime.now(timezone.utc).date()
    since = metric.months_back(min(today, focus or today).replace(day=1), HISTORY_MONTHS)
    start = datetime(since.year, since.month, 1, tzinfo=timezone.utc)
    history = [{**review, "reviewed_at": _utc(review["reviewed_at"])} for review in store.history(since=start)]
    flags, facts = review_facts(store, start, history)
    return metric.compute(store.usage(since), metric.Accounting.from_config(config), today=today,
                          admin_months=store.usage_months(), flags=flags, facts=facts, focus=focus, through=through,
                          reviewed=metric.reviewed_prs(history), exemptions=standing_exemptions(store))


def standing_exemptions(store) -> tuple:
    """Every repository's exemptions per workload, from each PR's kept exemption (the App's store)."""
    by_repo = defaultdict(list)
    for key, value in store.cache_prefix(EXEMPTIONS_KIND).items():
        by_repo[key.rpartition("#")[0]].append(value)
    return tuple(found for repo in sorted(by_repo) for found in exemptions.standing(repo, by_repo[repo]))


def search_funnel(gh, scope: str, months) -> tuple:
    """The funnel from verdict labels through GitHub's search API (Action-only installs keep no history):
    PRs created in each month that carry `batch/candidate`, and how many of those also carry `batch/adopted`.
    `scope` narrows the search, e.g. `repo:acme/api` or `org:acme`."""
    funnel = []
    for first in months:
        created = f"created:{first.isoformat()}..{(metric.next_month(first) - timedelta(days=1)).isoformat()}"
        query = f'{scope} is:pr label:"{VERDICT_LABELS[Verdict.BATCH_CANDIDATE]}" {created}'
        flagged = gh.count_issues(query)
        adopted = gh.count_issues(f'{query} label:"{ADOPTED_LABEL}"') if flagged else 0
        funnel.append(metric.Funnel(metric.month_key(first), metric.month_label(first), flagged, adopted))
    return tuple(funnel)


def config_from_repo(gh, repo: str) -> Config:
    """The config as reviews of `repo` read it: its file on the default branch, else its organisation's."""
    config, problems, defaults_used = resolve(gh.read_text, repo)
    if defaults_used:
        raise ConfigError(*problems[1:])
    return config
