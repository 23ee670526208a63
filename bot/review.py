"""The one review recipe, shared by the Action and the App: a pull request in, what to write out.

`plan()` is pure: a `PullRequest` snapshot, the config and the bot's identity in, a `Plan` out.
`run()` is the only imperative part: it reads through a GitHub adapter (`bot.gh.GitHub`, or
anything with the same methods), plans, and applies.
"""

from dataclasses import dataclass, field
from typing import Optional

from bot import inference
from bot.config import DEFAULT, Config, resolve
from bot.globs import matches
from bot.names import COMMENT_MARKER, CONFIG_PATH, INFERENCE_NOTES, VERDICT_LABELS
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

    @property
    def code_url(self) -> str:
        """Where the diff's hints link to: the files at the head SHA (empty without the repository's address)."""
        return f"{self.html_url}/blob/{self.head_sha}" if self.html_url else ""


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


@dataclass(frozen=True)
class Inferred:
    """What asking Claude gave a review: per workload source, its Suggestion and notes; the state our comment keeps."""

    suggestions: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)
    state: Optional[dict] = None  # {"tokens": spent on this PR, "answers": {cache key: reply}}


def is_ours(comment: Comment, identity: str) -> bool:
    """Our sticky comment: the hidden marker *and* our own login; a human quoting the marker is not us."""
    return comment.author == identity and COMMENT_MARKER in comment.body


def _ours(pr: PullRequest, identity: str) -> list:
    """Our marked comments on the PR, oldest first: the first is the sticky one, the rest duplicates."""
    return [comment for comment in pr.comments if is_ours(comment, identity)]


def _kept(pr: PullRequest, identity: str) -> dict:
    """The hidden state our sticky comment keeps; {} without one."""
    ours = _ours(pr, identity)
    return read_state(ours[0].body) if ours else {}


def _assess(pr: PullRequest, config: Config, problems, diff: Optional[ScanResult]) -> Review:
    return assess(pr.body, pr.docs, pr.labels, config=config, pr_author=pr.author, problems=problems, scan=diff)


def _commenting(pr: PullRequest, config: Config, review: Review, sticky: Optional[Comment]) -> bool:
    """Whether the review shows in a comment: ours exists (it is always kept up to date), or the verdict wants one."""
    if pr.draft and config.drafts == "skip":
        return False
    wanted = review.verdict.value in config.comment_on and not (pr.draft and config.drafts == "label-only")
    return sticky is not None or wanted


def plan(pr: PullRequest, config: Config = DEFAULT, identity: str = "", *, problems=(),
         diff: Optional[ScanResult] = None, inferred: Optional[Inferred] = None) -> Plan:
    """Decide the review and every write it needs, from plain values; `diff` is the scan of the PR's diff,
    `inferred` what Claude suggested (it never changes the verdict, its label or `fail_on`)."""
    review = _assess(pr, config, problems, diff)
    if inferred is not None:
        review = inference.attach(review, inferred.suggestions, inferred.notes)
    verdict = review.verdict.value
    skipped = pr.draft and config.drafts == "skip"
    summary = render_comment(review, config, summary=True, notices=("draft-skipped",) if skipped else (),
                             code_url=pr.code_url)
    if skipped:
        return Plan(review, summary, skipped=True)

    ours = _ours(pr, identity)
    sticky = ours[0] if ours else None
    state = {"scan": to_cache(diff, pr.head_sha)} if diff is not None else {}
    if inferred is not None and inferred.state is not None:
        state["inference"] = inferred.state
    text = render_comment(review, config, code_url=pr.code_url, state=state or None)
    body = None
    if sticky:  # an existing comment is always kept up to date, whatever the verdict
        body = None if sticky.body == text else text
    elif _commenting(pr, config, review, sticky):
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
    return from_cache(_kept(pr, identity).get("scan"), pr.head_sha)


def remembered_inference(pr: PullRequest, identity: str) -> dict:
    """The suggestions our comment keeps: {"tokens": spent on this PR, "answers": {cache key: reply or None}}."""
    kept = _kept(pr, identity).get("inference")
    tokens = kept.get("tokens") if isinstance(kept, dict) else None
    answers = kept.get("answers") if isinstance(kept, dict) else None
    return {"tokens": tokens if isinstance(tokens, int) and tokens >= 0 else 0,
            "answers": answers if isinstance(answers, dict) else {}}


