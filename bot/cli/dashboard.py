"""Serve or write the adoption metric's dashboard on this machine.

It reads what `batch-review metric sync` and `metric import` stored in DATABASE_URL and the App's
review history; the metric settings come from --config (else BATCH_REVIEW_CONFIG, else
.github/batch-review.yml here). To share the page with the team, use the App's `GET /dashboard`
with DASHBOARD_TOKEN (or put it behind the team's proxy); see the README.

Example:
  batch-review dashboard --sample      # then open http://127.0.0.1:8321/dashboard
"""

import os
import sys
from datetime import datetime, timezone

from bot.core.config import ConfigError
from bot.metric import sample as metric_sample
from bot.metric import source as metric_source
from bot.metric import view as metric_view

HOST = "127.0.0.1"  # never another address: this page has no token


def add_arguments(parser):
    parser.add_argument("--sample", action="store_true", help="a year of made-up data, to see how the page reads")
    parser.add_argument("--port", type=int, default=8321, help="port (default 8321; 0 picks a free one)")
    parser.add_argument("--config", help="the config file whose `metric` section applies")
    parser.add_argument("--output", help="write the page to this HTML file once instead of serving it")


def run(args) -> int:

    try:
        figures = _figures(args)
        if args.output:


            with open(args.output, "w") as page:
                page.write(metric_view.dashboard(figures(None), generated_at=datetime.now(timezone.utc),
                                                 sample=args.sample))
            print(f"wrote {args.output}", file=sys.stderr)
            return 0
        return _serve(args, figures)
    except (ConfigError, OSError) as error:
        print(f"batch-review dashboard: {error}", file=sys.stderr)
        return 2
    except ImportError as error:
        print(f"batch-review dashboard: {error.name} is missing: pip install 'batch-review[app]'", file=sys.stderr)
        return 2


def _figures(args):
    """focus month (or None) -> the figures to show."""
    if args.sample:
        return lambda focus: metric_sample.compute(focus=focus)
    # SQLAlchemy, the [app] extra: --sample runs without it.
    from bot.app.settings import database_url
    from bot.app.store import Store

    store = Store(database_url(os.environ), create=False)
    config = metric_source.load_config(args.config)
    return lambda focus: metric_source.from_store(store, config, focus=focus)


def _serve(args, figures) -> int:
    # Flask, the [app] extra: --output writes the page without it.
    from flask import Flask

    from bot.app import dashboard
    from bot.app.server import serve

    app = Flask(__name__)
    dashboard.register(app, figures, token=None, local=True, sample=args.sample)
    return serve(app, HOST, args.port, "batch-review dashboard on http://{address}/dashboard (Ctrl-C stops it)")
