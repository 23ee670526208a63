"""GitHub App deliveries, pure: signature check, routing to tasks, the manifest."""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import re
from dataclasses import dataclass
from typing import Callable, Optional

from bot.core.buttons import answer_of
from bot.core.names import ACTION_NOTES, PROJECT_URL
from bot.core.triage import triage

MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
FULL_NAME = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+\Z")
SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?\Z")  # SHA-1, or SHA-256 repositories
REVIEW, MERGE_GROUP, LABELS, ONBOARD, FORGET = "review", "merge-group", "labels", "onboard", "forget"

PR_ACTIONS = frozenset({"opened", "edited", "synchronize", "reopened", "ready_for_review", "labeled",
                        "unlabeled", "converted_to_draft"})

# What the App asks for: the least that lets it read a PR and its config and write its comment,
# labels and check run, and (contents: write) push the onboarding pull request's branch and files when an
# organisation opts in (`onboarding: pull-request`). Installation events arrive without being listed.
PERMISSIONS = {"pull_requests": "write", "issues": "write", "checks": "write", "contents": "write", "metadata": "read"}
EVENTS = ("pull_request", "issue_comment", "merge_group", "check_run")  # check_run: a click on our check run's button


@dataclass(frozen=True)
class Task:
    """Work for a worker: one pending row per (kind, repo, subject)."""

    kind: str  # REVIEW (subject: PR number), MERGE_GROUP (subject: head SHA), LABELS, ONBOARD or FORGET (subject: "")
    installation_id: int
    repo: str  # owner/name, as the delivery named it
    subject: str = ""
    repo_id: Optional[int] = None  # the repository's id, which a rename or transfer keeps


@dataclass(frozen=True)
class Click:
    """Someone clicked one of our check run's buttons: an answer to keep before the PR is reviewed again."""

    repo: str
    number: int
    by: str  # login
    question: str
    value: str
    url: str  # the check run's page


@dataclass(frozen=True)
class Route:
    """What a delivery asks for: tasks, or why there are none; a click to keep first."""

    tasks: tuple = ()
    reason: str = ""
    click: Optional[Click] = None


class PayloadError(ValueError):
    """A signed delivery whose JSON lacks what its event must carry."""


def signature(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` header GitHub sends with `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, body: bytes, header: Optional[str]) -> bool:
    return bool(header) and hmac.compare_digest(signature(secret, body).encode(), header.encode())


def route(event: str, payload: dict, bot_login: Optional[str] = None) -> Route:
    """Which tasks a delivery makes; events from the App itself (`bot_login`) make none.

    Each field a task is made of is checked here, at the door: PayloadError names the one that is wrong.
    """
    try:
        return _route(event, payload, bot_login)
    except (KeyError, TypeError, AttributeError) as error:
        raise PayloadError(f"the {event} payload lacks {error}") from None


def _checked(value, path: str, valid: Callable, must: str):
    if not valid(value):
        raise PayloadError(f"{path} must be {must}, not {json.dumps(value)[:50]}")
    return value


def _field(payload: dict, path: str, valid: Callable, must: str):
    value = payload
    for name in path.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    return _checked(value, path, valid, must)


def _number(value) -> bool:
    return type(value) is int and value > 0


def _full_name(value) -> bool:
    return isinstance(value, str) and bool(FULL_NAME.match(value))


def _sha(value) -> bool:
    return isinstance(value, str) and bool(SHA.match(value))


def _repos(payload: dict, key: str) -> list:
    """(full_name, id) of each repository listed under `key`, checked."""
    return [(_checked(repo.get("full_name"), f"{key}[].full_name", _full_name, "owner/name"),
             _checked(repo.get("id"), f"{key}[].id", _number, "a positive integer")) for repo in payload.get(key) or ()]


