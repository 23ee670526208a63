"""The Admin usage report: daily usage rows for the metric.

One function, `fetch`, so the report's successor (the Usage and Cost Analytics API,
`/v1/organizations/analytics/usage_report`) can replace it. The request, as documented for the
Messages usage report: `starting_at` / `ending_at` (RFC 3339), `bucket_width=1d` (at most 31
buckets a page), `group_by[]` for each dimension, and `page` set to the previous answer's
`next_page` while `has_more` is true. Each bucket is `{"starting_at", "ending_at", "results": [...]}`;
each result carries the grouped dimensions (`api_key_id`, `workspace_id`, `model`, `service_tier`,
each possibly null) and `uncached_input_tokens`, `cache_creation: {ephemeral_5m_input_tokens,
ephemeral_1h_input_tokens}`, `cache_read_input_tokens`, `output_tokens`.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date

from bot.metric.compute import ADMIN, Usage

DEFAULT_BASE_URL = "https://api.anthropic.com"
PATH = "/v1/organizations/usage_report/messages"
GROUP_BY = ("api_key_id", "workspace_id", "model", "service_tier")
BUCKETS_PER_PAGE = 31  # the most the report returns per page with daily buckets
ATTEMPTS = 5  # tries of one page through rate limits, overload and dropped connections
KEY_VARIABLE = "ANTHROPIC_ADMIN_KEY"


class UsageReportError(Exception):
    """The usage report could not be fetched; the message says why and what to do."""


def fetch(admin_key: str, start: date, end: date, *, base_url: str = DEFAULT_BASE_URL, timeout: float = 60.0,
          retry_wait: float = 1.0) -> list:
    """Every daily usage row from `start` to `end` (exclusive), following every page."""
    if not admin_key:
        raise UsageReportError(f"{KEY_VARIABLE} is not set: create an Admin API key (sk-ant-admin...) in the "
                               "Claude Console under Settings, Admin keys, and give it to `batch-review metric sync`.")
    query = [("starting_at", f"{start.isoformat()}T00:00:00Z"), ("ending_at", f"{end.isoformat()}T00:00:00Z"),
             ("bucket_width", "1d"), ("limit", str(BUCKETS_PER_PAGE))] + [("group_by[]", name) for name in GROUP_BY]
    rows, page = [], None
    while True:
        answer = _get(base_url.rstrip("/") + PATH + "?" + urllib.parse.urlencode(query + ([("page", page)] if page else [])),
                      admin_key, timeout, retry_wait)
        for bucket in answer.get("data") or ():
            day = date.fromisoformat(bucket["starting_at"][:10])
            rows.extend(_row(day, result) for result in bucket.get("results") or ())
        page = answer.get("next_page")
        if not answer.get("has_more") or not page:
            return rows


def _row(day: date, result: dict) -> Usage:
    creation = result.get("cache_creation") or {}
    return Usage(
        day=day,
        service_tier=result.get("service_tier") or "",
        uncached_input=int(result.get("uncached_input_tokens") or 0),
        cache_creation_5m=int(creation.get("ephemeral_5m_input_tokens") or 0),
        cache_creation_1h=int(creation.get("ephemeral_1h_input_tokens") or 0),
        cache_read=int(result.get("cache_read_input_tokens") or 0),
        output=int(result.get("output_tokens") or 0),
        api_key_id=result.get("api_key_id") or "",
        workspace_id=result.get("workspace_id") or "",
        model=result.get("model") or "",
        source=ADMIN,
    )


def _get(url: str, admin_key: str, timeout: float, retry_wait: float) -> dict:
    request = urllib.request.Request(url, headers={"x-api-key": admin_key, "anthropic-version": "2023-06-01",
                                                   "user-agent": "batch-review-metric"})
    for attempt in range(ATTEMPTS):
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            message = _message(error)
            if error.code == 401:
                raise UsageReportError(f"the Admin API refused {KEY_VARIABLE} (401: {message}): set it to an Admin "
                                       "API key (sk-ant-admin...) of the organisation, from the Claude Console "
                                       "under Settings, Admin keys; a regular API key cannot read usage.") from None
            if error.code == 403:
                raise UsageReportError(f"the Admin API does not let {KEY_VARIABLE} read the usage report "
                                       f"(403: {message}).") from None
            if error.code not in (408, 409, 429) and error.code < 500 or attempt == ATTEMPTS - 1:
                raise UsageReportError(f"the usage report answered {error.code}: {message}") from None
            wait = _retry_after(error.headers)
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            if attempt == ATTEMPTS - 1:
                raise UsageReportError(f"cannot reach the usage report at {url.split('?')[0]}: "
                                       f"{getattr(error, 'reason', error)}") from None
            wait = None
        except ValueError as error:
            raise UsageReportError(f"the usage report answered something that is not JSON: {error}") from None
        time.sleep(min(60.0, retry_wait * 2**attempt if wait is None else wait))
    raise AssertionError("unreachable")  # pragma: no cover


def _message(error: urllib.error.HTTPError) -> str:
    """The API's error message ({"type": "error", "error": {"type", "message"}}), else the HTTP reason."""
    try:
        body = json.loads(error.read() or b"{}")
        return body["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return str(error.reason)


def _retry_after(headers) -> float | None:
    try:
        return float(headers.get("retry-after"))
    except (TypeError, ValueError):
        return None
