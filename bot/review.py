"""The imperative review pipeline shared by the Action and the App: read, plan, apply.

`run()` reads the config and the pull request through the `GitHub` seam, scans the diff (or takes
the scan our comment or the App's `ScanCache` remembers), asks `Claude` what `plan_questions`
chose, plans with the pure `bot.core.plan.plan()` and applies through `GitHub`. The seams are
Protocols: the clients live in `bot.clients`, which this module never imports.
"""

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Callable, Optional, Protocol

from bot.core import exemptions, inference
from bot.core.codeowners import first_file, parse, team
from bot.core.config import Config, resolve
from bot.core.globs import matches
from bot.core.labels import compare
from bot.core.names import COMMAND, CONFIG_PATH, EXEMPT_VERB, INFERENCE_NOTES, LABEL_STYLES, Verdict
from bot.core.plan import (
    Applied,
    Inferred,
    as_last_seen,
    Plan,
    PullRequest,
    assess_pr,
    commenting,
    our_comments,
    plan,
    payload_is_current,
    remembered_docs,
    remembered_inference,
    remembered_scan,
    state_of,
)
from bot.core.workload import PR_SOURCE, Assessment
from bot.fix.suggest import ready_change, to_write
from bot.scan.cache import from_cache, to_cache
from bot.scan.diff import select, to_change
from bot.scan.model import ScanResult
from bot.scan.scanner import scan


class GitHub(Protocol):
    """What the pipeline reads and writes through (`bot.clients.github.GitHub`; fakes in tests)."""

    def read_text(self, repo: str, path: str, ref: Optional[str] = None) -> Optional[str]: ...

    def comments(self, repo: str, number: int) -> tuple: ...

    def pull_request(self, repo: str, number: int, *, is_design_doc: Callable[[str], bool], comments: tuple,
                     known: Optional[dict] = None, doc_paths: Optional[tuple] = None) -> PullRequest: ...

    def apply(self, repo: str, number: int, plan: Plan) -> Applied: ...

    def review_comments(self, repo: str, number: int, author: str) -> tuple: ...

    def post_review(self, repo: str, number: int, head_sha: str, comments: tuple, delete: tuple = ()) -> bool: ...

    def search_pulls(self, query: str, limit: int) -> tuple: ...


class Claude(Protocol):
    """One synchronous question (`bot.clients.claude.Claude`): a reply with `answer`, `tokens` and `error`."""

    def ask(self, prompt: inference.Prompt, *, model: str, max_tokens: int): ...


class Memory(Protocol):
    """The App's store of Claude's answers and each repository's monthly tokens (`bot.app.work.Memory`)."""

    def answer(self, key: str) -> Optional[dict]: ...

    def remember(self, key: str, value: dict) -> None: ...

    def tokens_used(self, repo: str) -> int: ...

    def spend(self, repo: str, tokens: int) -> None: ...


class ScanCache(Protocol):
    """Diff scans (`bot.app.work.ScanCache`), `bot.scan.cache.to_cache` values, for a PR's diff and scan settings."""

    def get(self, pr: PullRequest, settings) -> Optional[dict]: ...

    def put(self, pr: PullRequest, settings, value: dict) -> None: ...


class Clicks(Protocol):
    """Answers given with the App's check run buttons (`bot.app.work.Clicks`): (CommandAnswer values that count,
    commands.Reply values owed to people whose click does not); `gh` checks who may answer."""

    def read(self, gh: GitHub, pr: PullRequest) -> tuple: ...


@dataclass(frozen=True)
class Outcome:
    pr: PullRequest
    config: Config
    plan: Plan
    applied: Applied


@dataclass(frozen=True)
class Questions:
    """Which workloads to ask Claude about, and what our comment already remembers."""

    asks: tuple = ()  # inference.Ask, in order
    kept: dict = field(default_factory=lambda: {"tokens": 0, "answers": {}})
    done: Optional[Inferred] = None  # the answer without asking anything (nothing to ask, or why not)


def plan_questions(pr: PullRequest, config: Config, review: Assessment, *, identity: str, has_claude: bool) -> Questions:
    """Pure: the needs-answers workloads of a review that shows in a comment, or why none is asked (none once
    someone said `/batch-review wrong`)."""
    settings = config.inference
    kept = remembered_inference(pr, identity)
    carried = Inferred(state=kept if kept["tokens"] or kept["answers"] else None)
    sticky = next(iter(our_comments(pr, identity)), None)
    if not settings.enabled or review.disagreements or not commenting(pr, config, review, sticky):
        return Questions(kept=kept, done=carried)
    asks = inference.asks(review, pr.body, pr.docs, volume_threshold=config.volume_threshold)
    if not asks:
        return Questions(kept=kept, done=carried)
    why_not = "fork" if pr.fork and not settings.forks else None if has_claude else "no-key"
    if why_not:
        return Questions(kept=kept, done=Inferred(notes={ask.workload: (INFERENCE_NOTES[why_not],) for ask in asks},
                                                  state=carried.state))
    return Questions(asks, kept)


