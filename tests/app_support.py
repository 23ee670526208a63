"""Helpers for the App's tests: a test key, signed deliveries of the real payloads, the app on a real socket."""

from __future__ import annotations

import copy
import functools
import json
import threading
import time
import uuid
import zlib
from contextlib import contextmanager

import requests

from bot.app.events import signature
from bot.app.store import pending
from tests.conftest import FIXTURES

SECRET = "It's a Secret to Everybody"
WEBHOOKS = FIXTURES / "webhooks"


@functools.lru_cache(maxsize=None)
def private_key() -> str:
    """A fresh RSA key for the test App (PEM text)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


NOWHERE = "http://127.0.0.1:9"  # no GitHub: for tests that inject the review step


def settings(database_url, **extra) -> dict:
    """A test config for `create_app`: valid App settings, fast polling, no retry wait, no redelivery sweep, no purge."""
    return {"GITHUB_APP_ID": "12345", "GITHUB_APP_PRIVATE_KEY": private_key(), "GITHUB_WEBHOOK_SECRET": SECRET,
            "GITHUB_API_URL": NOWHERE, "DATABASE_URL": database_url, "BATCH_REVIEW_WORKERS": "2",
            "POLL_SECONDS": 0.02, "RETRY_SECONDS": 0.0, "SWEEP_SECONDS": 0, "EXPIRED_CHECK_SECONDS": 0,
            "PURGE_SECONDS": 0, **extra}


def repo_id(full_name: str) -> int:
    """A repository id for `full_name`, the same in every process (the payloads' own id belongs to one name)."""
    return zlib.crc32(full_name.encode()) + 1


def payload(name: str) -> dict:
    """A real webhook payload from tests/fixtures/webhooks/, e.g. "pull_request/opened.payload.json"."""
    return copy.deepcopy(_load(name))


@functools.lru_cache(maxsize=None)
def _load(name: str) -> dict:
    return json.loads((WEBHOOKS / name).read_text())


def merge_group_event(head_sha="ec26c3e57ca3a959ca5aad62de7213c562f8c821"):
    """A merge_group checks_requested delivery (no fixture exists) around the real payloads' parts."""
    base = payload("pull_request/opened.payload.json")
    return {"action": "checks_requested",
            "merge_group": {"head_sha": head_sha, "head_ref": "refs/heads/gh-readonly-queue/main/pr-2-abc",
                            "base_sha": "9049f1265b7d61be4a8904a9a27120d2064dab3b", "base_ref": "refs/heads/main",
                            "head_commit": {"id": head_sha, "message": "Merge pull request #2"}},
            "repository": base["repository"], "installation": base["installation"], "sender": base["sender"]}


def pr_event(action: str = "opened", repo: str = "Codertocat/Hello-World", number: int = 2,
             installation: int = 1, sender: str = "Codertocat", label: str = "batch/can-wait",
             repository_id: int = None) -> dict:
    """The real `pull_request` payload for `action`, moved to another repo/number/installation/sender.

    A labeled or unlabeled event carries `label` (an answer label unless told otherwise). The repository's id is
    `repo_id(repo)` unless given (a renamed repository keeps its id).
    """
    data = payload(f"pull_request/{action}.payload.json")
    if "label" in data:
        data["label"]["name"] = label
    data["pull_request"]["number"] = data["number"] = number
    data["repository"]["full_name"] = repo
    data["repository"]["id"] = repository_id or repo_id(repo)
    data["installation"]["id"] = installation
    data["sender"]["login"] = sender
    return data


def command_event(body: str = "/batch-review", association: str = "MEMBER", number: int = 2,
                  repo: str = "Codertocat/Hello-World", sender: str = "Codertocat") -> dict:
    """The real `issue_comment` payload, on a pull request, saying `body`."""
    data = payload("issue_comment/created.with-installation.payload.json")
    data["issue"]["number"] = number
    data["issue"]["pull_request"] = {"url": f"https://api.github.com/repos/{repo}/pulls/{number}"}
    data["repository"]["full_name"] = repo
    data["repository"]["id"] = repo_id(repo)
    data["comment"]["body"] = body
    data["comment"]["author_association"] = association
    data["sender"]["login"] = data["comment"]["user"]["login"] = sender
    return data


def deliver(base_url: str, event: str, body, *, secret: str = SECRET, delivery: str = None,
            sign: bool = True, headers: dict = None) -> requests.Response:
    """POST a delivery as GitHub does: JSON body, event and delivery headers, HMAC-SHA256 signature."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/044aadd",
            "X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4())}
    if sign:
        sent["X-Hub-Signature-256"] = signature(secret, raw)
    sent.update(headers or {})
    return requests.post(f"{base_url}/webhook", data=raw, headers=sent, timeout=30)


def wait_until(predicate, timeout: float = 30.0, what: str = "the condition"):
    """Poll `predicate` until it is true; fail after `timeout` seconds (a deadline, not a speed test)."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.02)
    return result


@contextmanager
def serving(app):
    """Serve a Flask app on 127.0.0.1 (an ephemeral port) in a thread; yield its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        state = app.extensions.get("batch-review")
        if state:
            state.workers.stop(timeout=10)
            state.store.close()


class Recorder:
    """A stand-in for the review step: records each lease; can hold every call at a gate or fail."""

    def __init__(self, failures: int = 0):
        self.done: list = []
        self.failures = failures  # the first N calls raise
        self.calls = 0
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, lease):
        with self.lock:
            self.calls += 1
            failing = self.calls <= self.failures
        self.entered.set()
        self.gate.wait(30)
        if failing:
            raise RuntimeError(f"GitHub answered 502 (call {self.calls})")
        with self.lock:
            self.done.append((lease.kind, lease.repo, lease.subject))
        return None


def public_key() -> str:
    """The public half of `private_key()`, as the fake GitHub checks the App's JWTs with."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_key().encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


REPO, INSTALLATION, APP_ID = "octo-org/service", 42, 12345


@contextmanager
def github_with_app(pulls=(2,)):
    """The fake GitHub with the test App registered and REPO holding a batch-candidate PR per number."""
    from tests.checklists import CANDIDATE
    from tests.fake_github import FakeGitHub

    with FakeGitHub() as fake:
        fake.add_app(APP_ID, public_key())
        fake.add_repo(REPO)
        for number in pulls:
            fake.add_pull(REPO, number, body=CANDIDATE)
        yield fake
        assert not fake.problems


def queued_by_two_schedulers(store, schedule) -> list:
    """Two servers' schedulers (`schedule(store, wake, stop)`) on one database: the (kind, repo, subject) rows they
    queued and how many times they woke the workers."""
    stop, woken = threading.Event(), []
    threads = [schedule(store, lambda: woken.append(1), stop) for _ in range(2)]
    wait_until(lambda: woken, what="the periodic task")
    time.sleep(0.1)  # both schedulers looked several times
    stop.set()
    for thread in threads:
        thread.join(5)
    with store.engine.begin() as conn:
        return [(row.kind, row.repo, row.subject) for row in conn.execute(pending.select())], len(woken)