def suggest(pr: PullRequest, config: Config, review: Review, *, identity: str, claude=None, memory=None) -> Inferred:
    """Ask Claude about each needs-answers workload of a review that shows in a comment, unless remembered.

    `claude` is a `bot.claude.Claude` (None: no API key). `memory` (the App's store, see
    `bot.app_work.Memory`) caches answers and counts a repository's tokens per month; the Action
    has only our comment's hidden state, which also counts this PR's tokens against its budget.
    """
    settings = config.inference
    kept = remembered_inference(pr, identity)
    carried = Inferred(state=kept if kept["tokens"] or kept["answers"] else None)
    sticky = next(iter(_ours(pr, identity)), None)
    if not settings.enabled or not _commenting(pr, config, review, sticky):
        return carried
    asks = inference.asks(review, pr.body, pr.docs, volume_threshold=config.volume_threshold)
    if not asks:
        return carried
    why_not = "fork" if pr.fork and not settings.forks else "no-key" if claude is None else None
    if why_not:
        return Inferred(notes={ask.workload: (INFERENCE_NOTES[why_not],) for ask in asks}, state=carried.state)
    tokens, answers, suggestions, notes = kept["tokens"], {}, {}, {}
    for ask in asks:
        key = ask.prompt.cache_key(settings.model)
        if key in kept["answers"]:
            reply = kept["answers"][key]
        elif memory is not None and (remembered := memory.answer(key)) is not None:
            reply = remembered["reply"]
        elif tokens >= settings.pr_token_budget:
            notes[ask.workload] = (INFERENCE_NOTES["pr-budget"].format(budget=settings.pr_token_budget),)
            continue
        elif memory is not None and memory.tokens_used(pr.repo) >= settings.monthly_token_budget:
            notes[ask.workload] = (INFERENCE_NOTES["monthly-budget"].format(
                repo=pr.repo, budget=settings.monthly_token_budget),)
            continue
        else:
            got = claude.ask(ask.prompt, model=settings.model, max_tokens=settings.max_tokens)
            tokens += got.tokens
            if memory is not None and got.tokens:
                memory.spend(pr.repo, got.tokens)
            if got.error:
                notes[ask.workload] = (INFERENCE_NOTES["error"].format(detail=got.error),)
                continue
            reply = inference.storable(got.answer, ask.prompt)
            if memory is not None:
                memory.remember(key, {"reply": reply})
        answers[key] = reply
        suggestions[ask.workload] = inference.validate(reply, ask.prompt)
    return Inferred(suggestions, notes, {"tokens": tokens, "answers": answers})


def scan_diff(gh, pr: PullRequest, config: Config) -> ScanResult:
    """Read the changed files that mention Claude at the head SHA (at most scan.max_files) and scan them."""
    chosen = select(pr.files, config.scan.max_files)
    changes = [to_change(listed, gh.read_text(pr.repo, listed.path, pr.head_sha)) for listed in chosen.fetch]
    return scan(changes, notes=chosen.notes, partial=chosen.partial)


def run(gh, repo: str, number: int, *, identity: str, overrides: Optional[dict] = None,
        config_path: str = CONFIG_PATH, scan_cache=None, claude=None, memory=None) -> Outcome:
    """Read the config (default branch) and the PR (head SHA), scan the diff, ask Claude, plan, and apply through `gh`.

    `scan_cache` (the App's store), a mapping of head SHA -> `scan.to_cache` value, is asked after
    our comment's hidden state; `trigger: checklist-only` and skipped drafts read no files.
    `claude` and `memory`: see `suggest`.
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
    inferred = suggest(pr, config, _assess(pr, config, problems, diff), identity=identity, claude=claude,
                       memory=memory)
    planned = plan(pr, config, identity, problems=problems, diff=diff, inferred=inferred)
    return Outcome(pr, config, planned, gh.apply(repo, number, planned))
