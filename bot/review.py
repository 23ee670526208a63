"""The one review recipe, shared by the Action and the App: a pull request in, what to write out.

`plan()` is pure: a `PullRequest` snapshot, the config and the bot's identity in, a `Plan` out.
`run()` is the only imperative part: it reads through a GitHub adapter (`bot.gh.GitHub`, or
anything with the same methods), plans, and applies.
"""

from dataclasses import dataclass
from typing import Optional

from bot.config import DEFAULT, Config, resolve
from bot.globs import matches
from bot.names import COMMENT_MARKER, CONFIG_PATH, VERDICT_LABELS
from bot.render import read_state, render_comment
from bot.scan import ScanResult, from_cache, scan, select, to_cache, to_change
from bot.workload import Review, assess, document


@dataclass(frozen=True)
class ChangedFile:
    path: str
    status: str = "modified"  # added, modified, removed, renamed, copied, changed
    patch: Optional[str] = None  # None when GitHub leaves it out (binary or too large)


@dataclass(frozen=True)
class Comment:
    id: int
    author: str
    body: str
    url: str = ""


@dataclass(frozen=True)
class PullRequest:
    """What a review reads: the PR's current state through the API, never an event payload."""

    repo: str  # owner/name
    number: int
    head_sha: str
    body: Optional[str] = None
    author: str = ""
    draft: bool = False
    default_branch: str = "main"
    html_url: str = ""  # the repository's web address (GHES too): links to lines at head_sha
    fork: bool = False
    labels: tuple = ()  # workload.Label, with who applied each answer label
    files: tuple = ()  # ChangedFile, every page
    docs: tuple = ()  # (path, text) of the changed design docs, read at head_sha
    comments: tuple = ()  # Comment, every one that carries the marker, oldest first


@dataclass(frozen=True)
class Plan:
    """What to write: at most one comment write, duplicates to delete, verdict labels to change."""

    review: Review
    summary: str  # the job summary / check run text
    comment_body: Optional[str] = None  # text to write; None: no comment write
    comment_id: Optional[int] = None  # the comment to update; None with a body: create one
    sticky: Optional[Comment] = None  # our comment as it stands before the write
    delete: tuple = ()  # ids of duplicate comments of ours
    add_labels: tuple = ()
    remove_labels: tuple = ()
    failed: bool = False  # the verdict is in `fail_on`
    skipped: bool = False  # a draft with `drafts: skip`: nothing is written

    @property
    def document(self) -> dict:
        return document(self.review)

    @property
    def conclusion(self) -> str:
        """The check run's conclusion (the App): never red unless `fail_on` asks."""
        return "failure" if self.failed else "neutral"

    @property
    def writes(self) -> int:
        return (self.comment_body is not None) + len(self.delete) + len(self.add_labels) + len(self.remove_labels)


def is_ours(comment: Comment, identity: str) -> bool:
    """Our sticky comment: the hidden marker *and* our own login; a human quoting the marker is not us."""
    return comment.author == identity and COMMENT_MARKER in comment.body


def plan(pr: PullRequest, config: Config = DEFAULT, identity: str = "", *, problems=(),
         diff: Optional[ScanResult] = None) -> Plan:
    """Decide the review and every write it needs, from plain values; `diff` is the scan of the PR's diff."""
    review = assess(pr.body, pr.docs, pr.labels, config=config, pr_author=pr.author, problems=problems, scan=diff)
    verdict = review.verdict.value
    skipped = pr.draft and config.drafts == "skip"
    code_url = f"{pr.html_url}/blob/{pr.head_sha}" if pr.html_url else ""
    summary = render_comment(review, config, summary=True, notices=("draft-skipped",) if skipped else (),
                             code_url=code_url)
    if skipped:
        return Plan(review, summary, skipped=True)

    ours = [comment for comment in pr.comments if is_ours(comment, identity)]
    sticky = ours[0] if ours else None
    state = {"scan": to_cache(diff, pr.head_sha)} if diff is not None else None
    text = render_comment(review, config, code_url=code_url, state=state)
    wants_comment = verdict in config.comment_on and not (pr.draft and config.drafts == "label-only")
    body = None
    if sticky:  # an existing comment is always kept up to date, whatever the verdict
        body = None if sticky.body == text else text
    elif wants_comment:
        body = text

    present = {label.name for label in pr.labels}
    wanted = VERDICT_LABELS.get(review.verdict)
    return Plan(
        review,
        summary,
        comment_body=body,
        comment_id=sticky.id if sticky else None,
        sticky=sticky,
        delete=tuple(comment.id for comment in ours[1:]),
        add_labels=(wanted,) if wanted and wanted not in present else (),
        remove_labels=tuple(name for name in VERDICT_LABELS.values() if name in present and name != wanted),
        failed=verdict in config.fail_on,
    )


@dataclass(frozen=True)
class Applied:
    """What the writes left behind."""

    comment_url: str = ""  # the sticky comment after the writes, when there is one
    read_only: bool = False  # the token could not write (a fork's token): the plan stands, unwritten


@dataclass(frozen=True)
class Outcome:
    pr: PullRequest
    config: Config
    plan: Plan
    applied: Applied


def remembered_scan(pr: PullRequest, identity: str) -> Optional[ScanResult]:
    """The diff scan our own comment keeps for this head SHA (so a label change does not read files again)."""
    ours = [comment for comment in pr.comments if is_ours(comment, identity)]
    return from_cache(read_state(ours[0].body).get("scan"), pr.head_sha) if ours else None


def scan_diff(gh, pr: PullRequest, config: Config) -> ScanResult:
    """Read the changed files that mention Claude at the head SHA (at most scan.max_files) and scan them."""
    chosen = select(pr.files, config.scan.max_files)
    changes = [to_change(listed, gh.read_text(pr.repo, listed.path, pr.head_sha)) for listed in chosen.fetch]
    return scan(changes, notes=chosen.notes, partial=chosen.partial)


def run(gh, repo: str, number: int, *, identity: str, overrides: Optional[dict] = None,
        config_path: str = CONFIG_PATH, scan_cache=None) -> Outcome:
    """Read the config (default branch) and the PR (head SHA), scan the diff, plan, and apply through `gh`.

    `scan_cache` (the App's store), a mapping of head SHA -> `scan.to_cache` value, is asked after
    our comment's hidden state; `trigger: checklist-only` and skipped drafts read no files.
    """

    def read(target: str, path: str) -> Optional[str]:
        own = (target, path) == (repo, CONFIG_PATH)
        return gh.read_text(target, config_path if own else path)

    config, problems = resolve(read, repo, overrides)
    pr = gh.pull_request(repo, number, is_design_doc=lambda path: matches(path, config.design_docs))
    diff = None
    if config.trigger != "checklist-only" and not (pr.draft and config.drafts == "skip"):
        diff = remembered_scan(pr, identity)
        if diff is None and scan_cache is not None:
            diff = from_cache(scan_cache.get(pr.head_sha), pr.head_sha)
        if diff is None:
            diff = scan_diff(gh, pr, config)
            if scan_cache is not None:
                scan_cache[pr.head_sha] = to_cache(diff, pr.head_sha)
    planned = plan(pr, config, identity, problems=problems, diff=diff)
    return Outcome(pr, config, planned, gh.apply(repo, number, planned))
