"""A fake GitHub REST API on 127.0.0.1 for tests: in-memory repos, pagination, scripted failures, checked requests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Callable, Optional
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import jsonschema
import requests

from bot.clients.github import ACTIONS_LOGIN, Pacing
from tests.conftest import FIXTURES
from tests.local_server import LocalServer, QuietHandler

OPENAPI = json.loads((FIXTURES / "github-api" / "openapi-subset.json").read_text())
NO_WAITS = Pacing(backoff=0, max_retry_after=0, secondary_rate_wait=0, between_requests=0, between_writes=0)
SECONDARY_RATE_LIMIT = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
GREY = "ededed"  # the colour GitHub gives a label it creates because it was applied before it existed


@dataclass
class Token:
    login: Optional[str] = None  # None: the Actions token (GET /user answers 403; it writes as github-actions[bot])
    write: bool = True  # False: a fork PR's read-only token

    @property
    def author(self) -> str:
        return self.login or ACTIONS_LOGIN


@dataclass
class Call:
    """One request the fake received, as it answered it."""

    method: str
    route: str  # the OpenAPI path template, e.g. /repos/{owner}/{repo}/pulls/{pull_number}
    path: str  # without the GHES prefix
    query: dict
    body: object
    token: Optional[str]
    status: int = 0
    at: float = 0.0  # time.monotonic() on arrival

    @property
    def write(self) -> bool:
        return self.method in ("POST", "PATCH", "PUT", "DELETE")


@dataclass
class FakePull:
    number: int
    head_sha: str
    body: Optional[str] = None
    author: str = "octocat"
    author_type: str = "User"
    draft: bool = False
    fork: Optional[str] = None  # the head repository's full name for a PR from a fork
    title: str = "A change"
    labels: list = field(default_factory=list)  # label names, in the order applied
    files: list = field(default_factory=list)  # {"filename", "status", "patch"?}
    merged_at: Optional[str] = None  # ISO 8601 when merged (then the PR is closed)
    updated_at: str = "2026-01-01T00:00:00Z"
    closed: bool = False  # closed without merging
    head_ref: str = "feature"  # the branch it is from
    base_ref: Optional[str] = None  # the branch it goes into (None: the default branch)

    @property
    def state(self) -> str:
        return "closed" if self.merged_at or self.closed else "open"


@dataclass
class FakeRepo:
    full_name: str
    default_branch: str = "main"
    labels: dict = field(default_factory=dict)  # name -> {"color", "description"}
    contents: dict = field(default_factory=dict)  # (ref, path) -> text; ref is a branch or a SHA
    pulls: dict = field(default_factory=dict)  # number -> FakePull
    comments: dict = field(default_factory=dict)  # issue number -> [comment dict]
    events: dict = field(default_factory=dict)  # issue number -> [event dict]
    check_runs: list = field(default_factory=list)  # [check run dict], in the order created
    review_comments: dict = field(default_factory=dict)  # pull number -> [review comment dict], oldest first
    issues: dict = field(default_factory=dict)  # number -> issue dict (not pull requests)
    installation: int = 0  # the App's installation on it (`GET /repos/{owner}/{repo}/installation`); 0: none
    branches: dict = field(default_factory=dict)  # name -> head commit SHA (the default branch: see `branch_sha`)
    commits: list = field(default_factory=list)  # (branch, path, message) of each file committed through the API
    archived: bool = False
    fork: bool = False
    empty: bool = False  # no commit yet: no branch, no contents
    reactions: dict = field(default_factory=dict)  # issue comment id -> [reaction dict], oldest first
    roles: dict = field(default_factory=dict)  # login -> role_name (admin, maintain, write, triage); others: read

    def branch_sha(self, name: str) -> Optional[str]:
        if self.empty:
            return None
        return self.branches.get(name, "a" * 40 if name == self.default_branch else None)


@dataclass
class FakeApp:
    """The GitHub App the fake knows: its JWTs must verify with `public_key` (RS256)."""

    id: int
    public_key: str  # PEM
    slug: str = "batch-review"
    token_seconds: int = 3600  # lifetime of the installation tokens it issues
    tokens: list = field(default_factory=list)  # (installation id, token) of every token issued


def _route_regex(template: str) -> re.Pattern:
    """`{path}` and a label's `{name}` may hold slashes; every other parameter is one segment."""
    pattern = re.escape(template)
    for name in re.findall(r"\{(\w+)\}", template):
        wide = name == "path" or (name == "name" and template.endswith("/labels/{name}")) or template.endswith("/git/ref/{ref}")
        pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>{'.*' if name == 'path' else '.+' if wide else '[^/]+'})")
    return re.compile(pattern)


