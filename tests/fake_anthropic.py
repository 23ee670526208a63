"""A fake Anthropic API (Messages and Message Batches) on 127.0.0.1, for tests that drive the real SDK."""

from __future__ import annotations

import json
import random
import re
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tests.local_server import LocalServer, QuietHandler

CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
BATCH_PATH = re.compile(r"/v1/messages/batches/(?P<id>[^/]+)(?P<action>/cancel|/results)?")


@dataclass
class Fault:
    """What the fake does instead of answering normally, `times` times in a row."""

    status: int | None = None  # an error answer; None closes the connection without one
    headers: dict = field(default_factory=dict)
    error_type: str = "api_error"
    after_handling: bool = False  # do the work first (e.g. create the batch), then fail
    stall: float = 0.0  # seconds to wait before failing
    cut_after_lines: int | None = None  # results only: send this many lines, then close
    times: int = 1


@dataclass
class FakeBatch:
    id: str
    requests: list  # [{"custom_id", "params"}]
    created_at: datetime
    retrieves_left: int
    status: str = "in_progress"
    ended_at: datetime | None = None
    cancel_initiated_at: datetime | None = None
    outcomes: dict = field(default_factory=dict)  # custom_id -> outcome, fixed when the batch ends


class FakeAnthropic(LocalServer):
    """A local HTTP server that answers like the Anthropic API, scripted per test.

    Start it with `with FakeAnthropic() as fake:` and point the SDK at it with `fake.client()`
    (or `anthropic.Anthropic(base_url=fake.base_url, api_key="test")`).

    Script its behaviour by setting attributes before the SDK calls it:
      - `fake.reply(params) -> str | list`: the text of every message (Messages API and batch
        results), or its list of content blocks (e.g. a `tool_use` block).
      - `fake.usage(params, text) -> dict`: the usage of every message.
      - `fake.outcomes[custom_id] = ["expired", "succeeded"]`: one outcome per batch that holds
        that request, in order (then "succeeded"): "succeeded", "canceled", "expired", or an
        error type such as "invalid_request_error" or "api_error" for an errored result.
        `fake.outcome_key(request)` gives the key of a request in `outcomes` (default: its custom_id).
      - `fake.retrieves_before_end`: how many retrieves see a new batch `in_progress` (default 1);
        a canceled batch ends at the next retrieve, `fake.end_all()` ends every batch at once.
      - `fake.fail(route, ...)`: the next call(s) of a route fail (see `Fault`); routes are
        "messages", "create", "list", "retrieve", "cancel", "delete", "results".
      - `fake.now`: the fake's clock (a function returning an aware datetime).
      - `fake.max_batch_bytes`, `fake.max_batch_requests`: the documented limits.

    Observe it through `fake.calls` (a Counter of routes served, and of "<route> failed"),
    `fake.received` (the params of every Messages API call), `fake.batches` (id -> FakeBatch, in
    creation order) and `fake.largest_create` (bytes of the biggest create body).

    Streaming is not faked. For behaviour beyond these knobs, subclass and override a route method
    (`messages`, `create`, `list`, `retrieve`, `cancel`, `delete`, `results`): each takes the parsed
    request and returns (status, body), raises ApiError, or for `results` returns the JSONL lines.
    """

    def __init__(self, *, seed: int = 0):
        self.reply = lambda params: "ok: " + json.dumps(params.get("messages", ""))[:40]
        self.usage = lambda params, text: {
            "input_tokens": len(json.dumps(params.get("messages", ""))) // 4,
            "output_tokens": len(text) // 4,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        self.outcomes: dict[str, list[str]] = {}
        self.outcome_key = lambda request: request["custom_id"]
        self.retrieves_before_end = 1
        self.now = lambda: datetime.now(timezone.utc)
        self.max_batch_bytes = 256_000_000
        self.max_batch_requests = 100_000
        self.calls: Counter = Counter()
        self.received: list[dict] = []
        self.batches: dict[str, FakeBatch] = {}
        self.largest_create = 0
        self._faults: dict[str, list[Fault]] = {}
        self._random = random.Random(seed)
        self._lock = threading.RLock()

    def handler(self) -> type:
        return _handler_for(self)

    def client(self, **options):
        """An `anthropic.Anthropic` client for this server (no SDK retries unless asked)."""
        import anthropic

        options.setdefault("max_retries", 0)
        # Plain HTTP: skipping the CA bundle saves 40 ms per client.
        options.setdefault("http_client", anthropic.DefaultHttpxClient(verify=False))
        return anthropic.Anthropic(base_url=self.base_url, api_key="test-key", **options)

    def fail(self, route: str, status: int | None = None, **fault) -> None:
        """Make the next call(s) of `route` fail; keyword arguments are `Fault` fields."""
        with self._lock:
            self._faults.setdefault(route, []).append(Fault(status, **fault))

    def take_fault(self, route: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(route)
            if not queue:
                return None
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            self.calls[route + " failed"] += 1
            return fault

    # The API, one method per route: each returns (status, body) or raises ApiError.

    def messages(self, body: dict) -> tuple[int, dict]:
        _check_params(body)
        if body.get("stream"):
            raise ApiError(400, "invalid_request_error", "this fake does not stream")
        with self._lock:
            self.received.append(body)
        return 200, self._message(body, service_tier="standard")

    def create(self, body: dict, size: int) -> tuple[int, dict]:
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            raise ApiError(400, "invalid_request_error", "requests: must be a non-empty list")
        if len(requests) > self.max_batch_requests:
            raise ApiError(400, "invalid_request_error", f"requests: at most {self.max_batch_requests}")
        seen = set()
        for number, request in enumerate(requests):
            custom_id = request.get("custom_id")
            if not isinstance(custom_id, str) or not CUSTOM_ID.fullmatch(custom_id):
                raise ApiError(400, "invalid_request_error", f"requests.{number}.custom_id: invalid {custom_id!r}")
            if custom_id in seen:
                raise ApiError(400, "invalid_request_error", f"requests.{number}.custom_id: duplicate {custom_id!r}")
            seen.add(custom_id)
            params = request.get("params") or {}
            for key in ("stream", "speed"):
                if key in params:
                    raise ApiError(
                        400, "invalid_request_error", f"requests.{number}.params.{key}: not allowed in a batch"
                    )
            _check_params(params, f"requests.{number}.params.")
        with self._lock:
            batch = FakeBatch(
                id=f"msgbatch_{len(self.batches) + 1:04d}{self._random.getrandbits(32):08x}",
                requests=requests,
                created_at=self.now(),
                retrieves_left=self.retrieves_before_end,
            )
            self.batches[batch.id] = batch
            self.largest_create = max(self.largest_create, size)
            return 200, self._batch_json(batch)

    def list(self, query: dict) -> tuple[int, dict]:
        limit = int(query.get("limit", 20))
        with self._lock:
            ids = list(reversed(self.batches))  # most recent first
            if "after_id" in query:
                ids = ids[ids.index(query["after_id"]) + 1 :]
            page = ids[:limit]
            return 200, {
                "data": [self._batch_json(self.batches[i]) for i in page],
                "has_more": len(ids) > limit,
                "first_id": page[0] if page else None,
                "last_id": page[-1] if page else None,
            }

    def retrieve(self, batch_id: str) -> tuple[int, dict]:
        with self._lock:
            batch = self._batch(batch_id)
            if batch.status != "ended":
                batch.retrieves_left -= 1
                if batch.retrieves_left < 0 or batch.status == "canceling":
                    self._end(batch)
            return 200, self._batch_json(batch)

    def cancel(self, batch_id: str) -> tuple[int, dict]:
        with self._lock:
            batch = self._batch(batch_id)
            if batch.status == "in_progress":
                batch.status = "canceling"
                batch.cancel_initiated_at = self.now()
            return 200, self._batch_json(batch)

    def delete(self, batch_id: str) -> tuple[int, dict]:
        with self._lock:
            if self._batch(batch_id).status != "ended":
                raise ApiError(400, "invalid_request_error", "only ended batches can be deleted")
            del self.batches[batch_id]
            return 200, {"id": batch_id, "type": "message_batch_deleted"}

    def results(self, batch_id: str) -> list[bytes]:
        """The results file as lines, in no fixed order."""
        with self._lock:
            batch = self._batch(batch_id)
            if batch.status != "ended":
                raise ApiError(400, "invalid_request_error", "batch has not ended")
            if self.now() > batch.created_at + timedelta(days=29):
                raise ApiError(404, "not_found_error", "results are no longer available")
            lines = [self._result_line(request, batch.outcomes[request["custom_id"]]) for request in batch.requests]
            self._random.shuffle(lines)
            return lines

    def end_all(self) -> None:
        """End every batch still processing, as the API does at expiry."""
        with self._lock:
            for batch in self.batches.values():
                if batch.status != "ended":
                    self._end(batch)

    def _batch(self, batch_id: str) -> FakeBatch:
        if batch_id not in self.batches:
            raise ApiError(404, "not_found_error", f"no batch {batch_id}")
        return self.batches[batch_id]

    def _end(self, batch: FakeBatch) -> None:
        for request in batch.requests:
            script = self.outcomes.get(self.outcome_key(request))
            outcome = script.pop(0) if script else "succeeded"
            if batch.status == "canceling" and outcome == "succeeded":
                outcome = "canceled"
            batch.outcomes[request["custom_id"]] = outcome
        batch.status = "ended"
        batch.ended_at = self.now()

    def _batch_json(self, batch: FakeBatch) -> dict:
        counts = dict.fromkeys(("processing", "succeeded", "errored", "canceled", "expired"), 0)
        if batch.status == "ended":
            for outcome in batch.outcomes.values():
                counts[outcome if outcome in counts else "errored"] += 1
        else:
            counts["processing"] = len(batch.requests)
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.status,
            "request_counts": counts,
            "created_at": _iso(batch.created_at),
            "expires_at": _iso(batch.created_at + timedelta(hours=24)),
            "ended_at": _iso(batch.ended_at),
            "cancel_initiated_at": _iso(batch.cancel_initiated_at),
            "archived_at": None,
            "results_url": f"{self.base_url}/v1/messages/batches/{batch.id}/results"
            if batch.status == "ended"
            else None,
        }

    def _result_line(self, request: dict, outcome: str) -> bytes:
        if outcome == "succeeded":
            result = {"type": "succeeded", "message": self._message(request["params"], service_tier="batch")}
        elif outcome in ("canceled", "expired"):
            result = {"type": outcome}
        else:
            error = {"type": outcome, "message": f"scripted {outcome}"}
            result = {"type": "errored", "error": {"type": "error", "error": error}}
        return json.dumps({"custom_id": request["custom_id"], "result": result}).encode() + b"\n"

    def _message(self, params: dict, *, service_tier: str) -> dict:
        reply = self.reply(params)
        content = [{"type": "text", "text": reply}] if isinstance(reply, str) else reply
        text = "".join(block.get("text", "") for block in content)
        return {
            "id": f"msg_{self._random.getrandbits(64):016x}",
            "type": "message",
            "role": "assistant",
            "model": params.get("model"),
            "content": content,
            "stop_reason": "tool_use" if any(block.get("type") == "tool_use" for block in content) else "end_turn",
            "stop_sequence": None,
            "usage": {**self.usage(params, text), "service_tier": service_tier},
        }


class ApiError(Exception):
    def __init__(self, status: int, error_type: str, message: str):
        super().__init__(message)
        self.status, self.error_type = status, error_type


def _check_params(params: dict, where: str = "") -> None:
    for key in ("model", "messages"):
        if key not in params:
            raise ApiError(400, "invalid_request_error", f"{where}{key}: Field required")
    max_tokens = params.get("max_tokens")
    if not isinstance(max_tokens, int) or max_tokens < 1:
        raise ApiError(400, "invalid_request_error", f"{where}max_tokens: must be at least 1")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _handler_for(fake: FakeAnthropic) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            size = int(self.headers.get("content-length") or 0)
            route, call = self._route(method, url.path, {k: v[-1] for k, v in parse_qs(url.query).items()}, size)
            if route is None:
                return self._send_error(ApiError(404, "not_found_error", f"no route {method} {url.path}"))
            if route == "create" and size > fake.max_batch_bytes:
                for done in range(0, size, 1 << 20):  # drained, not kept
                    self.rfile.read(min(1 << 20, size - done))
                fake.calls["create too large"] += 1
                return self._send_error(ApiError(413, "request_too_large", f"over {fake.max_batch_bytes} bytes"))
            if not (self.headers.get("x-api-key") or self.headers.get("authorization")):
                return self._send_error(ApiError(401, "authentication_error", "an API key is required"))
            raw = self.rfile.read(size) if size else b""
            fault = fake.take_fault(route)
            if fault and not fault.after_handling and fault.cut_after_lines is None:
                return self._fail(fault)
            try:
                answer = call(json.loads(raw) if raw else {})
            except ApiError as error:
                return self._send_error(error)
            except ValueError:
                return self._send_error(ApiError(400, "invalid_request_error", "body is not JSON"))
            fake.calls[route] += 1
            if fault and fault.after_handling:
                return self._fail(fault)
            if route == "results":
                return self._send_lines(answer, fault.cut_after_lines if fault else None)
            self._send_json(*answer)

        def _route(self, method: str, path: str, query: dict, size: int):
            if (method, path) == ("POST", "/v1/messages"):
                return "messages", fake.messages
            if (method, path) == ("POST", "/v1/messages/batches"):
                return "create", lambda body: fake.create(body, size)
            if (method, path) == ("GET", "/v1/messages/batches"):
                return "list", lambda body: fake.list(query)
            match = BATCH_PATH.fullmatch(path)
            if not match:
                return None, None
            batch_id, action = match["id"], match["action"]
            routes = {
                ("GET", None): ("retrieve", fake.retrieve),
                ("DELETE", None): ("delete", fake.delete),
                ("POST", "/cancel"): ("cancel", fake.cancel),
                ("GET", "/results"): ("results", fake.results),
            }
            route, handle = routes.get((method, action), (None, None))
            return route, handle and (lambda body: handle(batch_id))

        def _fail(self, fault: Fault) -> None:
            if fault.stall:
                time.sleep(fault.stall)
            if fault.status is None:
                self.close_connection = True
                return
            self._send_error(ApiError(fault.status, fault.error_type, "scripted failure"), fault.headers)

        def _send_error(self, error: ApiError, headers: dict | None = None) -> None:
            body = {"type": "error", "error": {"type": error.error_type, "message": str(error)}}
            self._send_json(error.status, body, headers)

        def _send_json(self, status: int, body: dict, headers: dict | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.send_header("request-id", "req_fake")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _send_lines(self, lines: list[bytes], cut_after_lines: int | None) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/binary")
            self.send_header("content-length", str(sum(map(len, lines))))
            self.end_headers()
            for number, line in enumerate(lines):
                if number == cut_after_lines:
                    self.wfile.write(line[: len(line) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(line)

    return Handler


if __name__ == "__main__":
    # Serve until stdin closes, printing the base URL first: a fake in its own process (benchmarks).
    with FakeAnthropic() as server:
        print(server.base_url, flush=True)
        sys.stdin.read()
