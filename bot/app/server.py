"""The App's web server: `POST /webhook`, `GET /healthz`, `GET /dashboard`, `GET /metrics`.

Production: `gunicorn "bot.app:create_app()"`. Settings come from the environment (bot/settings.py);
a test passes a mapping to `create_app` that overrides them and the tuning below.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time

import orjson
from flask import Flask, Response, abort, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST
from werkzeug.serving import make_server

from bot.app import dashboard, events, expired, metrics, retention, sweep, wiring
from bot.app import monthly_issue as metric_issue
from bot.app import settings as settings_module
from bot.app.store import BUTTONS
from bot.app.worker import LEASE_SECONDS, MAX_ATTEMPTS, POLL_SECONDS, RETRY_SECONDS
from bot.clients.github import Pacing
from bot.core import buttons
from bot.metric import source as metric_source

log = logging.getLogger(__name__)

SETTING_NAMES = ("GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY", "GITHUB_APP_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET",
                 "GITHUB_API_URL", "DATABASE_URL", "BATCH_REVIEW_WORKERS", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL",
                 "DASHBOARD_TOKEN", "BATCH_REVIEW_CONFIG", "GITHUB_WRITE_BUDGETS", "BATCH_REVIEW_RETENTION_DAYS")

SWITCH_INTERVAL = 0.0005  # seconds a thread may hold the GIL while others wait for it

DEFAULTS = {
    "MAX_CONTENT_LENGTH": events.MAX_BODY,  # larger bodies get 413
    "LEASE_SECONDS": LEASE_SECONDS,
    "POLL_SECONDS": POLL_SECONDS,
    "MAX_ATTEMPTS": MAX_ATTEMPTS,
    "RETRY_SECONDS": RETRY_SECONDS,
    "GITHUB_PACING": Pacing(),  # how PyGithub spares GitHub (tests: no waits)
    "WORK": None,  # work(lease) -> review or None; None: the real review pipeline
    "REPORT_CHECK_SECONDS": metric_issue.CHECK_SECONDS,  # how often the monthly report issue is looked at
    "SWEEP_SECONDS": sweep.EVERY_SECONDS,  # how often missed deliveries are asked for again (and at start-up); 0: never
    "EXPIRED_CHECK_SECONDS": expired.CHECK_SECONDS,  # how often the day's lapsed-exemption task is looked at; 0: never
    "PURGE_SECONDS": retention.EVERY_SECONDS,  # how often history past the retention is deleted (and at start-up); 0: never
}


def create_app(config=None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.from_mapping(config or {})
    env = {**os.environ, **{name: str(app.config[name]) for name in SETTING_NAMES if name in app.config}}
    settings = settings_module.load(env)
    server = wiring.build(settings, env, settings.workers, pacing=app.config["GITHUB_PACING"], work=app.config["WORK"],
                          lease_seconds=app.config["LEASE_SECONDS"], poll_seconds=app.config["POLL_SECONDS"],
                          max_attempts=app.config["MAX_ATTEMPTS"], retry_seconds=app.config["RETRY_SECONDS"])
    store, github, workers, metric_config = server.store, server.github, server.workers, server.metric_config
    app.extensions["batch-review"] = server
    if settings.workers:
        # Worker threads keep the GIL busy; a webhook thread back from each socket or SQLite call would
        # wait up to the 5 ms default switch interval for it every time (the convoy effect).
        sys.setswitchinterval(SWITCH_INTERVAL)
    stop = workers.stopping  # the identity and report threads end with the workers
    threading.Thread(target=github.learn_login, args=(stop,), name="batch-review-identity", daemon=True).start()
    workers.start()
    metric_issue.schedule(store, metric_config, workers.wake, stop, every=app.config["REPORT_CHECK_SECONDS"])
    if app.config["EXPIRED_CHECK_SECONDS"]:
        expired.schedule(store, workers.wake, stop, every=app.config["EXPIRED_CHECK_SECONDS"])
    if app.config["SWEEP_SECONDS"]:
        sweep.schedule(store, workers.wake, stop, every=app.config["SWEEP_SECONDS"], start=workers.process)
    if app.config["PURGE_SECONDS"]:
        retention.schedule(store, workers.wake, stop, every=app.config["PURGE_SECONDS"])
    token = env.get(dashboard.TOKEN_VARIABLE)
    dashboard.register(app, lambda focus: metric_source.from_store(store, metric_config(), focus=focus), token=token)

    @app.before_request
    def started():
        g.started = time.perf_counter()

    @app.after_request
    def observed(response):
        if request.path == "/webhook":
            metrics.delivered(request.headers.get("X-GitHub-Event", ""), response.status_code, g.get("status"),
                              time.perf_counter() - g.started)
        return response

    @app.get("/metrics")
    def metrics_page():
        """Prometheus text, for the dashboard token (`Authorization: Bearer`), as the dashboard."""
        return dashboard.guard(token) or Response(metrics.exposition(store), mimetype=CONTENT_TYPE_LATEST)

    @app.post("/webhook")
    def webhook():
        body = request.get_data(cache=False)
        if request.content_length is None and len(body) >= app.config["MAX_CONTENT_LENGTH"]:
            abort(413)  # a chunked body is cut at the limit rather than refused
        if not events.signature_matches(settings.webhook_secret, body, request.headers.get("X-Hub-Signature-256")):
            return jsonify(error="missing or wrong X-Hub-Signature-256"), 401
        event = request.headers.get("X-GitHub-Event", "")
        delivery = request.headers.get("X-GitHub-Delivery", "")
        try:
            payload = orjson.loads(body)  # a 24 KB payload in a third of json's time
            if not isinstance(payload, dict):
                raise events.PayloadError("the payload is not a JSON object")
            routed = events.route(event, payload, github.known_login)
        except (ValueError, RecursionError) as error:  # JSONDecodeError, PayloadError, JSON nested too deep
            log.warning("delivery %s (%s): bad payload: %s", delivery, event, error)
            return jsonify(error=f"bad payload: {error}"), 400
        if not routed.tasks:
            log.info("delivery %s (%s %s): %s", delivery, event, payload.get("action", ""), routed.reason)
            return answered(200, status="ignored", reason=routed.reason)
        if not delivery:
            return jsonify(error="missing X-GitHub-Delivery"), 400
        if routed.click is not None and not store.held([delivery]):  # kept before its review can be leased
            keep_click(store, routed.click)
        if not store.record(delivery, event, routed.tasks):
            log.info("delivery %s (%s): already recorded", delivery, event)
            return answered(200, status="duplicate")
        workers.wake()
        if log.isEnabledFor(logging.INFO):
            log.info("delivery %s (%s %s): queued %s", delivery, event, payload.get("action", ""),
                     ", ".join(f"{t.kind} {t.repo} {t.subject}".strip() for t in routed.tasks))
        return answered(202, status="queued", tasks=len(routed.tasks))

    @app.get("/healthz")
    def healthz():
        answer = health(server)
        return jsonify(answer), 200 if answer["status"] == "ok" else 503

    return app


def answered(code: int, **document):
    """A webhook answer whose `status` the metrics count (kept on `g`, so nothing parses the answer again)."""
    g.status = document["status"]
    return jsonify(document), code


def keep_click(store, click: events.Click, now: float | None = None) -> None:
    """A click on our check run's button, kept per PR with when it arrived; whether it counts is checked by the review."""
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if now is None else now))
    store.cache_update(BUTTONS, buttons.store_key(click.repo, click.number),
                       lambda kept: buttons.with_click(kept, click.by, click.question, click.value, at, click.url))