class FakeGitHub(LocalServer):
    """A local HTTP server that answers like api.github.com (or GHES under `/api/v3`), scripted per test.

    Use it as `with FakeGitHub() as fake:` and point a client at `fake.base_url`.

    State, set up through methods:
      - `fake.add_token(token, login=None, write=True)`: who a token is (None: the Actions token).
      - `fake.add_repo("owner/name", archived=..., fork=..., empty=...)` -> FakeRepo (its `branches` beside the
        default one, whose head is "a" * 40; `commits` made through `PUT /contents`);
        `fake.add_pull(repo, number, body=..., head_ref=..., closed=..., merged_at=...)` -> FakePull;
        `fake.put_file(repo, path, text, ref=None)` (None: the default branch);
        `fake.add_comment(repo, number, author, body)`; `fake.apply_label(repo, number, name, by)`;
        `fake.add_files(repo, number, [(path, patch)...])`; `fake.react(repo, comment_id, login, content)`
        (read back with `fake.reactions(repo, comment_id)`); `repo.roles[login] = "triage"` (the
        collaborator permission's role; read by default).
      - `fake.add_app(app_id, public_key_pem, slug=..., token_seconds=...)`: `GET /app` and
        `POST /app/installations/{id}/access_tokens` take only JWTs signed with the App's key (RS256);
        the tokens issued (`fake.app.tokens`) act as `<slug>[bot]`; check runs land in `repo.check_runs`;
        `GET /app/installations` lists each `repo.installation` set, `GET /installation/repositories` its repositories.
    Scripting:
      - `fake.fail(method, route, status, headers=..., message=..., times=1)`: the next calls of a route
        answer with that error (a 403 secondary rate limit, 429, 5xx, 404...), then it answers normally.
      - `fake.limit_writes(writes, seconds)`: each installation's token may write `writes` times in each window of
        `seconds` (from Unix time 0); more answer 403 with GitHub's secondary rate limit and a Retry-After.
      - `fake.before(method, route, hook)`: `hook(fake)` runs once, just before the next such call is
        handled, e.g. to add a label while the bot is between its read and its write.
    Observation:
      - `fake.calls`: every request (method, route, path, query, body, token, status, at).
      - `fake.problems`: requests that broke the contract: an unknown route, a body that does not
        match the OpenAPI subset's requestBody schema or a query parameter it does not declare (or
        outside its enum) (answered 422), a write the subset cannot check.
        The `github` fixture fails the test when this is not empty.

    Routes are keyed by the OpenAPI path template, e.g. `("GET", "/repos/{owner}/{repo}/pulls/{pull_number}")`.
    """

    def __init__(self, *, prefix: str = ""):
        self.prefix = prefix.rstrip("/")
        self.tokens: dict[str, Token] = {}
        self.repos: dict[str, FakeRepo] = {}
        self.calls: list[Call] = []
        self.problems: list[str] = []
        self._faults: dict[tuple, deque] = {}
        self._hooks: dict[tuple, deque] = {}
        self._ids = iter(range(1000, 10**9))
        self._write_limit: Optional[tuple] = None  # (writes, seconds) per installation
        self._writes: dict[tuple, int] = {}  # (installation id, window start) -> writes
        self.app: Optional[FakeApp] = None
        self.hook_url: Optional[str] = None  # where the App's webhook deliveries go; None: the App is down
        self.hook_secret = ""
        self.hook_deliveries: list = []  # (attempt as GET /app/hook/deliveries shows it, body), oldest first
        self._lock = threading.RLock()
        self._routes = [
            (method, template, _route_regex(template), handler)
            for method, template, handler in (
                ("GET", "/user", self._get_user),
                ("GET", "/repos/{owner}/{repo}", self._get_repo),
                ("GET", "/repos/{owner}/{repo}/pulls", self._list_pulls),
                ("POST", "/repos/{owner}/{repo}/pulls", self._create_pull),
                ("GET", "/repos/{owner}/{repo}/git/ref/{ref}", self._get_ref),
                ("POST", "/repos/{owner}/{repo}/git/refs", self._create_ref),
                ("PUT", "/repos/{owner}/{repo}/contents/{path}", self._put_content),
                ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", self._get_pull),
                ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files", self._list_files),
                ("GET", "/repos/{owner}/{repo}/contents/{path}", self._get_content),
                ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", self._list_comments),
                ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", self._create_comment),
                ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", self._update_comment),
                ("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}", self._delete_comment),
                ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/events", self._list_events),
                ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/labels", self._list_issue_labels),
                ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels", self._add_labels),
                ("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}", self._remove_label),
                ("GET", "/repos/{owner}/{repo}/labels", self._list_labels),
                ("GET", "/repos/{owner}/{repo}/labels/{name}", self._get_label),
                ("POST", "/repos/{owner}/{repo}/labels", self._create_label),
                ("PATCH", "/repos/{owner}/{repo}/labels/{name}", self._update_label),
                ("GET", "/app", self._get_app),
                ("POST", "/app/installations/{installation_id}/access_tokens", self._create_installation_token),
                ("POST", "/repos/{owner}/{repo}/check-runs", self._create_check_run),
                ("GET", "/app/hook/deliveries", self._list_hook_deliveries),
                ("POST", "/app/hook/deliveries/{delivery_id}/attempts", self._redeliver),
                ("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", self._update_check_run),
                ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs", self._list_check_runs),
                ("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", self._create_review),
                ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/comments", self._list_review_comments),
                ("DELETE", "/repos/{owner}/{repo}/pulls/comments/{comment_id}", self._delete_review_comment),
                ("GET", "/repos/{owner}/{repo}/installation", self._get_repo_installation),
                ("GET", "/app/installations", self._list_installations),
                ("GET", "/installation/repositories", self._list_installation_repos),
                ("POST", "/repos/{owner}/{repo}/issues", self._create_issue),
                ("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}", self._update_issue),
                ("GET", "/search/issues", self._search_issues),
                ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", self._list_reactions),
                ("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", self._create_reaction),
                ("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions/{reaction_id}",
                 self._delete_reaction),
                ("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission", self._get_permission),
            )
        ]

    # --- life cycle -------------------------------------------------------------------------

    def handler(self) -> type:
        fake = self

        class Handler(QuietHandler):
            def _serve(self):
                fake._serve(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        return Handler

    # --- state ------------------------------------------------------------------------------

    def add_token(self, token: str, login: Optional[str] = None, *, write: bool = True) -> None:
        self.tokens[token] = Token(login, write)

    def add_app(self, app_id: int, public_key: str, *, slug: str = "batch-review", token_seconds: int = 3600) -> FakeApp:
        """Register the App: `/app` routes take its JWT; its installation tokens act as `<slug>[bot]`."""
        self.app = FakeApp(app_id, public_key, slug, token_seconds)
        return self.app

    def add_repo(self, full_name: str, *, default_branch: str = "main", **flags) -> FakeRepo:
        """`flags`: archived, fork, empty."""
        self.repos[full_name] = FakeRepo(full_name, default_branch, **flags)
        return self.repos[full_name]

    def add_pull(self, repo: str, number: int, **fields) -> FakePull:
        fields.setdefault("head_sha", f"{number:040x}")
        pull = FakePull(number, **fields)
        self.repos[repo].pulls[number] = pull
        return pull

    def add_files(self, repo: str, number: int, files) -> None:
        """(path, patch) pairs; a None patch is left out, as GitHub does for large diffs."""
        for path, patch in files:
            entry = {"filename": path, "status": "modified"}
            if patch is not None:
                entry["patch"] = patch
            self.repos[repo].pulls[number].files.append(entry)

    def put_file(self, repo: str, path: str, text: str, *, ref: Optional[str] = None) -> None:
        self.repos[repo].contents[(ref or self.repos[repo].default_branch, path)] = text

    def add_comment(self, repo: str, number: int, author: str, body: str, *, association: str = "NONE") -> dict:
        with self._lock:
            comment = self._comment(repo, number, author, body, association)
            self.repos[repo].comments.setdefault(number, []).append(comment)
            return comment

    def react(self, repo: str, comment_id: int, login: str, content: str) -> tuple:
        """`login` reacts to an issue comment, as `POST .../reactions` does: (status, reaction); 200 when it was there."""
        with self._lock:
            listed = self.repos[repo].reactions.setdefault(int(comment_id), [])
            for reaction in listed:
                if reaction["user"]["login"] == login and reaction["content"] == content:
                    return 200, reaction
            reaction = {"id": next(self._ids), "node_id": "REA_1", "user": self._user(login), "content": content,
                        "created_at": "2026-01-01T00:00:00Z"}
            listed.append(reaction)
            self._count_reactions(repo, int(comment_id))
            return 201, reaction

    def reactions(self, repo: str, comment_id: int) -> list:
        """(login, content) of each reaction to an issue comment, oldest first."""
        return [(r["user"]["login"], r["content"]) for r in self.repos[repo].reactions.get(int(comment_id), [])]

    def _count_reactions(self, repo: str, comment_id: int) -> None:
        """The comment's `reactions` rollup, as GitHub lists it with the comment."""
        comments, index = self._find_comment(repo, str(comment_id))
        if comments is not None:
            listed = [r["content"] for r in self.repos[repo].reactions.get(comment_id, [])]
            comments[index]["reactions"] = {**self._rollup(comments[index]["url"]), "total_count": len(listed),
                                            **{name: listed.count(name) for name in set(listed)}}

    def apply_label(self, repo: str, number: int, name: str, by: str) -> None:
        """Someone applies a label through GitHub: it lands on the PR and in its events."""
        with self._lock:
            fake_repo = self.repos[repo]
            fake_repo.labels.setdefault(name, {"color": GREY, "description": None})
            pull = fake_repo.pulls[number]
            if name not in pull.labels:
                pull.labels.append(name)
            fake_repo.events.setdefault(number, []).append(
                {"id": next(self._ids), "event": "labeled", "actor": self._user(by),
                 "label": {"name": name, "color": fake_repo.labels[name]["color"]},
                 "created_at": "2026-01-01T00:00:00Z"})

    def send_webhook(self, event: str, payload: dict) -> dict:
        """Deliver an event to `hook_url` as GitHub does, signed, and keep the attempt (App down: "failed to connect")."""
        with self._lock:
            return self._attempt(str(uuid.uuid4()), event, json.dumps(payload).encode(), redelivery=False)

    def _attempt(self, guid: str, event: str, body: bytes, *, redelivery: bool) -> dict:
        status_code, status = 0, "failed to connect"
        if self.hook_url:
            signature = "sha256=" + hmac.new(self.hook_secret.encode(), body, hashlib.sha256).hexdigest()
            try:
                answer = requests.post(self.hook_url, data=body, timeout=10, headers={
                    "Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": guid,
                    "X-Hub-Signature-256": signature})
                status_code, status = answer.status_code, "OK" if answer.ok else f"Invalid HTTP Response: {answer.status_code}"
            except requests.RequestException:
                pass
        payload = json.loads(body)
        attempt = {"id": next(self._ids), "guid": guid, "delivered_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   "redelivery": redelivery, "duration": 0.01, "status": status, "status_code": status_code,
                   "event": event, "action": payload.get("action"),
                   "installation_id": (payload.get("installation") or {}).get("id"),
                   "repository_id": (payload.get("repository") or {}).get("id")}
        self.hook_deliveries.append((attempt, body))
        return attempt

    def comments(self, repo: str, number: int) -> list:
        return self.repos[repo].comments.get(number, [])

    # --- scripting and observation ----------------------------------------------------------

    def fail(self, method: str, route: str, status: int, *, headers: Optional[dict] = None,
             message: Optional[str] = None, times: int = 1) -> None:
        body = {"message": message or {404: "Not Found", 429: "Too Many Requests"}.get(status, "Server Error"),
                "documentation_url": "https://docs.github.com/rest"}
        queue = self._faults.setdefault((method, route), deque())
        queue.extend([(status, headers or {}, body)] * times)

    def limit_writes(self, writes: int, seconds: int) -> None:
        self._write_limit = (writes, seconds)

    def _over_limit(self, call: Call) -> Optional[tuple]:
        """The secondary rate limit's 403 when the call's installation has no write left in this window."""
        installation = next((owner for owner, issued in self.app.tokens if issued == call.token), None) if self.app else None
        if self._write_limit is None or not call.write or installation is None:
            return None
        writes, seconds = self._write_limit
        now = time.time()
        window = (installation, int(now // seconds))
        self._writes[window] = self._writes.get(window, 0) + 1
        if self._writes[window] <= writes:
            return None
        retry_after = str(max(1, math.ceil((window[1] + 1) * seconds - now)))
        return 403, {"Retry-After": retry_after}, {"message": SECONDARY_RATE_LIMIT,
                                                   "documentation_url": "https://docs.github.com/rest"}

    def before(self, method: str, route: str, hook: Callable[["FakeGitHub"], None]) -> None:
        self._hooks.setdefault((method, route), deque()).append(hook)

    def routes(self, method: Optional[str] = None) -> list:
        """(method, route) of every call, in order; only one method's with `method`."""
        return [(c.method, c.route) for c in self.calls if method in (None, c.method)]

    @property
    def reads(self) -> int:
        return sum(not c.write for c in self.calls)

    @property
    def writes(self) -> int:
        return sum(c.write for c in self.calls)

    # --- HTTP -------------------------------------------------------------------------------

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        authorization = request.headers.get("Authorization", "")
        token = authorization.split()[-1] if authorization else None
        path = url.path
        call = Call(request.command, "", path, dict(parse_qsl(url.query)), body, token, at=time.monotonic())
        with self._lock:
            self.calls.append(call)
        status, headers, payload = self._answer(call, path)
        call.status = status
        data = b"" if payload is None else json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        request.send_header("X-RateLimit-Limit", "5000")
        request.send_header("X-RateLimit-Remaining", str(max(0, 5000 - len(self.calls))))
        for name, value in headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)

    def _answer(self, call: Call, path: str) -> tuple:
        if not path.startswith(self.prefix + "/"):
            return self._problem(call, f"{call.method} {path}: outside the API prefix {self.prefix!r}", 404)
        path = path[len(self.prefix):]
        call.path = path
        for method, template, regex, handler in self._routes:
            match = regex.fullmatch(path)
            if match and method == call.method:
                call.route = template
                break
        else:
            return self._problem(call, f"{call.method} {path}: no such route in the fake", 404)
        # authenticated by the App's JWT, not by a token
        app_route = call.route.startswith("/app") or call.route == "/repos/{owner}/{repo}/installation"
        if app_route and (refused := self._refuse_jwt(call.token)):
            return 401, {}, {"message": refused}
        if not app_route and call.token not in self.tokens:
            return 401, {}, {"message": "Bad credentials"}
        with self._lock:
            hooks = self._hooks.get((call.method, call.route))
            hook = hooks.popleft() if hooks else None
        if hook:
            hook(self)
        with self._lock:
            faults = self._faults.get((call.method, call.route))
            if faults:
                return faults.popleft()
            if over := self._over_limit(call):
                return over
            mismatch = self._check_body(call) or self._check_query(call)
            if mismatch:
                return self._problem(call, mismatch, 422)
            token = Token(f"{self.app.slug}[bot]") if app_route else self.tokens[call.token]
            if call.write and not token.write:
                return 403, {}, {"message": "Resource not accessible by integration"}
            params = {k: unquote(v) for k, v in match.groupdict().items()}
            return handler(call, token, **params)

    def _problem(self, call: Call, problem: str, status: int) -> tuple:
        with self._lock:
            self.problems.append(problem)
        return status, {}, {"message": problem}

    def _check_body(self, call: Call) -> Optional[str]:
        """The request body against the OpenAPI subset's schema for its operation."""
        operation = OPENAPI["paths"].get(call.route, {}).get(call.method.lower())
        if operation is None:
            return f"{call.method} {call.route} is not in the OpenAPI subset" if call.write else None
        if "requestBody" not in operation:
            return f"{call.method} {call.route} sent a body the operation does not take" if call.body is not None else None
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        try:
            jsonschema.validate(call.body, {**schema, "components": OPENAPI.get("components", {})})
        except jsonschema.ValidationError as error:
            return f"{call.method} {call.route}: body {json.dumps(call.body)[:200]} does not match the schema: {error.message}"
        return None

    def _check_query(self, call: Call) -> Optional[str]:
        """The query parameters against the OpenAPI subset's operation: each declared, an enum's value one of it."""
        operation = OPENAPI["paths"].get(call.route, {}).get(call.method.lower())
        if operation is None:
            return None
        declared = {}
        for parameter in operation.get("parameters", []):
            if "$ref" in parameter:
                parameter = OPENAPI["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
            if parameter["in"] == "query":
                declared[parameter["name"]] = parameter.get("schema", {})
        for name, value in call.query.items():
            if name not in declared:
                return f"{call.method} {call.route}: the query parameter {name!r} is not in the OpenAPI subset"
            if "enum" in declared[name] and value not in declared[name]["enum"]:
                return f"{call.method} {call.route}: {name}={value!r} is not one of {declared[name]['enum']}"
        return None

    def _refuse_jwt(self, jwt_text: Optional[str]) -> Optional[str]:
        """Why GitHub would refuse this App JWT, or None: RS256 with the App's key, iss = App id, short-lived."""
        import jwt

        if self.app is None:
            return "no GitHub App is registered in the fake (add_app)"
        try:
            claims = jwt.decode(jwt_text or "", self.app.public_key, algorithms=["RS256"],
                                options={"require": ["iat", "exp", "iss"]})
        except jwt.PyJWTError as error:
            return f"A JSON web token could not be decoded: {error}"
        if str(claims["iss"]) != str(self.app.id):
            return "'Issuer' claim ('iss') must be an Integer"
        if claims["exp"] - claims["iat"] > 11 * 60:
            return "'Expiration time' claim ('exp') is too far in the future"
        return None

    def _page(self, call: Call, items: list) -> tuple:
        """One page of a list, with GitHub's Link header (per_page at most 100, default 30)."""
        per_page = min(int(call.query.get("per_page", 30)), 100)
        page = max(int(call.query.get("page", 1)), 1)
        last = max(1, -(-len(items) // per_page))
        links = []
        base = f"{self.base_url}{call.path}"
        for rel, number in (("prev", page - 1), ("next", page + 1), ("first", 1), ("last", last)):
            if 1 <= number <= last and (rel in ("prev", "next") or page != number):
                links.append(f'<{base}?{urlencode({**call.query, "per_page": per_page, "page": number})}>; rel="{rel}"')
        headers = {"Link": ", ".join(links)} if links else {}
        return 200, headers, items[(page - 1) * per_page : page * per_page]

    # --- JSON shapes ------------------------------------------------------------------------

    def _user(self, login: str) -> dict:
        return {"login": login, "id": abs(hash(login)) % 10**8, "type": "Bot" if login.endswith("[bot]") else "User",
                "url": f"{self.base_url}/users/{login}", "html_url": f"https://github.com/{login}"}

    def _repo_json(self, full_name: str) -> dict:
        fake_repo = self.repos.get(full_name)
        return {"id": abs(hash(full_name)) % 10**8, "name": full_name.split("/")[1], "full_name": full_name,
                "owner": self._user(full_name.split("/")[0]), "private": False,
                "fork": fake_repo is None or fake_repo.fork, "archived": bool(fake_repo and fake_repo.archived),
                "disabled": False, "size": 0 if fake_repo is None or fake_repo.empty else 100,
                "default_branch": fake_repo.default_branch if fake_repo else "main",
                "url": f"{self.base_url}/repos/{full_name}", "html_url": f"https://github.com/{full_name}"}

    def _label_json(self, repo: str, name: str) -> dict:
        style = self.repos[repo].labels.get(name, {"color": GREY, "description": None})
        return {"id": abs(hash(name)) % 10**8, "name": name, "color": style["color"],
                "description": style["description"], "default": False,
                "url": f"{self.base_url}/repos/{repo}/labels/{name}"}

    def _comment(self, repo: str, number: int, author: str, body: str, association: str) -> dict:
        comment_id = next(self._ids)
        return {"id": comment_id, "body": body, "user": self._user(author), "author_association": association,
                "url": f"{self.base_url}/repos/{repo}/issues/comments/{comment_id}",
                "html_url": f"https://github.com/{repo}/pull/{number}#issuecomment-{comment_id}",
                "issue_url": f"{self.base_url}/repos/{repo}/issues/{number}",
                "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
                "reactions": self._rollup(f"{self.base_url}/repos/{repo}/issues/comments/{comment_id}")}

    @staticmethod
    def _rollup(comment_url: str) -> dict:
        """A comment's `reactions` rollup without any (the reaction-rollup schema)."""
        return {"url": f"{comment_url}/reactions", "total_count": 0,
                **{name: 0 for name in ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket")}}

    def _find_comment(self, repo: str, comment_id: str) -> tuple:
        for comments in self.repos[repo].comments.values():
            for index, comment in enumerate(comments):
                if comment["id"] == int(comment_id):
                    return comments, index
        return None, None

    # --- handlers ---------------------------------------------------------------------------

    @staticmethod
    def _not_found():
        return 404, {}, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}

    def _get_user(self, call, token):
        if token.login is None:
            return 403, {}, {"message": "Resource not accessible by integration"}
        return 200, {}, self._user(token.login)

    def _get_repo(self, call, token, owner, repo):
        full_name = f"{owner}/{repo}"
        return (200, {}, self._repo_json(full_name)) if full_name in self.repos else self._not_found()

    def _get_pull(self, call, token, owner, repo, pull_number):
        full_name = f"{owner}/{repo}"
        pull = self.repos.get(full_name, FakeRepo(full_name)).pulls.get(int(pull_number))
        return (200, {}, self.pull_json(full_name, pull)) if pull else self._not_found()

    def pull_json(self, full_name: str, pull: FakePull) -> dict:
        """The pull request as `GET /pulls/{n}` shows it, and as an event's `pull_request` carries it."""
        head_repo = self._repo_json(pull.fork or full_name)
        return {
            "url": f"{self.base_url}/repos/{full_name}/pulls/{pull.number}",
            "html_url": f"https://github.com/{full_name}/pull/{pull.number}",
            "number": pull.number, "state": pull.state, "title": pull.title,
            "body": pull.body, "draft": pull.draft, "merged_at": pull.merged_at, "updated_at": pull.updated_at,
            "user": {**self._user(pull.author), "type": pull.author_type},
            "labels": [self._label_json(full_name, name) for name in pull.labels],
            "head": {"sha": pull.head_sha, "ref": pull.head_ref, "label": f"{head_repo['owner']['login']}:{pull.head_ref}",
                     "repo": head_repo},
            "base": {"sha": "b" * 40, "ref": pull.base_ref or self.repos[full_name].default_branch,
                     "repo": self._repo_json(full_name)},
        }

    def _list_pulls(self, call, token, owner, repo):
        """state open, closed (here: merged) or all; sort=updated&direction=desc, the order the audit asks for."""
        fake_repo = self.repos.get(f"{owner}/{repo}")
        if fake_repo is None:
            return self._not_found()
        state = call.query.get("state", "open")
        pulls = [p for p in fake_repo.pulls.values() if state in ("all", p.state)]
        if "head" in call.query:  # owner:branch, the repository's own branches only
            pulls = [p for p in pulls if p.fork is None and f"{owner}:{p.head_ref}" == call.query["head"]]
        if call.query.get("sort") == "created":  # numbers grow with creation
            pulls.sort(key=lambda p: p.number, reverse=call.query.get("direction", "desc") == "desc")
        else:
            pulls.sort(key=lambda p: p.updated_at, reverse=call.query.get("direction", "desc") == "desc")
        return self._page(call, [self._get_pull(call, token, owner, repo, p.number)[2] for p in pulls])

    def _list_files(self, call, token, owner, repo, pull_number):
        pull = self.repos[f"{owner}/{repo}"].pulls.get(int(pull_number))
        if pull is None:
            return self._not_found()
        files = [{"sha": "f" * 40, "additions": 1, "deletions": 0, "changes": 1, **f} for f in pull.files]
        return self._page(call, files[:3000])  # GitHub lists at most 3,000 files

    def _get_content(self, call, token, owner, repo, path):
        fake_repo = self.repos.get(f"{owner}/{repo}")
        if fake_repo is None:
            return self._not_found()
        if fake_repo.empty:
            return 404, {}, {"message": "This repository is empty.", "documentation_url": "https://docs.github.com/rest"}
        ref, path = call.query.get("ref") or fake_repo.default_branch, path.strip("/")
        text = fake_repo.contents.get((ref, path))
        if text is None:
            listing = self._folder(owner, repo, ref, path)
            return (200, {}, listing) if listing else self._not_found()
        return 200, {}, {"type": "file", "encoding": "base64", "name": path.rsplit("/", 1)[-1], "path": path,
                         "content": base64.b64encode(text.encode()).decode(), "size": len(text.encode()),
                         "sha": blob_sha(text), "url": f"{self.base_url}/repos/{owner}/{repo}/contents/{path}"}

    def _folder(self, owner, repo, ref, path) -> list:
        """A folder's entries at ref, as `GET /contents/{path}` lists them; empty when there is no such folder."""
        prefix, entries = f"{path}/" if path else "", {}
        for (at, name), text in self.repos[f"{owner}/{repo}"].contents.items():
            if at == ref and name.startswith(prefix):
                first, _, rest = name[len(prefix):].partition("/")
                entries[first] = {"type": "dir" if rest else "file", "sha": "d" * 40 if rest else blob_sha(text)}
        return [{"name": name, "path": prefix + name, "type": entry["type"], "sha": entry["sha"],
                 "url": f"{self.base_url}/repos/{owner}/{repo}/contents/{prefix + name}"}
                for name, entry in sorted(entries.items())]

    def _put_content(self, call, token, owner, repo, path):
        """Create a file, or replace it when `sha` names its current blob (else 409/422, as GitHub does)."""
        fake_repo = self.repos.get(f"{owner}/{repo}")
        branch = call.body.get("branch") or fake_repo.default_branch if fake_repo else None
        if fake_repo is None or fake_repo.branch_sha(branch) is None:
            return self._not_found()
        current = fake_repo.contents.get((branch, path))
        if current is not None and call.body.get("sha") != blob_sha(current):
            return (422, {}, {"message": '"sha" wasn\'t supplied.'}) if "sha" not in call.body else (
                409, {}, {"message": f"{path} does not match {call.body['sha']}"})
        text = base64.b64decode(call.body["content"]).decode()
        fake_repo.contents[(branch, path)] = text
        fake_repo.commits.append((branch, path, call.body["message"]))
        commit = hashlib.sha1(f"{branch}{path}{len(fake_repo.commits)}".encode()).hexdigest()
        fake_repo.branches[branch] = commit
        return 201 if current is None else 200, {}, {
            "content": {"name": path.rsplit("/", 1)[-1], "path": path, "sha": blob_sha(text)},
            "commit": {"sha": commit, "message": call.body["message"]}}

    def _get_ref(self, call, token, owner, repo, ref):
        fake_repo = self.repos.get(f"{owner}/{repo}")
        if fake_repo is None:
            return self._not_found()
        if fake_repo.empty:
            return 409, {}, {"message": "Git Repository is empty.", "documentation_url": "https://docs.github.com/rest"}
        sha = fake_repo.branch_sha(ref.removeprefix("heads/")) if ref.startswith("heads/") else None
        if sha is None:
            return self._not_found()
        return 200, {}, {"ref": f"refs/{ref}", "node_id": "REF_1", "url": f"{self.base_url}/repos/{owner}/{repo}/git/refs/{ref}",
                         "object": {"type": "commit", "sha": sha,
                                    "url": f"{self.base_url}/repos/{owner}/{repo}/git/commits/{sha}"}}

    def _create_ref(self, call, token, owner, repo):
        """A branch from a commit at the head of one of the repository's branches (its files come along)."""
        fake_repo = self.repos.get(f"{owner}/{repo}")
        if fake_repo is None:
            return self._not_found()
        name = call.body["ref"].removeprefix("refs/heads/")
        if fake_repo.branch_sha(name) is not None:
            return 422, {}, {"message": "Reference already exists"}
        source = next((branch for branch in [fake_repo.default_branch, *fake_repo.branches]
                       if fake_repo.branch_sha(branch) == call.body["sha"]), None)
        if source is None:
            return 422, {}, {"message": "Object does not exist"}
        fake_repo.branches[name] = call.body["sha"]
        for (at, path), text in list(fake_repo.contents.items()):
            if at == source:
                fake_repo.contents[(name, path)] = text
        return 201, {}, {"ref": call.body["ref"], "object": {"type": "commit", "sha": call.body["sha"]}}

    def _create_pull(self, call, token, owner, repo):
        fake_repo = self.repos.get(f"{owner}/{repo}")
        if fake_repo is None:
            return self._not_found()
        head, base = call.body["head"], call.body["base"]
        if fake_repo.branch_sha(head) is None or fake_repo.branch_sha(base) is None:
            return 422, {}, {"message": "Validation Failed", "errors": [{"resource": "PullRequest", "field": "head",
                                                                         "code": "invalid"}]}
        if any(p.head_ref == head and p.state == "open" for p in fake_repo.pulls.values()):
            return 422, {}, {"message": "Validation Failed", "errors": [{"message": f"A pull request already exists for {owner}:{head}."}]}
        number = max([*fake_repo.pulls, *fake_repo.comments, *fake_repo.issues, 0]) + 1
        pull = self.add_pull(f"{owner}/{repo}", number, body=call.body.get("body"), title=call.body["title"],
                             author=token.author, head_ref=head, base_ref=base, head_sha=fake_repo.branch_sha(head))
        return 201, {}, self.pull_json(f"{owner}/{repo}", pull)

    def _list_comments(self, call, token, owner, repo, issue_number):
        return self._page(call, self.repos[f"{owner}/{repo}"].comments.get(int(issue_number), []))

    def _create_comment(self, call, token, owner, repo, issue_number):
        if int(issue_number) not in self.repos[f"{owner}/{repo}"].pulls:
            return self._not_found()
        return 201, {}, self.add_comment(f"{owner}/{repo}", int(issue_number), token.author, call.body["body"])

    def _update_comment(self, call, token, owner, repo, comment_id):
        comments, index = self._find_comment(f"{owner}/{repo}", comment_id)
        if comments is None:
            return self._not_found()
        comments[index] = {**comments[index], "body": call.body["body"], "updated_at": "2026-01-02T00:00:00Z"}
        return 200, {}, comments[index]

    def _delete_comment(self, call, token, owner, repo, comment_id):
        comments, index = self._find_comment(f"{owner}/{repo}", comment_id)
        if comments is None:
            return self._not_found()
        del comments[index]
        return 204, {}, None

    def _list_events(self, call, token, owner, repo, issue_number):
        return self._page(call, self.repos[f"{owner}/{repo}"].events.get(int(issue_number), []))

    def _list_issue_labels(self, call, token, owner, repo, issue_number):
        pull = self.repos[f"{owner}/{repo}"].pulls[int(issue_number)]
        return self._page(call, [self._label_json(f"{owner}/{repo}", name) for name in pull.labels])

    def _add_labels(self, call, token, owner, repo, issue_number):
        body = call.body
        names = body if isinstance(body, list) else [body] if isinstance(body, str) else body["labels"]
        names = [n["name"] if isinstance(n, dict) else n for n in names]
        for name in names:
            self.apply_label(f"{owner}/{repo}", int(issue_number), name, token.author)
        return self._list_issue_labels(call, token, owner, repo, issue_number)

    def _remove_label(self, call, token, owner, repo, issue_number, name):
        pull = self.repos[f"{owner}/{repo}"].pulls[int(issue_number)]
        if name not in pull.labels:
            return 404, {}, {"message": "Label does not exist"}
        pull.labels.remove(name)
        return 200, {}, [self._label_json(f"{owner}/{repo}", n) for n in pull.labels]

    def _list_labels(self, call, token, owner, repo):
        return self._page(call, [self._label_json(f"{owner}/{repo}", name) for name in self.repos[f"{owner}/{repo}"].labels])

    def _get_label(self, call, token, owner, repo, name):
        if name not in self.repos[f"{owner}/{repo}"].labels:
            return self._not_found()
        return 200, {}, self._label_json(f"{owner}/{repo}", name)

    def _create_label(self, call, token, owner, repo):
        labels = self.repos[f"{owner}/{repo}"].labels
        name = call.body["name"]
        if name in labels:
            return 422, {}, {"message": "Validation Failed", "errors": [{"resource": "Label", "code": "already_exists"}]}
        labels[name] = {"color": call.body.get("color", GREY), "description": call.body.get("description")}
        return 201, {}, self._label_json(f"{owner}/{repo}", name)

    def _update_label(self, call, token, owner, repo, name):
        labels = self.repos[f"{owner}/{repo}"].labels
        if name not in labels:
            return self._not_found()
        style = labels.pop(name)
        new = call.body.get("new_name", name)
        labels[new] = {"color": call.body.get("color", style["color"]),
                       "description": call.body.get("description", style["description"])}
        return 200, {}, self._label_json(f"{owner}/{repo}", new)

    def _get_app(self, call, token):
        return 200, {}, {"id": self.app.id, "slug": self.app.slug, "name": self.app.slug, "node_id": "A_1",
                         "owner": self._user("octo-org"), "html_url": f"https://github.com/apps/{self.app.slug}",
                         "permissions": {}, "events": [], "created_at": "2026-01-01T00:00:00Z",
                         "updated_at": "2026-01-01T00:00:00Z"}

    def _create_installation_token(self, call, token, installation_id):
        issued = f"ghs_{installation_id}_{len(self.app.tokens) + 1}"
        self.app.tokens.append((int(installation_id), issued))
        self.add_token(issued, f"{self.app.slug}[bot]")
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + self.app.token_seconds))
        return 201, {}, {"token": issued, "expires_at": expires, "permissions": {}, "repository_selection": "all"}

    def _list_hook_deliveries(self, call, token):
        """Newest first; the `cursor` is the id a page starts at, given in the Link header's "next"."""
        attempts = sorted((attempt for attempt, _ in self.hook_deliveries), key=lambda a: a["id"], reverse=True)
        if "cursor" in call.query:
            attempts = [a for a in attempts if a["id"] <= int(call.query["cursor"])]
        per_page = min(int(call.query.get("per_page", 30)), 100)
        page, rest = attempts[:per_page], attempts[per_page:]
        if not rest:
            return 200, {}, page
        return 200, {"Link": f'<{self.base_url}/app/hook/deliveries?per_page={per_page}&cursor={rest[0]["id"]}>; '
                             'rel="next"'}, page

    def _redeliver(self, call, token, delivery_id):
        found = [(attempt, body) for attempt, body in self.hook_deliveries if attempt["id"] == int(delivery_id)]
        if not found:
            return self._not_found()
        (attempt, body), = found
        self._attempt(attempt["guid"], attempt["event"], body, redelivery=True)
        return 202, {}, {}

    def _get_repo_installation(self, call, token, owner, repo):
        fake_repo = self.repos.get(f"{owner}/{repo}")
        if fake_repo is None or not fake_repo.installation:
            return self._not_found()
        return 200, {}, {"id": fake_repo.installation, "app_id": self.app.id, "account": self._user(owner),
                         "repository_selection": "selected"}

    def _list_installations(self, call, token):
        """One installation per `repo.installation` set, on its first repository's owner (one page)."""
        owners = {}
        for full_name, fake_repo in self.repos.items():
            if fake_repo.installation:
                owners.setdefault(fake_repo.installation, full_name.split("/")[0])
        return 200, {}, [{"id": installation, "app_id": self.app.id, "account": self._user(owner),
                          "target_type": "Organization", "repository_selection": "selected", "suspended_at": None}
                         for installation, owner in sorted(owners.items())]

    def _list_installation_repos(self, call, token):
        """The repositories of the installation whose token asks (one page)."""
        installation = next((owner for owner, issued in self.app.tokens if issued == call.token), None) if self.app else None
        if installation is None:
            return 403, {}, {"message": "This endpoint requires an installation access token"}
        repos = [self._repo_json(name) for name, fake_repo in self.repos.items() if fake_repo.installation == installation]
        return 200, {}, {"total_count": len(repos), "repositories": repos}

    def _issue_json(self, repo: str, number: int, title: str, body: Optional[str], author: str) -> dict:
        return {"id": next(self._ids), "number": number, "title": title, "body": body, "state": "open",
                "user": self._user(author), "labels": [], "comments": 0, "locked": False,
                "url": f"{self.base_url}/repos/{repo}/issues/{number}",
                "repository_url": f"{self.base_url}/repos/{repo}",
                "html_url": f"https://github.com/{repo}/issues/{number}",
                "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}

    def _create_issue(self, call, token, owner, repo):
        fake_repo = self.repos.get(f"{owner}/{repo}")
        if fake_repo is None:
            return self._not_found()
        number = max([0, *fake_repo.pulls, *fake_repo.issues]) + 1
        fake_repo.issues[number] = self._issue_json(fake_repo.full_name, number, str(call.body["title"]),
                                                    call.body.get("body"), token.author)
        return 201, {}, fake_repo.issues[number]

    def _update_issue(self, call, token, owner, repo, issue_number):
        issue = self.repos.get(f"{owner}/{repo}", FakeRepo("")).issues.get(int(issue_number))
        if issue is None:
            return self._not_found()
        issue.update({key: call.body[key] for key in ("title", "body", "state") if key in call.body},
                     updated_at="2026-01-02T00:00:00Z")
        return 200, {}, issue

    def _search_issues(self, call, token):
        """GET /search/issues over the fake's issues and pull requests (see `search_matches`), newest first."""
        query = call.query.get("q", "")
        found = []
        for name, fake_repo in self.repos.items():
            items = list(fake_repo.issues.values())
            items += [{**self.pull_json(name, pull), "pull_request": {"url": f"{self.base_url}/repos/{name}/pulls/{n}"}}
                      for n, pull in fake_repo.pulls.items()]
            found += [item for item in items
                      if search_matches(query, name, item, fake_repo.comments.get(item["number"], []))]
        found.sort(key=lambda item: (item["updated_at"], item["number"]), reverse=True)
        status, headers, page = self._page(call, found[:1000])  # GitHub's search finds at most 1,000
        return status, headers, {"total_count": len(found), "incomplete_results": False, "items": page}

    def _create_check_run(self, call, token, owner, repo):
        fake_repo = self.repos.get(f"{owner}/{repo}")
        if fake_repo is None:
            return self._not_found()
        run = {"id": next(self._ids), "app": {"id": self.app.id if self.app else None,
                                              "slug": token.author.removesuffix("[bot]")}, **call.body}
        fake_repo.check_runs.append(run)
        return 201, {}, self._check_run_json(owner, repo, run)

    def _check_run_json(self, owner, repo, run):
        return {**run, "url": f"{self.base_url}/repos/{owner}/{repo}/check-runs/{run['id']}",
                "html_url": f"https://github.com/{owner}/{repo}/runs/{run['id']}"}

    def _update_check_run(self, call, token, owner, repo, check_run_id):
        runs = [run for run in self.repos.get(f"{owner}/{repo}", FakeRepo("")).check_runs if run["id"] == int(check_run_id)]
        if not runs:
            return self._not_found()
        runs[0].update(call.body)
        return 200, {}, self._check_run_json(owner, repo, runs[0])

    def _list_check_runs(self, call, token, owner, repo, ref):
        """The commit's runs, newest first, filtered by `check_name` and `app_id`."""
        runs = [self._check_run_json(owner, repo, run) for run in reversed(self.repos[f"{owner}/{repo}"].check_runs)
                if run["head_sha"] == ref and call.query.get("check_name", run["name"]) == run["name"]
                and call.query.get("app_id", str(run["app"]["id"])) == str(run["app"]["id"])]
        return 200, {}, {"total_count": len(runs), "check_runs": runs}

    def _create_review(self, call, token, owner, repo, pull_number):
        """A COMMENT review: each comment's lines (RIGHT side) must lie inside one hunk of its file's patch."""
        pull = self.repos[f"{owner}/{repo}"].pulls.get(int(pull_number))
        if pull is None:
            return self._not_found()
        patches = {f["filename"]: f.get("patch") for f in pull.files}
        for comment in call.body.get("comments", []):
            first, last = comment.get("start_line", comment["line"]), comment["line"]
            spans = hunk_spans(patches.get(comment["path"]) or "")
            if comment.get("side", "RIGHT") != "RIGHT" or not any(a <= first <= last <= b for a, b in spans):
                return 422, {}, {"message": "Unprocessable Entity",
                                 "errors": ["Pull request review thread line must be part of the diff"]}
        review_id = next(self._ids)
        posted = self.repos[f"{owner}/{repo}"].review_comments.setdefault(int(pull_number), [])
        for comment in call.body.get("comments", []):
            comment_id = next(self._ids)
            posted.append({**comment, "id": comment_id, "pull_request_review_id": review_id,
                           "commit_id": call.body.get("commit_id", pull.head_sha), "user": self._user(token.author),
                           "url": f"{self.base_url}/repos/{owner}/{repo}/pulls/comments/{comment_id}",
                           "html_url": f"https://github.com/{owner}/{repo}/pull/{pull_number}#discussion_r{comment_id}"})
        return 200, {}, {"id": review_id, "state": "COMMENTED", "commit_id": call.body.get("commit_id"),
                         "user": self._user(token.author), "body": call.body.get("body", "")}

    def _list_review_comments(self, call, token, owner, repo, pull_number):
        return self._page(call, self.repos[f"{owner}/{repo}"].review_comments.get(int(pull_number), []))

    def _delete_review_comment(self, call, token, owner, repo, comment_id):
        for comments in self.repos[f"{owner}/{repo}"].review_comments.values():
            for index, comment in enumerate(comments):
                if comment["id"] == int(comment_id):
                    del comments[index]
                    return 204, {}, None
        return self._not_found()

    def _list_reactions(self, call, token, owner, repo, comment_id):
        comments, _ = self._find_comment(f"{owner}/{repo}", comment_id)
        if comments is None:
            return self._not_found()
        listed = self.repos[f"{owner}/{repo}"].reactions.get(int(comment_id), [])
        return self._page(call, [r for r in listed if call.query.get("content", r["content"]) == r["content"]])

    def _create_reaction(self, call, token, owner, repo, comment_id):
        comments, _ = self._find_comment(f"{owner}/{repo}", comment_id)
        if comments is None:
            return self._not_found()
        status, reaction = self.react(f"{owner}/{repo}", int(comment_id), token.author, call.body["content"])
        return status, {}, reaction

    def _delete_reaction(self, call, token, owner, repo, comment_id, reaction_id):
        listed = self.repos[f"{owner}/{repo}"].reactions.get(int(comment_id), [])
        kept = [r for r in listed if r["id"] != int(reaction_id)]
        if len(kept) == len(listed):
            return self._not_found()
        self.repos[f"{owner}/{repo}"].reactions[int(comment_id)] = kept
        self._count_reactions(f"{owner}/{repo}", int(comment_id))
        return 204, {}, None

    def _get_permission(self, call, token, owner, repo, username):
        """The legacy `permission` maps maintain to write and triage to read; `role_name` names the role."""
        fake_repo = self.repos.get(f"{owner}/{repo}")
        if fake_repo is None:
            return self._not_found()
        role = fake_repo.roles.get(username, "read")
        legacy = {"maintain": "write", "triage": "read"}.get(role, role)
        return 200, {}, {"permission": legacy, "role_name": role,
                         "user": {**self._user(username), "permissions": {"admin": role == "admin"}}}


_SEARCH_TERM = re.compile(r'(-?)(?:(\w+):)?("[^"]*"|\S+)')


def search_matches(query: str, repo: str, item: dict, comments: list) -> bool:
    """Whether an issue or pull request `item` of `repo` matches the search `query`: the qualifiers repo:,
    is:issue, is:pr, is:open, is:closed, in:title and in:comments (else title and body) with quoted phrases."""
    where, words = ("title", "body"), []
    for negate, qualifier, value in _SEARCH_TERM.findall(query):
        value = value.strip('"')
        if qualifier == "repo" and value.lower() != repo.lower():
            return False
        if qualifier == "is" and value in ("issue", "pr") and ("pull_request" in item) != (value == "pr"):
            return False
        if qualifier == "is" and value in ("open", "closed") and item["state"] != value:
            return False
        if qualifier == "in":
            where = tuple(value.split(","))
        elif not qualifier:
            words.append(value.lower())
    texts = [str(item.get(part) or "") for part in where if part in ("title", "body")]
    texts += [comment["body"] for comment in comments] if "comments" in where else []
    return all(any(word in text.lower() for text in texts) for word in words)


def hunk_spans(patch: str) -> list:
    """The head-side (first, last) line numbers of each hunk of a GitHub `patch`."""
    return [(int(start), int(start) + int(count or 1) - 1)
            for start, count in re.findall(r"(?m)^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", patch)]


def blob_sha(text: str) -> str:
    """Git's blob SHA of a text, as the contents API names a file's version."""
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
