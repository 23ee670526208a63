"""A pull request's snapshot in, every write its review needs out (pure)."""

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Optional

from bot.core import commands, exemptions, inference
from bot.core.config import DEFAULT, Config
from bot.core.names import COMMENT_MARKER, EXEMPT_LABEL, VERDICT_LABELS
from bot.core.render import read_state, render_comment, render_reply
from bot.core.workload import Assessment, assess, document
from bot.scan.cache import from_cache, to_cache
from bot.scan.model import ScanResult


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
    association: str = ""  # author_association: OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE...
    updated_at: str = ""  # ISO 8601
    reactions: tuple = ()  # the reactions it has, anyone's (e.g. "+1", "confused"): GitHub's counts above 0


@dataclass(frozen=True)
class Reaction:
    """Our reaction to someone's command comment (names.REACTIONS)."""

    comment_id: int
    content: str  # "+1" or "confused"
    present: tuple = ()  # the comment's reactions as listed (anyone's): without +1 and confused, none is ours
    by: str = ""  # our login: an earlier reaction of ours is kept, the other of +1 and confused removed


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
    updated_at: str = ""  # ISO 8601, as GitHub gives it: says whether a later event's payload is current
    fork: bool = False
    labels: tuple = ()  # workload.Label, with who applied each answer label
    files: tuple = ()  # ChangedFile, every page
    docs: tuple = ()  # (path, text) of the changed design docs, read at head_sha
    comments: tuple = ()  # Comment, every one that carries the marker or starts with /batch-review, oldest first
    base_sha: str = ""  # the base branch's commit the diff is against

    @property
    def code_url(self) -> str:
        """Where the diff's hints link to: the files at the head SHA (empty without the repository's address)."""
        return f"{self.html_url}/blob/{self.head_sha}" if self.html_url else ""


@dataclass(frozen=True)
class Plan:
    """What to write: at most one comment write, duplicates to delete, verdict labels to change."""

    review: Assessment
    summary: str  # the job summary / check run text
    comment_body: Optional[str] = None  # text to write; None: no comment write
    comment_id: Optional[int] = None  # the comment to update; None with a body: create one
    sticky: Optional[Comment] = None  # our comment as it stands before the write
    delete: tuple = ()  # ids of duplicate comments of ours
    add_labels: tuple = ()
    remove_labels: tuple = ()
    failed: bool = False  # the verdict is in `fail_on`
    skipped: bool = False  # a draft with `drafts: skip`: nothing is written
    reactions: tuple = ()  # Reaction: to each command comment, unless it has ours already
    replies: tuple = ()  # texts of replies to post: a command from someone who may not give it, or not understood

    @property
    def document(self) -> dict:
        return document(self.review)

    @property
    def conclusion(self) -> str:
        """The check run's conclusion (the App): never red unless `fail_on` asks."""
        return "failure" if self.failed else "neutral"

    @property
    def writes(self) -> int:
        return ((self.comment_body is not None) + len(self.delete) + len(self.add_labels) + len(self.remove_labels)
                + len(self.replies))


@dataclass(frozen=True)
class Inferred:
    """What asking Claude gave a review: per workload source, its Suggestion and notes; the state our comment keeps."""

    suggestions: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)
    state: Optional[dict] = None  # {"tokens": spent on this PR, "answers": {cache key: reply}}


def is_ours(comment: Comment, identity: str) -> bool:
    """Our sticky comment: the hidden marker *and* our own login; a human quoting the marker is not us."""
    return comment.author == identity and COMMENT_MARKER in comment.body


def our_comments(pr: PullRequest, identity: str) -> list:
    """Our marked comments on the PR, oldest first: the first is the sticky one, the rest duplicates."""
    return [comment for comment in pr.comments if is_ours(comment, identity)]


def kept_state(pr: PullRequest, identity: str) -> dict:
    """The hidden state our sticky comment keeps; {} without one."""
    return state_of(pr.comments, identity)