def health(server: wiring.Parts) -> dict:
    """The /healthz document: status "ok", or "failing" with the reason."""
    problems, answer = [], {"identity": server.github.known_login, "workers": server.workers.alive()}
    try:
        answer.update(server.store.counts())
        failures = server.store.failures()
    except Exception as error:
        problems.append(f"the database cannot be read: {type(error).__name__}: {error}")
        failures = []
    if failures:
        kind, repo, subject, error = failures[0]
        problems.append(f"{answer['failed']} task(s) failed after {server.workers.max_attempts} attempts; "
                        f"latest: {kind} {repo} {subject}: {error}")
    if answer["workers"] < server.workers.count:
        problems.append(f"{server.workers.count - answer['workers']} of {server.workers.count} worker threads stopped")
    if server.github.known_login is None and server.github.login_error:
        problems.append(f"cannot authenticate as the App (GET /app): {server.github.login_error}")
    answer["status"] = "failing" if problems else "ok"
    if problems:
        answer["reason"] = "; ".join(problems)
    return answer


def serve(app: Flask, host: str, port: int, banner: str) -> int:
    """Serve `app` until SIGTERM or Ctrl-C, printing `banner` with its {address} (the App and the dashboard)."""
    server = make_server(host, port, app, threaded=True)
    print(banner.format(address=f"{host}:{server.server_port}"), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
