"""What a worker does with a leased task: review a PR, pass a merge group, add labels."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from typing import Callable, Optional

from sqlalchemy.exc import SQLAlchemyError

from bot import review
from bot.app.events import FORGET, LABELS, MERGE_GROUP, ONBOARD, REVIEW
from bot.app import metrics
from bot.app.onboard import onboard
from bot.app.store import ANSWERS, BUTTONS, CODEOWNERS, EXEMPTIONS, SCANS, TEAMS, TOKENS, Lease
from bot.app.worker import ContentError, describe
from bot.clients.github import Forbidden, GitHubError, NotFound
from bot.core import buttons, exemptions
from bot.core.config import Config, organisation, serves
from bot.core.names import CHECK_RUN, HEADLINES, MERGE_GROUP_CHECK, Verdict
from bot.core.plan import PullRequest
from bot.review import sync_labels

log = logging.getLogger(__name__)


class Memory:
    """Claude's answers cached in the store (by prompt hash), and each repository's tokens counted per UTC month
    (kept with the repository's id `repo_id`, so that they leave with it).

    The count is read, added to and written back: two workers reviewing one repository at the same
    moment can lose one call's tokens, so the budget is a close bound rather than an exact one.
    """

    def __init__(self, store, clock: Callable[[], float] = time.time, repo_id: Optional[int] = None):
        self.store, self.clock, self.repo_id = store, clock, repo_id

    def _month(self, repo: str) -> str:
        return f"{repo} {time.strftime('%Y-%m', time.gmtime(self.clock()))}"

    def answer(self, key: str) -> Optional[dict]:
        return self.store.cache_get(ANSWERS, key)

    def remember(self, key: str, value: dict) -> None:
        self.store.cache_put(ANSWERS, key, value)

    def tokens_used(self, repo: str) -> int:
        return (self.store.cache_get(TOKENS, self._month(repo)) or {}).get("tokens", 0)

    def spend(self, repo: str, tokens: int) -> None:
        self.store.cache_put(TOKENS, self._month(repo), {"tokens": self.tokens_used(repo) + tokens}, repo_id=self.repo_id)


def scan_key(pr: PullRequest, settings) -> str:
    """What decides a diff scan: the repository, base and head SHA, the changed files and the scan settings."""
    files = [[changed.path, changed.status, changed.patch] for changed in pr.files]
    return hashlib.sha256(json.dumps([pr.repo, pr.base_sha, pr.head_sha, files, repr(settings)]).encode()).hexdigest()


class Codeowners:
    """Each commit's CODEOWNERS text in the store (`review.owning_team` reads a repository's file once per commit)."""

    def __init__(self, store):
        self.store = store

    def get(self, key: str) -> Optional[str]:
        return (self.store.cache_get(CODEOWNERS, key) or {}).get("text")

    def __setitem__(self, key: str, text: str) -> None:
        self.store.cache_put(CODEOWNERS, key, {"text": text})


class ScanCache:
    """The diff scans in the store, by `scan_key` (a label change reads no file again; the metric finds batched calls)."""

    def __init__(self, store):
        self.store = store

    def get(self, pr: PullRequest, settings) -> Optional[dict]:
        return self.store.cache_get(SCANS, scan_key(pr, settings))

    def put(self, pr: PullRequest, settings, value: dict) -> None:
        self.store.cache_put(SCANS, scan_key(pr, settings), value)


class Clicks:
    """The answers given with the check run's buttons, kept per PR in the store (`review.Clicks`).

    Whether a click counts is checked once, at the first review after it: the PR's author's counts as
    the checklist does; someone else's as a label does when they have the triage, write, maintain or
    admin role on the repository (the payload carries no author_association); anyone else's gets the
    one reply per person. The clicks stay across reviews until the repository leaves the App.
    """

    def __init__(self, store):
        self.store = store

    def read(self, gh, pr: PullRequest) -> tuple:
        key = buttons.store_key(pr.repo, pr.number)
        kept = self.store.cache_get(BUTTONS, key)
        roles = {(c["by"], c["at"]): "author" if c["by"] == pr.author else "reviewer"
                 if gh.may_answer(pr.repo, c["by"]) else "none" for c in buttons.unchecked(kept)}
        if roles:
            kept = self.store.cache_update(BUTTONS, key, lambda now: buttons.with_roles(now, roles))
        return buttons.answers(kept)


class Onboarding:
    """Each repository's onboarding state in the store's `onboarding` table (`bot.app.onboard.Memory`)."""

    def __init__(self, store):
        self.store = store

    def get(self, repo: str) -> Optional[str]:
        return (self.store.onboarding(repo) or {}).get("state")

    def put(self, repo: str, state: str, url: str = "") -> None:
        self.store.keep_onboarding(repo, state, url)


def rollout(read: Callable[[str, str], Optional[str]], repo: str) -> Config:
    """The organisation's settings that decide whether and how the App serves `repo` (mode, onboarding, repositories).

    `read(repo, path)` reads a file on the default branch. A file with errors gives the defaults, as for a review (live, every repository, no onboarding); the log says so.
    """
    owner = repo.split("/", 1)[0]
    resolved = organisation(read, owner)
    if resolved.defaults_used:
        log.warning("%s/.github: the organisation's settings have errors, so the App uses the defaults (mode: live, "
                    "every repository, onboarding: off): %s", owner, " ".join(resolved.problems[1:]))
    return resolved.config


def make_work(app, store, claude=None, budgets=None) -> Callable[[Lease], Optional[dict]]:
    """`app` is a `bot.clients.github.GitHubApp`; the callable returns the review to keep in the history, or None.

    With `claude` (a `bot.clients.claude.Claude`: the server has ANTHROPIC_API_KEY), reviews ask it for
    suggestions, cached and counted in `store`. `budgets` (`bot.app.budgets.Budgets`) is checked before each write
    of a task that writes many times (an installation's labels, an onboarding pull request).
    """
    scans, codeowners, onboarding = ScanCache(store), Codeowners(store), Onboarding(store)
    clicks = Clicks(store)

    def check(gh, lease: Lease, head_sha: str, conclusion: str, title: str, summary: str, actions: tuple = (),
              number: str = "") -> None:
        """One check run per commit, its id kept in the store: a later review of the commit updates it, and its
        buttons (`actions`); its external_id names the PR (`number`) a click answers for."""
        run_id = gh.check_run(lease.repo, head_sha, CHECK_RUN, conclusion, title, summary,
                              run_id=store.check_run(lease.repo, head_sha, lease.repo_id), app_id=app.app_id,
                              actions=actions, external_id=number)
        store.keep_check_run(lease.repo, head_sha, run_id, lease.repo_id)

    def earlier(pr: PullRequest) -> tuple:
        """The repository's exemptions per workload, from each of its PRs' kept exemption."""
        return exemptions.standing(pr.repo, store.cache_prefix(EXEMPTIONS, f"{pr.repo}#").values())

    def keep_exemption(lease: Lease, plan) -> None:
        """The PR's own exemption, running or lapsed, for later PRs and the daily lapse task ({}: none any more)."""
        key, kept = f"{lease.repo}#{lease.subject}", exemptions.entry(plan.review.exemption, int(lease.subject))
        if kept is not None or store.cache_get(EXEMPTIONS, key):
            store.cache_put(EXEMPTIONS, key, kept or {}, repo_id=lease.repo_id)

    def work(lease: Lease) -> Optional[dict]:
        if lease.kind == FORGET:  # the repository left the App: keep nothing of it
            deleted = store.forget(lease.repo, but=lease.id, repo_id=lease.repo_id)
            log.info("%s left the App: deleted %s", lease.repo, ", ".join(f"{n} {what}" for what, n in deleted.items()))
            return None
        gh = app.installation(lease.installation_id)
        try:
            return review_or_act(gh, lease)
        finally:
            if (remaining := gh.rate_remaining()) is not None:
                metrics.RATE_LIMIT_REMAINING.labels(str(lease.installation_id)).set(remaining)

    def review_or_act(gh, lease: Lease) -> Optional[dict]:
        if lease.kind not in (LABELS, ONBOARD, MERGE_GROUP, REVIEW):
            raise ValueError(f"unknown task kind {lease.kind!r}")
        # Each config file once per task: the review's own config reads the organisation's file again
        read_config = functools.cache(gh.read_text)
        org = rollout(read_config, lease.repo)
        if not serves(org, lease.repo):  # the organisation's `repositories` leave it out: nothing at all
            log.info("%s: not served (the organisation's repositories.include/exclude): no %s", lease.repo, lease.kind)
            return None
        shadow = org.mode == "shadow"
        before_write = (lambda: budgets.check(lease.installation_id)) if budgets else (lambda: None)
        if lease.kind == LABELS:  # many writes in one task: each checked against the budget
            for line in sync_labels(gh, lease.repo, before_write):
                log.info("%s: %s", lease.repo, line)
            return None
        if lease.kind == ONBOARD:
            if org.onboarding == "pull-request":
                try:
                    log.info("%s: %s", lease.repo, onboard(gh, lease.repo, org, onboarding, before_write))
                except Forbidden as error:  # the organisation has not approved `contents: write`: no retry helps
                    log.warning("%s: no onboarding pull request: %s (does the installation grant contents: write?)",
                                lease.repo, error)
                except NotFound as error:  # the repository is gone
                    log.info("%s: no onboarding pull request: %s", lease.repo, error)
            return None
        if lease.kind == MERGE_GROUP:
            if not shadow:
                check(gh, lease, lease.subject, "success", *MERGE_GROUP_CHECK)
            return None
        try:
            outcome = review.run(gh, lease.repo, int(lease.subject), identity=app.login(), claude=None if shadow else claude,
                                 memory=Memory(store, repo_id=lease.repo_id), scan_cache=scans, earlier=earlier,
                                 shadow=shadow, clicks=clicks, read_config=read_config)
        except NotFound as error:  # the PR or its repository is gone: nothing left to review
            log.info("%s#%s: %s", lease.repo, lease.subject, error)
            return None
        except (GitHubError, SQLAlchemyError):  # GitHub or the database: worth another attempt
            raise
        except Exception as error:  # what the repository holds broke the review: trying again cannot help
            raise ContentError(describe(error)) from error
        plan = outcome.plan
        keep_exemption(lease, plan)
        if plan.review.verdict == Verdict.BATCH_CANDIDATE:  # the metric's per-team table counts it
            owner = review.owning_team(gh, outcome.pr, plan.review, codeowners)
            store.cache_put(TEAMS, f"{lease.repo}#{lease.subject}", {"team": owner}, repo_id=lease.repo_id)
        if not shadow:
            check(gh, lease, outcome.pr.head_sha, plan.conclusion, HEADLINES[plan.review.verdict], plan.summary,
                  buttons.actions(plan.review), lease.subject)
        return {"head_sha": outcome.pr.head_sha, "document": plan.document, "scan_key": scan_key(outcome.pr, outcome.config.scan),
                "labels": [label.name for label in outcome.pr.labels]}  # the metric counts batch/adopted

    return work
