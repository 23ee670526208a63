"""`GET /dashboard`: the metric's page, for the DASHBOARD_TOKEN only.

The token comes in an `Authorization: Bearer` header, or once through the sign-in form
(`POST /dashboard/login`), which sets a cookie derived from it; never in the address, which access
logs keep. The App registers it on its server; `batch-review dashboard` serves it on 127.0.0.1
without a token.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone
from typing import Callable, Optional

from flask import Response, redirect, request

from bot.core.config import ConfigError
from bot.core.names import DASHBOARD_REFUSALS
from bot.metric import view as metric_view
from bot.metric.compute import parse_month

TOKEN_VARIABLE = "DASHBOARD_TOKEN"
COOKIE = "batch-review-dashboard"
SESSION_SECONDS = 12 * 3600
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def session(token: str) -> str:
    """The sign-in cookie's value: derived from the token, so the browser never keeps the token itself."""
    return hmac.new(token.encode(), b"batch-review dashboard session", hashlib.sha256).hexdigest()


def refusal(token: Optional[str], authorization: Optional[str], cookie: Optional[str],
            query_token: bool = False) -> Optional[str]:
    """None when the request may see the page, else why not (a key of names.DASHBOARD_REFUSALS)."""
    if not token:
        return "off"
    if query_token:
        return "query"
    scheme, _, sent = (authorization or "").partition(" ")
    if scheme.lower() == "bearer":
        return None if hmac.compare_digest(sent.strip().encode(), token.encode()) else "token"
    return None if cookie and hmac.compare_digest(cookie.encode(), session(token).encode()) else "token"


def text(message: str, status: int, **headers) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain", headers={**HEADERS, **headers})


def guard(token: Optional[str]) -> Optional[Response]:
    """None when this request may see the dashboard (or /metrics), else the answer that refuses it and says why."""
    refused = refusal(token, request.headers.get("Authorization"), request.cookies.get(COOKIE), "token" in request.args)
    if refused is None:
        return None
    if refused in ("off", "query"):
        return text(DASHBOARD_REFUSALS[refused], 403 if refused == "off" else 400)
    return text(DASHBOARD_REFUSALS[refused], 401, **{"WWW-Authenticate": 'Bearer realm="batch-review"'})


def register(app, figures: Callable, *, token: Optional[str], local: bool = False, sample: bool = False) -> None:
    """Add `GET /dashboard` to a Flask app; `figures(focus)` computes the bot.metric.Figures to show
    (`focus`: the month of `?month=YYYY-MM`, or None). `local` (127.0.0.1 only) needs no token."""

    @app.get("/dashboard")
    def dashboard():
        if not local and (refused := guard(token)):
            return refused
        try:
            focus = parse_month(request.args["month"]) if request.args.get("month") else None
        except ValueError as error:
            return text(f"?month={request.args['month']}: {error}", 400)
        try:
            shown = figures(focus)
        except ConfigError as error:
            return text(f"The metric config cannot be used: {error}", 500)
        page = metric_view.dashboard(shown, generated_at=datetime.now(timezone.utc), sample=sample)
        return Response(page, mimetype="text/html", headers=HEADERS)

    if local:
        return

    def login_page(refused: bool, status: int) -> Response:
        page = metric_view.html_environment().get_template("dashboard-login.html.j2").render(refused=refused)
        return Response(page, status=status, mimetype="text/html", headers=HEADERS)

    @app.get("/dashboard/login")
    def login_form():
        return login_page(False, 200)

    @app.post("/dashboard/login")
    def login():
        sent = request.form.get("token", "")
        if refusal(token, f"Bearer {sent}", None) is not None:
            return login_page(True, 401)
        answer = redirect("/dashboard", 303)
        answer.set_cookie(COOKIE, session(token), max_age=SESSION_SECONDS, path="/dashboard", secure=request.is_secure,
                          httponly=True, samesite="Strict")
        return answer
