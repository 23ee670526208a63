"""`GET /dashboard`: the metric's page, for the DASHBOARD_TOKEN only.

The App registers it on its server; `batch-review dashboard` serves it on 127.0.0.1 without a token.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timezone
from typing import Callable, Optional

from flask import Response, request

from bot.core.config import ConfigError
from bot.core.names import DASHBOARD_REFUSALS
from bot.metric import view as metric_view
from bot.metric.compute import parse_month

TOKEN_VARIABLE = "DASHBOARD_TOKEN"
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",  # a `?token=` must not leak through a link
    "X-Content-Type-Options": "nosniff",
}


def refusal(token: Optional[str], authorization: Optional[str], query_token: Optional[str]) -> Optional[str]:
    """None when the request may see the page, else why not (a key of names.DASHBOARD_REFUSALS)."""
    if not token:
        return "off"
    scheme, _, sent = (authorization or "").partition(" ")
    sent = sent.strip() if scheme.lower() == "bearer" else (query_token or "")
    return None if hmac.compare_digest(sent.encode(), token.encode()) else "token"


def register(app, figures: Callable, *, token: Optional[str], local: bool = False, sample: bool = False) -> None:
    """Add `GET /dashboard` to a Flask app; `figures(focus)` computes the bot.metric.Figures to show
    (`focus`: the month of `?month=YYYY-MM`, or None). `local` (127.0.0.1 only) needs no token."""



    def text(message: str, status: int, **headers) -> Response:
        return Response(message + "\n", status=status, mimetype="text/plain", headers={**HEADERS, **headers})

    @app.get("/dashboard")
    def dashboard():
        if not local:
            refused = refusal(token, request.headers.get("Authorization"), request.args.get("token"))
            if refused == "off":
                return text(DASHBOARD_REFUSALS[refused], 403)
            if refused:
                return text(DASHBOARD_REFUSALS[refused], 401, **{"WWW-Authenticate": 'Bearer realm="batch-review"'})
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
