"""What an App worker does with a leased task: review the PR (the shared pipeline), pass a merge group, add labels."""

from __future__ import annotations

import logging
from typing import Callable, Optional

from bot.events import LABELS, MERGE_GROUP, REVIEW
from bot.names import CHECK_RUN, HEADLINES, MERGE_GROUP_CHECK
from bot.store import Lease

log = logging.getLogger(__name__)


def make_work(app) -> Callable[[Lease], Optional[dict]]:
    """`app` is a `bot.gh.GitHubApp`; the callable returns the review to keep in the history, or None."""

    def work(lease: Lease) -> Optional[dict]:
        from bot import review
        from bot.gh import NotFound
        from bot.labels_cmd import sync

        gh = app.installation(lease.installation_id)
        if lease.kind == LABELS:
            for line in sync(gh, lease.repo):
                log.info("%s: %s", lease.repo, line)
            return None
        if lease.kind == MERGE_GROUP:
            gh.check_run(lease.repo, lease.subject, CHECK_RUN, "success", *MERGE_GROUP_CHECK)
            return None
        if lease.kind != REVIEW:
            raise ValueError(f"unknown task kind {lease.kind!r}")
        try:
            outcome = review.run(gh, lease.repo, int(lease.subject), identity=app.login())
        except NotFound as error:  # the PR or its repository is gone: nothing left to review
            log.info("%s#%s: %s", lease.repo, lease.subject, error)
            return None
        plan = outcome.plan
        gh.check_run(lease.repo, outcome.pr.head_sha, CHECK_RUN, plan.conclusion,
                     HEADLINES[plan.review.verdict], plan.summary)
        return {"head_sha": outcome.pr.head_sha, "document": plan.document}

    return work