def _route(event: str, payload: dict, bot_login: Optional[str]) -> Route:
    action = payload.get("action")
    if event == "ping":
        return Route(reason="pong")
    if event not in EVENTS + ("installation", "installation_repositories"):
        return Route(reason=f"{event} events are not handled")
    if bot_login and (payload.get("sender") or {}).get("login") == bot_login:
        return Route(reason=f"sent by {bot_login} itself")
    if not payload.get("installation"):
        return Route(reason="not an App delivery (no installation)")
    installation = _field(payload, "installation.id", _number, "a positive integer")
    # created/added: labels in each repository, and its onboarding pull request; deleted/removed: forget what is kept
    if event == "installation":
        if action not in ("created", "deleted"):
            return Route(reason=f"installation {action} is not handled")
        kinds = (LABELS, ONBOARD) if action == "created" else (FORGET,)
        return Route(tuple(Task(kind, installation, repo, "", repo_id)
                           for repo, repo_id in _repos(payload, "repositories") for kind in kinds))
    if event == "installation_repositories":
        if action not in ("added", "removed"):
            return Route(reason=f"installation_repositories {action} is not handled")
        kinds = (LABELS, ONBOARD) if action == "added" else (FORGET,)
        return Route(tuple(Task(kind, installation, repo, "", repo_id)
                           for repo, repo_id in _repos(payload, f"repositories_{action}") for kind in kinds))
    repo = _field(payload, "repository.full_name", _full_name, "owner/name")
    repo_id = _field(payload, "repository.id", _number, "a positive integer")
    if event == "merge_group":
        if action != "checks_requested":
            return Route(reason=f"merge_group {action} is not handled")
        return Route((Task(MERGE_GROUP, installation, repo,
                           _field(payload, "merge_group.head_sha", _sha, "a commit SHA"), repo_id),))
    if event == "check_run":
        return _clicked(payload, installation, repo, repo_id)
    if event == "pull_request" and action not in PR_ACTIONS:
        return Route(reason=f"pull_request {action} is not handled")
    _field(payload, "pull_request.number" if event == "pull_request" else "issue.number", _number, "a positive integer")
    triaged = triage(event, payload, anyone=True)  # the Action's rules (answer labels only), commands from anyone
    if triaged.number is None:
        return Route(reason=ACTION_NOTES[triaged.note].format(**(triaged.detail or {})))
    return Route((Task(REVIEW, installation, repo, str(triaged.number), repo_id),))


def _clicked(payload: dict, installation: int, repo: str, repo_id: int) -> Route:
    """`check_run` `requested_action`: which of our buttons, on which PR (our `external_id`, else the run's first PR)."""
    if payload.get("action") != "requested_action":
        return Route(reason=f"check_run {payload.get('action')} is not handled")
    clicked = _field(payload, "requested_action.identifier", lambda v: isinstance(v, str), "a string")
    answer = answer_of(clicked)
    if answer is None:
        return Route(reason=f"{clicked[:20]!r} is not one of batch-review's buttons")
    run = payload.get("check_run") or {}
    external = run.get("external_id")
    pulls = run.get("pull_requests") or ()
    number = int(external) if isinstance(external, str) and external.isdigit() else (pulls[0] or {}).get(
        "number") if pulls else None
    if not _number(number):
        return Route(reason="the check run names no pull request")
    by = _field(payload, "sender.login", lambda v: isinstance(v, str) and bool(v), "a login")
    url = run.get("html_url") if isinstance(run.get("html_url"), str) else ""
    return Route((Task(REVIEW, installation, repo, str(number), repo_id),), click=Click(repo, number, by, *answer, url))


def manifest(url: str, name: str = "batch-review") -> dict:
    """The GitHub App manifest for GitHub's registration flow, with the webhook at `url`/webhook."""
    base = url.rstrip("/")
    return {
        "name": name,
        "url": PROJECT_URL,
        "description": "Asks on every pull request that adds a Claude workload whether it belongs on "
                       "the Message Batches API.",
        "hook_attributes": {"url": f"{base}/webhook", "active": True},
        "redirect_url": f"{base}/",
        "public": False,
        "default_permissions": dict(PERMISSIONS),
        "default_events": list(EVENTS),
    }


def manifest_form(manifest_: dict, github_url: str = "https://github.com", org: Optional[str] = None) -> str:
    """An HTML page whose button posts the manifest to GitHub's "new App" page."""
    owner = f"/organizations/{org}" if org else ""
    action = f"{github_url.rstrip('/')}{owner}/settings/apps/new"
    value = html.escape(json.dumps(manifest_), quote=True)
    return (f'<!doctype html>\n<title>Register {html.escape(manifest_["name"])}</title>\n'
            f'<form action="{html.escape(action, quote=True)}" method="post">\n'
            f'<input type="hidden" name="manifest" value="{value}">\n'
            f'<button type="submit">Register the {html.escape(manifest_["name"])} GitHub App</button>\n</form>\n')
