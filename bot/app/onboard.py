"""The App's onboarding pull request: read, plan (core.onboarding), write through GitHub.

Resumable: the App remembers (`Memory`) that it began a repository before its first write, and finds its
branch and pull request again by name, so a task that waits for the write budget halfway (`before_write`
raises) finishes where it stopped, and a repository is never asked twice.

`queue_all` is `batch-review app onboard`: an onboarding task for repositories installed before the organisation
opted in, which no installation event will ever bring.
"""

from __future__ import annotations

import time
from typing import Callable, Iterable, Optional, Protocol

from bot.app.events import ONBOARD, Task
from bot.core.config import Config
from bot.core.names import ONBOARDING_BRANCH, ONBOARDING_COMMIT, ONBOARDING_TITLE
from bot.core.onboarding import (
    DONE,
    NOT_WANTED,
    OPEN,
    RESUME,
    STARTERS,
    TAKEN,
    description,
    find_templates,
    plan,
    skip_reason,
    standing,
)


class GitHub(Protocol):
    """What onboarding reads and writes through (`bot.clients.github.GitHub`)."""

    def repository(self, repo: str) -> dict: ...

    def branch_sha(self, repo: str, branch: str) -> Optional[str]: ...

    def list_folder(self, repo: str, path: str, ref: Optional[str] = None) -> Optional[list]: ...

    def file(self, repo: str, path: str, ref: Optional[str] = None) -> Optional[tuple]: ...

    def create_branch(self, repo: str, branch: str, sha: str) -> None: ...

    def put_file(self, repo: str, path: str, text: str, *, message: str, branch: str, sha: Optional[str] = None) -> None: ...

    def pulls_from(self, repo: str, branch: str) -> list: ...

    def open_pull(self, repo: str, *, title: str, body: str, head: str, base: str) -> str: ...


class Memory(Protocol):
    """Each repository's onboarding state (`bot.core.onboarding.REMEMBERED`), kept by the App."""

    def get(self, repo: str) -> Optional[str]: ...

    def put(self, repo: str, state: str, url: str = "") -> None: ...


def templates(gh: GitHub, repo: str) -> dict:
    """path -> text of each PR template of the repository's default branch."""
    found = find_templates(lambda folder: gh.list_folder(repo, folder))
    return {path: text for path in found for text, _ in [gh.file(repo, path) or ("", None)]}


def onboard(gh: GitHub, repo: str, organisation: Config, memory: Memory, before_write: Callable[[], None]) -> str:
    """Open the "Set up batch-review" pull request when the repository needs and never had one; what happened.

    `organisation`: the organisation's settings (its handbook link); `before_write()` runs before each write
    (the App's write budget: it raises to make the task wait).
    """
    repository = gh.repository(repo)
    if reason := skip_reason(repository):
        return f"no onboarding pull request: the repository is {reason}"
    base = repository["default_branch"]
    head = gh.branch_sha(repo, base)
    if head is None:
        return "no onboarding pull request: the repository is empty"
    branch = gh.branch_sha(repo, ONBOARDING_BRANCH)
    pulls = gh.pulls_from(repo, ONBOARDING_BRANCH)
    state = standing(memory.get(repo), branch is not None, [(pull_state, merged) for pull_state, merged, _ in pulls])
    if state in (OPEN, NOT_WANTED, DONE):
        url = pulls[0][2] if pulls else ""
        memory.put(repo, state, url)
        return {OPEN: "its onboarding pull request is open", NOT_WANTED: "its onboarding pull request was closed unmerged: "
                "not asked again", DONE: "its onboarding pull request was merged"}[state] + (f" ({url})" if url else "")
    if state == TAKEN:
        return f"no onboarding pull request: the branch {ONBOARDING_BRANCH} exists and the App did not make it"
    own = templates(gh, repo)
    owner = repo.split("/", 1)[0]
    org = templates(gh, f"{owner}/.github") if not own and repo != f"{owner}/.github" else {}
    present = {path for path, _ in STARTERS if gh.file(repo, path) is not None}
    setup = plan(own, org, present, handbook=organisation.links.handbook)
    if not setup.changes:
        return f"no onboarding pull request: {setup.reason}"
    memory.put(repo, RESUME)  # before the first write: a branch the App made is its own to finish
    if branch is None:
        before_write()
        gh.create_branch(repo, ONBOARDING_BRANCH, head)
    for change in setup.changes:
        current = gh.file(repo, change.path, ONBOARDING_BRANCH)
        if current is not None and current[0] == change.text:
            continue  # written before the task waited
        before_write()
        gh.put_file(repo, change.path, change.text, message=ONBOARDING_COMMIT.format(what=change.what, path=change.path),
                    branch=ONBOARDING_BRANCH, sha=current[1] if current else None)
    before_write()
    url = gh.open_pull(repo, title=ONBOARDING_TITLE, body=description(setup, organisation.links.handbook),
                       head=ONBOARDING_BRANCH, base=base)
    memory.put(repo, OPEN, url)
    return f"opened {url}"


class NotInstalled(LookupError):
    """`app onboard` named an installation or repository the App is not on."""


class Installed(Protocol):
    """Where the App is installed (`bot.clients.github.GitHubApp`)."""

    def repositories(self, installations: Iterable[int] = ()) -> list: ...  # (installation id, full name, repo id)


class Queue(Protocol):
    """The App's queue (`bot.app.store.Store`)."""

    def record(self, delivery: str, event_name: str, tasks: Iterable, now: Optional[float] = None) -> bool: ...


def queue_all(app: Installed, queue: Queue, installations: Iterable[int] = (), repos: Iterable[str] = (),
              now: Optional[float] = None) -> dict:
    """Queue one onboarding task per repository of the App's installations (or of `installations`, or only `repos`):
    installation id -> repositories queued. Each run is a new delivery (`onboard:<installation>:<time>`); the task
    itself never asks a repository twice. NotInstalled names an installation or repository the App is not on."""
    now = time.time() if now is None else now
    only, wanted = set(installations), {repo.lower(): repo for repo in repos}
    listed = app.repositories(only)
    missing = [f"installation {installation}" for installation in sorted(only - {row[0] for row in listed})]
    missing += [wanted[repo] for repo in sorted(set(wanted) - {row[1].lower() for row in listed})]
    if missing:
        raise NotInstalled("the App is not installed on " + ", ".join(missing))
    found = [row for row in listed if not wanted or row[1].lower() in wanted]
    queued: dict = {}
    for installation, repo, repo_id in found:
        queued.setdefault(installation, []).append(Task(ONBOARD, installation, repo, "", repo_id))
    for installation, tasks in queued.items():
        queue.record(f"onboard:{installation}:{now:.6f}", "onboard", tasks, now=now)
    return {installation: [task.repo for task in tasks] for installation, tasks in queued.items()}
