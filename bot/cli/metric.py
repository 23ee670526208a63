"""Store the usage the adoption metric counts: Admin usage report or CSV.

`metric sync` is a scheduled job, the only part that holds the admin key; `metric import` reads a
CSV export for months the usage report does not cover. Both write DATABASE_URL (and create it);
reports and the dashboard only read it. ANTHROPIC_BASE_URL points sync at another API host.

Example:
  ANTHROPIC_ADMIN_KEY=sk-ant-admin... batch-review metric sync --months 6
"""

import os
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.app.settings import SettingsError, database_url, http_url
from bot.app.store import Store, StoreError
from bot.cli.main import subcommand
from bot.clients.usage_report import DEFAULT_BASE_URL, KEY_VARIABLE, UsageReportError, fetch
from bot.core.names import plural
from bot.metric import compute as metric
from bot.metric.compute import CSV
from bot.metric.csv_import import CsvError, parse_csv
from bot.metric.source import helper_usage

DEFAULT_JOBS = "batch-jobs"


def add_arguments(parser):
    commands = parser.add_subparsers(dest="metric_command", metavar="COMMAND", required=True)
    sync = subcommand(commands, "sync", "fetch the Admin usage report (and helper job totals) into the database",
                      "Fetch the Admin usage report (daily, grouped by API key, workspace, model and service tier) "
                      f"for the last --months months into DATABASE_URL, with the admin key in {KEY_VARIABLE}. A "
                      "month fetched after it ended is never fetched again; the current month (and one not yet "
                      "fetched after its end) is refreshed. It also records the token totals of the `run_batch` "
                      f"jobs in --jobs (default ./{DEFAULT_JOBS}).",
                      f"{KEY_VARIABLE}=sk-ant-admin... batch-review metric sync --months 6")
    sync.add_argument("--months", type=int, default=6, help="months to cover, this one included (default 6)")
    sync.add_argument("--refresh", action="store_true", help="fetch months again even when they are stored closed")
    sync.add_argument("--jobs", help=f"the run_batch store whose job totals to record (default ./{DEFAULT_JOBS} "
                                     "when it exists)")
    imported = subcommand(commands, "import", "import usage from a CSV file (partial figures)",
                          "Import daily usage from a CSV export, for months the usage report does not cover "
                          "(partial figures). Columns: date (YYYY-MM-DD), service_tier, uncached_input_tokens, "
                          "cache_creation_tokens, cache_read_tokens, output_tokens, and optionally api_key_id, "
                          "workspace_id, model; other columns are ignored. Importing a file replaces the imported "
                          "usage of the days it covers.", "batch-review metric import usage.csv")
    imported.add_argument("file", help="the CSV file, or - for standard input")


def run(args) -> int:

    try:
        store = Store(database_url(os.environ))
    except (SettingsError, StoreError) as error:
        print(f"batch-review metric: {error}", file=sys.stderr)
        return 2
    try:
        return (_sync if args.metric_command == "sync" else _import)(args, store)
    finally:
        store.close()


def _sync(args, store) -> int:
    try:
        base_url = http_url(os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL, "ANTHROPIC_BASE_URL",
                            DEFAULT_BASE_URL)
    except SettingsError as error:
        print(f"batch-review metric sync: {error}", file=sys.stderr)
        return 2
    key = os.environ.get(KEY_VARIABLE, "")
    jobs = args.jobs or (DEFAULT_JOBS if Path(DEFAULT_JOBS).is_dir() else None)
    if not key and not jobs:
        print(f"batch-review metric sync: {KEY_VARIABLE} is not set and there is no run_batch store to read "
              f"(--jobs): nothing to sync. Set {KEY_VARIABLE} to an Admin API key for complete figures.",
              file=sys.stderr)
        return 2
    if jobs:
        rows = helper_usage(jobs)
        if rows:  # jobs deleted from the store keep the totals recorded earlier
            store.replace_usage(metric.HELPER, rows, origins=[row.origin for row in rows])
        print(f"helper jobs in {jobs}: {len(rows)} with token totals recorded")
    if not key:
        print(f"{KEY_VARIABLE} is not set: the usage report was not fetched, so the figures are partial.")
        return 0
    now = datetime.now(timezone.utc)
    today = now.date()
    stored = store.usage_months()
    for first in metric.month_range(metric.months_back(today.replace(day=1), max(args.months, 1) - 1), today):
        month, end = metric.month_key(first), metric.next_month(first)
        if stored.get(month, (None, False))[1] and not args.refresh:
            print(f"{month}: kept (fetched after the month ended)")
            continue
        try:
            rows = fetch(key, first, min(end, today + timedelta(days=1)), base_url=base_url)
        except UsageReportError as error:
            print(f"batch-review metric sync: {month}: {error}", file=sys.stderr)
            return 1
        closed = today >= end + timedelta(days=1)  # a day's grace for late usage
        store.replace_usage(metric.ADMIN, rows, start=first, end=end, month=(month, now, closed))
        print(f"{month}: {plural(len(rows), 'row')} fetched" + ("" if closed else " (the month is not over: fetched again next time)"))
    return 0


def _import(args, store) -> int:

    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8-sig")
        rows = parse_csv(text)
    except (OSError, UnicodeDecodeError, CsvError) as error:
        print(f"batch-review metric import: {args.file}: {error}", file=sys.stderr)
        return 2
    if not rows:
        print(f"batch-review metric import: {args.file} holds no usage rows; nothing changed.", file=sys.stderr)
        return 2
    first, last = min(row.day for row in rows), max(row.day for row in rows)
    store.replace_usage(CSV, rows, start=first, end=last + timedelta(days=1))
    print(f"imported {plural(len(rows), 'row')} for {first} to {last} (they replace earlier imports of those days)")
    return 0