def state_of(comments, identity: str) -> dict:
    """The hidden state of our sticky comment among `comments`; {} without one."""
    ours = [comment for comment in comments if is_ours(comment, identity)]
    return read_state(ours[0].body) if ours else {}


FRESH_ACTIONS = ("opened", "reopened", "synchronize", "ready_for_review")  # their payload is the change itself


def payload_is_current(action: str, pull: dict, kept: dict) -> bool:
    """Whether an event's `pull_request` can stand for `GET /pulls/{n}`.

    With our comment: when it is no older than the PR the comment last saw (a replayed or late
    event is older). Without one: only for events whose payload is the change itself (an `edited`
    payload may be older than the PR).
    """
    updated = pull.get("updated_at")
    if not isinstance(updated, str):
        return False
    seen = (kept.get("pr") or {}).get("updated_at")
    return updated >= seen if isinstance(seen, str) else action in FRESH_ACTIONS


def as_last_seen(pull: dict, kept: dict) -> dict:
    """An event's `pull_request` with the verdict labels our own writes left since it was sent (a replay lacks them)."""
    seen = kept.get("pr") or {}
    ours = seen.get("labels")
    if pull.get("updated_at") != seen.get("updated_at") or not isinstance(ours, list):
        return pull
    verdicts = set(VERDICT_LABELS.values())
    others = [label for label in pull.get("labels") or () if label.get("name") not in verdicts]
    return {**pull, "labels": others + [{"name": name} for name in ours if name in verdicts]}


def remembered_docs(kept: dict, head_sha: str) -> Optional[tuple]:
    """The design-doc paths our comment saw at this head SHA, when its diff scan is kept too: no file list to read."""
    pr, scan = kept.get("pr") or {}, kept.get("scan") or {}
    docs = pr.get("docs")
    if pr.get("sha") == head_sha and scan.get("sha") == head_sha and isinstance(docs, list):
        return tuple(path for path in docs if isinstance(path, str))
    return None


def assess_pr(pr: PullRequest, config: Config, problems, diff: Optional[ScanResult],
              today: Optional[date] = None, earlier: tuple = (), clicked: tuple = ()) -> Assessment:
    """The review; its exemption is the PR's own (covering its workloads' paths), else one that `earlier`
    (exemptions.Standing of the repository) holds for a path the PR changes. `clicked`: CommandAnswer values
    from the App's check run buttons, that count beside the comments' (per person and question the newest stands)."""
    said = commands.answers(pr.comments, pr.author, config.volume_threshold)
    review = assess(pr.body, pr.docs, pr.labels, config=config, pr_author=pr.author, problems=problems, scan=diff,
                    commands=commands.newest(said, clicked) if clicked else said)
    own = commands.exemption(pr.comments, config.exemptions.max_days, today)
    if own is not None:
        own = replace(own, paths=exemptions.paths_of(review))
    elif earlier and today is not None:
        own = exemptions.inherited(earlier, [changed.path for changed in pr.files] + [path for path, _ in pr.docs],
                                   pr.number, today, config.exemptions.max_days)
    return replace(review, disagreements=commands.disagreements(pr.comments), exemption=own)


def commenting(pr: PullRequest, config: Config, review: Assessment, sticky: Optional[Comment]) -> bool:
    """Whether the review shows in a comment: ours exists (it is always kept up to date), or the verdict wants one."""
    if pr.draft and config.drafts == "skip":
        return False
    wanted = (review.verdict.value in config.comment_on or bool(review.hygiene)) and not (
        pr.draft and config.drafts == "label-only")
    return sticky is not None or wanted


