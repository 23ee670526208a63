"""A fake Admin API on 127.0.0.1: `GET /v1/organizations/usage_report/messages`, as its docs describe it.

Daily buckets from `starting_at` to `ending_at` (one per day, `results` empty on a day without
usage), at most `limit` (<= 31) buckets per page, `next_page` / `has_more` for the rest; each
result carries the grouped dimensions (others null) and the token counts. A wrong `x-api-key`
gets the API's 401 error body.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from tests.local_server import LocalServer, QuietHandler

KEY = "sk-ant-admin01-test"
PATH = "/v1/organizations/usage_report/messages"
DIMENSIONS = ("api_key_id", "workspace_id", "model", "service_tier")


def result(tier, *, key="apikey_01A", workspace="wrkspc_01A", model="claude-haiku-4-5", uncached=0, cache_5m=0,
           cache_1h=0, cache_read=0, output=0) -> dict:
    """One usage result as the report gives it."""
    return {"api_key_id": key, "workspace_id": workspace, "model": model, "service_tier": tier,
            "context_window": None, "uncached_input_tokens": uncached,
            "cache_creation": {"ephemeral_5m_input_tokens": cache_5m, "ephemeral_1h_input_tokens": cache_1h},
            "cache_read_input_tokens": cache_read, "output_tokens": output,
            "server_tool_use": {"web_search_requests": 0}}


class FakeAdmin(LocalServer):
    """`with FakeAdmin() as fake:`; `fake.usage[date] = [result(...), ...]`; point ANTHROPIC_BASE_URL at `fake.base_url`.

    `fake.requests` records each request's query; `fake.faults` holds (status, headers) answers to
    give before the next real ones; `fake.page_size` caps the buckets per page below the client's `limit`.
    """

    def __init__(self, page_size: int = 31):
        self.usage: dict = defaultdict(list)
        self.requests: list = []
        self.faults: list = []
        self.page_size = page_size
        self.problems: list = []  # requests that break the documented contract

    def handler(self) -> type:
        fake = self

        class Handler(QuietHandler):
            def do_GET(self):
                status, body, headers = fake._answer(self)
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def months_asked(self) -> list:
        """The `starting_at` month of every first page asked for."""
        return [query["starting_at"][0][:7] for query in self.requests if "page" not in query]

    def _answer(self, request) -> tuple:
        url = urlsplit(request.path)
        query = parse_qs(url.query)
        if url.path != PATH:
            return 404, _error("not_found_error", f"no route {url.path}"), {}
        if request.headers.get("x-api-key") != KEY:
            return 401, _error("authentication_error", "invalid x-api-key"), {}
        self.requests.append(query)
        if self.faults:
            status, headers = self.faults.pop(0)
            return status, _error("rate_limit_error" if status == 429 else "api_error", "try again"), headers
        if request.headers.get("anthropic-version") != "2023-06-01":
            self.problems.append(f"anthropic-version {request.headers.get('anthropic-version')!r}")
        if query.get("bucket_width") != ["1d"] or set(query.get("group_by[]", ())) != set(DIMENSIONS):
            self.problems.append(f"bucket_width or group_by[]: {query}")
        limit = int(query.get("limit", ["7"])[0])
        if not 1 <= limit <= 31:
            self.problems.append(f"limit {limit} (1d buckets: at most 31)")
        start = _day(query["starting_at"][0])
        end = _day(query["ending_at"][0])
        if "page" in query:
            start = date.fromisoformat(base64.b64decode(query["page"][0]).decode())
        days = []
        day = start
        while day < end and len(days) < min(limit, self.page_size):
            days.append(day)
            day += timedelta(days=1)
        more = day < end
        data = [{"starting_at": f"{d.isoformat()}T00:00:00Z", "ending_at": f"{(d + timedelta(days=1)).isoformat()}T00:00:00Z",
                 "results": list(self.usage.get(d, ()))} for d in days]
        return 200, {"data": data, "has_more": more,
                     "next_page": base64.b64encode(day.isoformat().encode()).decode() if more else None}, {}


def _day(text: str) -> date:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).date()


def _error(kind: str, message: str) -> dict:
    return {"type": "error", "error": {"type": kind, "message": message}}
