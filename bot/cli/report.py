"""Write the monthly retro report: the batch share, the funnel, where the gap is.

The figures come from DATABASE_URL (what `batch-review metric sync` and `metric import` stored, and
the App's review history); the metric settings from --config (else BATCH_REVIEW_CONFIG, else
.github/batch-review.yml here) or, with --config-repo, through the API as reviews read them.
Action-only installs keep no review history: --github-search counts the verdict labels instead.
--open-issue opens the report as an issue (GITHUB_TOKEN; once per month: an issue already open
for that month is left alone). It says plainly when the share moved up.

Example:
  batch-review report --month 2026-10 --output retro-2026-10.md
"""

import os
import sys
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from bot.clients.github import GitHub, GitHubError
from bot.core.config import ConfigError
from bot.metric import sample as metric_sample
from bot.metric import source as metric_source
from bot.metric import view as metric_view
from bot.metric.compute import parse_month, previous_month


def add_arguments(parser):
    parser.add_argument("--month", help="the month to report, YYYY-MM (default: last month)")
    parser.add_argument("--output", help="write the Markdown here (default: standard output)")
    parser.add_argument("--config", help="the config file whose `metric` section applies")
    parser.add_argument("--config-repo", metavar="OWNER/NAME",
                        help="read the config through the API, as reviews of this repository do")
    parser.add_argument("--github-search", metavar="SCOPE",
                        help='the funnel from verdict labels via GitHub search, e.g. "repo:acme/api" or "org:acme"')
    parser.add_argument("--open-issue", metavar="OWNER/NAME", help="open the report as an issue in this repository")
    parser.add_argument("--sample", action="store_true", help="the bundled sample data instead of the database")


def run(args) -> int:

    try:
        focus = parse_month(args.month) if args.month else None
        if args.sample:

            figures = metric_sample.compute(focus=focus or previous_month(metric_sample.SAMPLE_TODAY), through=focus)
        else:
            figures = _figures(args, focus)
        return _write(args, figures)
    except (ValueError, ConfigError, GitHubError, OSError) as error:
        print(f"batch-review report: {error}", file=sys.stderr)
        return 2


def _github():

    token = os.environ.get("GITHUB_TOKEN")
    if not token:
        raise ValueError("GITHUB_TOKEN is not set; --config-repo, --github-search and --open-issue need it")
    return GitHub.from_env(token, os.environ)


def _figures(args, focus):

    # SQLAlchemy, the [app] extra: --sample runs without it.
    from bot.app.settings import database_url
    from bot.app.store import Store

    gh = _github() if (args.config_repo or args.github_search or args.open_issue) else None
    config = (metric_source.config_from_repo(gh, args.config_repo) if args.config_repo
              else metric_source.load_config(args.config))
    focus = focus or previous_month(datetime.now(timezone.utc).date())
    store = Store(database_url(os.environ), create=False)
    try:
        figures = metric_source.from_store(store, config, focus=focus, through=focus)
    finally:
        store.close()
    if args.github_search:
        figures = replace(figures, funnel=metric_source.search_funnel(
            gh, args.github_search, [period.start for period in figures.months]))
    return figures


def _write(args, figures) -> int:

    text = metric_view.report(figures)
    if args.output:
        Path(args.output).write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if args.open_issue:
        url = _github().open_issue(args.open_issue, metric_view.report_title(figures), text,
                                   metric_view.report_marker(figures))
        print(f"the report is at {url}", file=sys.stderr)
    return 0