def ask_questions(questions: Questions, repo: str, config: Config, claude: Optional[Claude],
                  memory: Optional[Memory] = None) -> Inferred:
    """Answer each question from our comment, the App's memory, or Claude within the PR's and the month's budgets.

    The Action has only our comment's hidden state, which also counts this PR's tokens against its budget.
    """
    if questions.done is not None:
        return questions.done
    settings, kept = config.inference, questions.kept
    tokens, answers, suggestions, notes = kept["tokens"], {}, {}, {}
    for ask in questions.asks:
        key = ask.prompt.cache_key(settings.model)
        if key in kept["answers"]:
            reply = kept["answers"][key]
        elif memory is not None and (remembered := memory.answer(key)) is not None:
            reply = remembered["reply"]
        elif tokens >= settings.pr_token_budget:
            notes[ask.workload] = (INFERENCE_NOTES["pr-budget"].format(budget=settings.pr_token_budget),)
            continue
        elif memory is not None and memory.tokens_used(repo) >= settings.monthly_token_budget:
            notes[ask.workload] = (INFERENCE_NOTES["monthly-budget"].format(
                repo=repo, budget=settings.monthly_token_budget),)
            continue
        else:
            got = claude.ask(ask.prompt, model=settings.model, max_tokens=settings.max_tokens)
            tokens += got.tokens
            if memory is not None and got.tokens:
                memory.spend(repo, got.tokens)
            if got.error:
                notes[ask.workload] = (INFERENCE_NOTES["error"].format(detail=got.error),)
                continue
            reply = inference.storable(got.answer, ask.prompt)
            if memory is not None:
                memory.remember(key, {"reply": reply})
        answers[key] = reply
        suggestions[ask.workload] = inference.validate(reply, ask.prompt)
    return Inferred(suggestions, notes, {"tokens": tokens, "answers": answers})


def scan_diff(gh: GitHub, pr: PullRequest, config: Config) -> ScanResult:
    """Read the changed files that mention Claude at the head SHA (at most scan.max_files) and scan them."""
    chosen = select(pr.files, config.scan.max_files)
    changes = [to_change(listed, gh.read_text(pr.repo, listed.path, pr.head_sha)) for listed in chosen.fetch]
    return scan(changes, notes=chosen.notes, partial=chosen.partial)


def run(gh: GitHub, repo: str, number: int, *, identity: str, overrides: Optional[dict] = None,
        config_path: str = CONFIG_PATH, scan_cache: Optional[ScanCache] = None, claude: Optional[Claude] = None,
        memory: Optional[Memory] = None, event: Optional[dict] = None,
        earlier: Optional[Callable[[PullRequest], tuple]] = None, shadow: bool = False,
        clicks: Optional[Clicks] = None, read_config: Optional[Callable[[str, str], Optional[str]]] = None) -> Outcome:
    """Read the config (default branch) and the PR (head SHA), scan the diff, ask Claude, plan, and apply through `gh`.

    `scan_cache` (the App's store), by the PR's diff and the scan settings, is asked after
    our comment's hidden state; `trigger: checklist-only` and skipped drafts read no files.
    `claude` and `memory`: see `ask_questions`. `event`, a pull_request event's payload, saves reading
    the PR when it is current (`payload_is_current`); when our comment also keeps this head SHA's
    scan, the file list is not read either. `earlier(pr)` gives the repository's exemptions per workload
    (exemptions.Standing; the App's store, the Action's search), asked only for a PR with a workload's path
    (a call or a design doc) and no exemption of its own. `shadow` (the App's `mode: shadow`): the review is
    planned as usual, but only its labels are written: no comment, reaction or reply, no duplicate deleted, no
    suggested change. `clicks` (the App's store) adds the answers given with the check run's buttons.
    `read_config(repo, path)` reads the config files (default: `gh.read_text` on the default branch); the App
    passes its task's reads, which its rollout check has already made of the organisation's file.
    """

    def read(target: str, path: str) -> Optional[str]:
        own = (target, path) == (repo, CONFIG_PATH)
        return (read_config or gh.read_text)(target, config_path if own else path)

    config, problems, _ = resolve(read, repo, overrides)
    comments = gh.comments(repo, number)
    kept = state_of(comments, identity)
    pull = (event or {}).get("pull_request")
    known = as_last_seen(pull, kept) if pull and payload_is_current(event.get("action", ""), pull, kept) else None
    doc_paths = remembered_docs(kept, known["head"]["sha"]) if known else None
    pr = gh.pull_request(repo, number, is_design_doc=lambda path: matches(path, config.design_docs),
                         comments=comments, known=known, doc_paths=doc_paths)
    diff = None
    if config.trigger != "checklist-only" and not (pr.draft and config.drafts == "skip"):
        diff = remembered_scan(pr, identity)
        if diff is None and scan_cache is not None:
            diff = from_cache(scan_cache.get(pr, config.scan), pr.head_sha)
        if diff is None:
            diff = scan_diff(gh, pr, config)
            if scan_cache is not None:
                scan_cache.put(pr, config.scan, to_cache(diff, pr.head_sha))
    today = date.today()
    clicked, refused = clicks.read(gh, pr) if clicks is not None else ((), ())
    assessed, standing = assess_pr(pr, config, problems, diff, today, clicked=clicked), ()
    if earlier is not None and assessed.exemption is None and exemptions.paths_of(assessed):
        standing = earlier(pr)
        assessed = assess_pr(pr, config, problems, diff, today, standing, clicked)
    questions = plan_questions(pr, config, assessed, identity=identity, has_claude=claude is not None)
    inferred = ask_questions(questions, pr.repo, config, claude, memory)
    planned = plan(pr, config, identity, problems=problems, diff=diff, inferred=inferred, today=today,
                   earlier=standing, clicked=clicked, refused=refused)
    if shadow:
        planned = replace(planned, comment_body=None, delete=(), reactions=(), replies=())
    applied = gh.apply(repo, number, planned)
    if config.fix.suggest and not shadow and not applied.read_only and not planned.skipped:
        suggest_ready_changes(gh, pr, config, planned.review, identity)
    return Outcome(pr, config, planned, applied)