def plan(pr: PullRequest, config: Config = DEFAULT, identity: str = "", *, problems=(),
         diff: Optional[ScanResult] = None, inferred: Optional[Inferred] = None, today: Optional[date] = None,
         earlier: tuple = (), clicked: tuple = (), refused: tuple = ()) -> Plan:
    """Decide the review and every write it needs, from plain values; `diff` is the scan of the PR's diff,
    `inferred` what Claude suggested (it never changes the verdict, its label or `fail_on`); `today` says
    whether an exemption has lapsed (None: it runs), `earlier` the repository's exemptions (exemptions.Standing)
    a PR changing their paths inherits. An exemption's label replaces the verdict's. `clicked` and `refused`:
    the App's check run buttons, answers that count and commands.Reply values owed to people whose click does not."""
    review = assess_pr(pr, config, problems, diff, today, earlier, clicked)
    if inferred is not None:
        review = inference.attach(review, inferred.suggestions, inferred.notes)
    verdict = review.verdict.value
    skipped = pr.draft and config.drafts == "skip"
    summary = render_comment(review, config, summary=True, notices=("draft-skipped",) if skipped else (),
                             code_url=pr.code_url)
    if skipped:
        return Plan(review, summary, skipped=True)

    ours = our_comments(pr, identity)
    sticky = ours[0] if ours else None
    present = {label.name for label in pr.labels}
    wanted = EXEMPT_LABEL if review.exempt else VERDICT_LABELS.get(review.verdict)
    ours_labels = (*VERDICT_LABELS.values(), EXEMPT_LABEL)
    removed = {name for name in ours_labels if name in present and name != wanted}
    after = sorted(present - removed | ({wanted} if wanted else set()))  # the labels once our writes are done
    state = {"pr": {"sha": pr.head_sha, "updated_at": pr.updated_at, "docs": [path for path, _ in pr.docs],
                    "labels": after}}
    if diff is not None:
        state["scan"] = to_cache(diff, pr.head_sha)
    if review.disagreements:
        state["wrong"] = document(review)["disagreements"]  # the record the metric counts false alarms from
    if (kept := exemptions.entry(review.exemption, pr.number)) is not None:
        state["exempt"] = kept  # later PRs changing these paths find it here (the Action keeps no store)
    if inferred is not None and inferred.state is not None:
        state["inference"] = inferred.state
    text = render_comment(review, config, code_url=pr.code_url, state=state, earlier=sticky is not None)
    body = None
    if sticky:  # an existing comment is always kept up to date, whatever the verdict
        body = None if sticky.body == text else text
    elif commenting(pr, config, review, sticky):
        body = text

    return Plan(
        review,
        summary,
        comment_body=body,
        comment_id=sticky.id if sticky else None,
        sticky=sticky,
        delete=tuple(comment.id for comment in ours[1:]),
        add_labels=(wanted,) if wanted and wanted not in present else (),
        remove_labels=tuple(name for name in ours_labels if name in removed),
        failed=verdict in config.fail_on and not review.exempt,
        reactions=tuple(Reaction(comment.id, content, comment.reactions, identity) for comment, content in
                        commands.reactions(pr.comments, pr.author, config.volume_threshold, identity)),
        replies=tuple(render_reply(reply) for reply in
                      commands.replies(pr.comments, pr.author, config.volume_threshold, identity, refused)),
    )


@dataclass(frozen=True)
class Applied:
    """What the writes left behind."""

    comment_url: str = ""  # the sticky comment after the writes, when there is one
    read_only: bool = False  # the token could not write (a fork's token): the plan stands, unwritten


def remembered_scan(pr: PullRequest, identity: str) -> Optional[ScanResult]:
    """The diff scan our own comment keeps for this head SHA (so a label change does not read files again)."""
    return from_cache(kept_state(pr, identity).get("scan"), pr.head_sha)


def remembered_inference(pr: PullRequest, identity: str) -> dict:
    """The suggestions our comment keeps: {"tokens": spent on this PR, "answers": {cache key: reply or None}}."""
    kept = kept_state(pr, identity).get("inference")
    tokens = kept.get("tokens") if isinstance(kept, dict) else None
    answers = kept.get("answers") if isinstance(kept, dict) else None
    return {"tokens": tokens if isinstance(tokens, int) and tokens >= 0 else 0,
            "answers": answers if isinstance(answers, dict) else {}}
