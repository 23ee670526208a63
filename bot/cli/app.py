"""Run batch-review as a GitHub App: server, workers, database, manifest, requeue, onboard.

Settings come from the environment: GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY (PEM text) or
GITHUB_APP_PRIVATE_KEY_PATH, GITHUB_WEBHOOK_SECRET, GITHUB_API_URL (GitHub Enterprise Server:
https://HOST/api/v3), DATABASE_URL (default sqlite:///batch-review.sqlite3 in the working
directory) and BATCH_REVIEW_WORKERS (worker threads in the web process, default 2); for the
adoption metric, DASHBOARD_TOKEN (GET /dashboard answers only with it) and BATCH_REVIEW_CONFIG
(the config file whose `metric` section applies; `metric.report_repo` turns on the monthly issue).
Only serve, worker and migrate create the database; requeue and onboard need one.

Example:
  batch-review app manifest --url https://batch-review.example.com > manifest.json
"""

import json
import logging
import os
import signal
import sys

from prometheus_client import start_http_server

from bot.app import settings, wiring
from bot.app.events import manifest, manifest_form
from bot.app.onboard import NotInstalled, queue_all
from bot.app.server import create_app, serve
from bot.app.settings import DEFAULT_WORKERS, SettingsError
from bot.app.store import NoDatabase, Store, StoreError
from bot.cli.main import subcommand
from bot.clients.github import GitHubApp, GitHubError
from bot.core.names import plural


def add_arguments(parser):
    commands = parser.add_subparsers(dest="app_command", metavar="COMMAND", required=True)
    serve = subcommand(commands, "serve", "the webhook server with worker threads (local runs)",
                       "Serve POST /webhook and GET /healthz with worker threads, for a quick local run "
                       '(production: gunicorn "bot.app:create_app()").', "batch-review app serve --port 8000")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    worker = subcommand(commands, "worker", "workers only, beside web servers sharing PostgreSQL",
                        "Lease pending reviews from DATABASE_URL and do them until stopped (SIGTERM or Ctrl-C), on "
                        "machines that share a PostgreSQL DATABASE_URL with the web servers.",
                        "batch-review app worker --threads 4")
    worker.add_argument("--threads", type=int, default=DEFAULT_WORKERS * 2, help="worker threads (default %(default)s)")
    worker.add_argument("--metrics-port", type=int, metavar="N",
                        help="serve the workers' Prometheus metrics on this port (GET /metrics, no token: "
                             "keep the port on the internal network)")
    subcommand(commands, "migrate", "create the database or upgrade its schema",
               "Create the database at DATABASE_URL, or upgrade its schema, and exit: for deployments that "
               "migrate before starting the servers.", "DATABASE_URL=postgresql://app@db/batch_review batch-review app migrate")
    manifest = subcommand(commands, "manifest", "print the GitHub App manifest",
                          "Print the manifest for GitHub's App registration flow: JSON, or an HTML page whose button "
                          "registers the App.", "batch-review app manifest --url https://batch-review.example.com --html > register.html")
    manifest.add_argument("--url", required=True,
                          help="where the server will be reachable, https://HOST (the webhook is URL/webhook)")
    manifest.add_argument("--name", default="batch-review", help="the App's name (unique on GitHub)")
    manifest.add_argument("--html", action="store_true", help="an HTML page whose button registers the App")
    manifest.add_argument("--org", help="with --html: register the App for this organisation")
    manifest.add_argument("--github-url", default="https://github.com", help="with --html: GitHub Enterprise Server's URL")
    subcommand(commands, "requeue", "put failed reviews back in the queue",
               "Failed reviews (counted in /healthz) go back to the queue with fresh attempts. It needs the "
               "App's database: run it where the App runs, or set DATABASE_URL.", "batch-review app requeue")
    onboard = subcommand(commands, "onboard", "queue the onboarding pull request for repositories installed earlier",
                         "Queue an onboarding task for each repository the App is installed on (listed through GitHub "
                         "with the App's key): repositories installed before the organisation set `onboarding: "
                         "pull-request` get their 'Set up batch-review' pull request from the running workers, within "
                         "the write budget. A repository asked before is never asked again, so running it twice is "
                         "harmless. It needs the App's settings and database.",
                         "batch-review app onboard --installation 42 --repo octo-org/service")
    onboard.add_argument("--installation", type=int, action="append", default=[], metavar="ID",
                         help="only this installation's repositories (repeatable)")
    onboard.add_argument("--repo", action="append", default=[], metavar="OWNER/NAME",
                         help="only this repository (repeatable)")


def run(args) -> int:

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return {"serve": _serve, "worker": _worker, "migrate": _migrate, "manifest": _manifest,
                "requeue": _requeue, "onboard": _onboard}[args.app_command](args)
    except (SettingsError, StoreError, NoDatabase, GitHubError, NotInstalled) as error:
        print(f"batch-review app: {error}", file=sys.stderr)
        return 2


def _manifest(args) -> int:
    document = manifest(settings.http_url(args.url, "--url", "https://batch-review.example.com"), args.name)
    github_url = settings.http_url(args.github_url, "--github-url", "https://github.example.com")
    print(manifest_form(document, github_url, args.org) if args.html else json.dumps(document, indent=2))
    return 0


def _serve(args) -> int:


    app = create_app()
    status = serve(app, args.host, args.port, "batch-review App listening on http://{address}/webhook")
    app.extensions["batch-review"].workers.stop(timeout=60)  # reviews under way finish; the rest wait in the database
    return status


def _worker(args) -> int:

    loaded = settings.load(os.environ, webhook=False)
    parts = wiring.build(loaded, os.environ, args.threads)
    store, workers = parts.store, parts.workers.start()
    if args.metrics_port is not None:
        start_http_server(args.metrics_port)
    signal.signal(signal.SIGTERM, lambda *_: workers.stopping.set())
    print(f"batch-review workers: {args.threads} threads on {store.engine.url.render_as_string()}", flush=True)
    try:
        while not workers.stopping.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    workers.stop()
    store.close()
    return 0


def _migrate(args) -> int:
    store = Store(settings.database_url(os.environ))
    before, after = store.migrated
    done = ("created" if before is None else "upgraded from " + before) if before != after else "up to date"
    print(f"the batch-review database at {store.engine.url.render_as_string()} is at schema revision {after} ({done})")
    store.close()
    return 0


def _requeue(args) -> int:
    store = Store(settings.database_url(os.environ), create=False)
    print(f"{plural(store.requeue(), 'failed review')} back in the queue")
    store.close()
    return 0


def _onboard(args) -> int:
    loaded = settings.load(os.environ, webhook=False)
    store = Store(loaded.database_url, create=False)
    try:
        queued = queue_all(GitHubApp(loaded.app_id, loaded.private_key, base_url=loaded.api_url), store,
                           args.installation, args.repo)
    finally:
        store.close()
    repos = sum(len(names) for names in queued.values())
    print(f"queued onboarding for {plural(repos, 'repository', 'repositories')} of {plural(len(queued), 'installation')}; the workers "
          "open the pull requests where the organisation's config says `onboarding: pull-request`, within the write budget")
    return 0