SEARCHED_PULLS = 10  # the Action reads the comments of at most this many earlier PRs with an exempt command


def searched_exemptions(gh, pr: PullRequest, identity: str, limit: int = SEARCHED_PULLS) -> tuple:
    """The Action's `earlier`: the repository's exemptions per workload, from our hidden state on the `limit` most
    recently updated other PRs that GitHub's search finds with an exempt command (one search, then one comment
    listing per PR). Older ones, and PRs the search index has not caught up with, are not seen."""
    phrase = f'"{COMMAND.lstrip("/")} {EXEMPT_VERB}"'
    found = [number for number in gh.search_pulls(f"repo:{pr.repo} is:pr in:comments {phrase}", limit + 1)
             if number != pr.number][:limit]
    kept = [state_of(gh.comments(pr.repo, number), identity).get("exempt") for number in found]
    return exemptions.standing(pr.repo, kept)


def suggest_ready_changes(gh: GitHub, pr: PullRequest, config: Config, review: Assessment, identity: str) -> None:
    """Post the ready change of each batch candidate's loop this PR adds, once; replace ours when the loop changed."""
    calls = [call for w in review.workloads if w.decision.verdict is Verdict.BATCH_CANDIDATE for call in w.hints]
    patches = {changed.path: changed.patch for changed in pr.files}
    wanted = []
    for path in sorted({call.path for call in calls} & set(patches)):
        text = gh.read_text(pr.repo, path, pr.head_sha)
        found = ready_change(path, text, [c for c in calls if c.path == path], patches[path], config.helper_import)
        wanted += [found] if found else []
    if not wanted:
        return
    post, delete = to_write(wanted, gh.review_comments(pr.repo, pr.number, identity))
    if post or delete:
        gh.post_review(pr.repo, pr.number, pr.head_sha, tuple(s.comment for s in post), delete)


def sync_labels(gh, repo: str, before_write: Callable[[], None] = lambda: None) -> list:
    """Create the labels the repository lacks (`labels sync`, the App on install); one line per label saying what happened.

    `before_write()` runs before each label is created (the App's write budget: it raises to make the task wait).
    """
    lines = []
    for name, state, style in compare(gh.labels(repo)):
        color, description = LABEL_STYLES[name]
        if state == "create":
            before_write()
            gh.create_label(repo, name)
            lines.append(f"created {name} (#{color}: {description})")
        elif state == "differs":
            lines.append(f"kept    {name} as it is (#{style[0]}: {style[1] or 'no description'}); "
                         f"batch-review's style is #{color}: {description}")
        else:
            lines.append(f"exists  {name}")
    return lines


def owning_team(gh: GitHub, pr: PullRequest, review: Assessment, known: Optional[dict] = None) -> str:
    """The CODEOWNERS team of a review's workloads, from the file at the PR's base commit.

    `known` (the App's store) keeps each commit's CODEOWNERS text, so a repository's file is read
    once per commit. The workloads' code counts first, then their design docs, then the changed files.
    """
    key = f"{pr.repo}@{pr.base_sha or pr.default_branch}"
    text = known.get(key) if known is not None else None
    if text is None:
        text = first_file(lambda path: gh.read_text(pr.repo, path, pr.base_sha or None)) or ""
        if known is not None:
            known[key] = text
    paths = [call.path for workload in review.workloads for call in workload.hints]
    paths += [workload.source for workload in review.workloads if workload.source != PR_SOURCE]
    return team(parse(text), paths + [changed.path for changed in pr.files])
