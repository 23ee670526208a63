"""What a worker does with a leased task: review a PR, pass a merge group, add labels."""

from __future__ import annotations

import logging
import time
from typing import Callable, Optional

from bot import review
from bot.app.events import LABELS, MERGE_GROUP, REVIEW
from bot.app.store import ANSWERS, SCANS, TOKENS, Lease
from bot.clients.github import NotFound
from bot.core.names import CHECK_RUN, HEADLINES, MERGE_GROUP_CHECK
from bot.review import sync_labels

log = logging.getLogger(__name__)


class Memory:
    """Claude's answers cached in the store (by prompt hash), and each repository's tokens counted per UTC month.

    The count is read, added to and written back: two workers reviewing one repository at the same
    moment can lose one call's tokens, so the budget is a close bound rather than an exact one.
    """

    def __init__(self, store, clock: Callable[[], float] = time.time):
        self.store, self.clock = store, clock

    def _month(self, repo: str) -> str:
        return f"{repo} {time.strftime('%Y-%m', time.gmtime(self.clock()))}"

    def answer(self, key: str) -> Optional[dict]:
        return self.store.cache_get(ANSWERS, key)

    def remember(self, key: str, value: dict) -> None:
        self.store.cache_put(ANSWERS, key, value)

    def tokens_used(self, repo: str) -> int:
        return (self.store.cache_get(TOKENS, self._month(repo)) or {}).get("tokens", 0)

    def spend(self, repo: str, tokens: int) -> None:
        self.store.cache_put(TOKENS, self._month(repo), {"tokens": self.tokens_used(repo) + tokens})


class ScanCache:
    """The diff scans by head SHA in the store (a label change reads no file again; the metric finds batched calls)."""

    def __init__(self, store):
        self.store = store

    def get(self, head_sha: str) -> Optional[dict]:
        return self.store.cache_get(SCANS, head_sha)

    def __setitem__(self, head_sha: str, value: dict) -> None:
        self.store.cache_put(SCANS, head_sha, value)


def make_work(app, store, claude=None) -> Callable[[Lease], Optional[dict]]:
    """`app` is a `bot.clients.github.GitHubApp`; the callable returns the review to keep in the history, or None.

    With `claude` (a `bot.clients.claude.Claude`: the server has ANTHROPIC_API_KEY), reviews ask it for
    suggestions, cached and counted in `store`.
    """
    memory, scans = Memory(store), ScanCache(store)

    def work(lease: Lease) -> Optional[dict]:

        gh = app.installation(lease.installation_id)
        if lease.kind == LABELS:
            for line in sync_labels(gh, lease.repo):
                log.info("%s: %s", lease.repo, line)
            return None
        if lease.kind == MERGE_GROUP:
            gh.check_run(lease.repo, lease.subject, CHECK_RUN, "success", *MERGE_GROUP_CHECK)
            return None
        if lease.kind != REVIEW:
            raise ValueError(f"unknown task kind {lease.kind!r}")
        try:
            outcome = review.run(gh, lease.repo, int(lease.subject), identity=app.login(), claude=claude, memory=memory,
                                 scan_cache=scans)
        except NotFound as error:  # the PR or its repository is gone: nothing left to review
            log.info("%s#%s: %s", lease.repo, lease.subject, error)
            return None
        plan = outcome.plan
        gh.check_run(lease.repo, outcome.pr.head_sha, CHECK_RUN, plan.conclusion,
                     HEADLINES[plan.review.verdict], plan.summary)
        return {"head_sha": outcome.pr.head_sha, "document": plan.document,
                "labels": [label.name for label in outcome.pr.labels]}  # the metric counts batch/adopted

    return work
