"""The imperative review pipeline shared by the Action and the App: read, plan, apply.

`plan()` is pure: a `PullRequest` snapshot, the config and the bot's identity in, a `Plan` out.
`run()` is the only imperative part: it reads through a GitHub adapter (`bot.clients.github.GitHub`, or
anything with the same methods), plans, and applies.
"""

from dataclasses import dataclass
from typing import Optional

from bot.core import inference
from bot.core.config import Config, resolve
from bot.core.globs import matches
from bot.core.labels import compare
from bot.core.names import CONFIG_PATH, INFERENCE_NOTES, LABEL_STYLES
from bot.core.plan import (
    Applied,
    Inferred,
    Plan,
    PullRequest,
    assess_pr,
    commenting,
    our_comments,
    plan,
    remembered_inference,
    remembered_scan,
)
from bot.core.workload import Assessment
from bot.scan.cache import from_cache, to_cache
from bot.scan.diff import select, to_change
from bot.scan.model import ScanResult
from bot.scan.scanner import scan


@dataclass(frozen=True)
class Outcome:
    pr: PullRequest
    config: Config
    plan: Plan
    applied: Applied


def suggest(pr: PullRequest, config: Config, review: Assessment, *, identity: str, claude=None, memory=None) -> Inferred:
    """Ask Claude about each needs-answers workload of a review that shows in a comment, unless remembered.

    `claude` is a `bot.clients.claude.Claude` (None: no API key). `memory` (the App's store, see
    `bot.app.work.Memory`) caches answers and counts a repository's tokens per month; the Action
    has only our comment's hidden state, which also counts this PR's tokens against its budget.
    """
    settings = config.inference
    kept = remembered_inference(pr, identity)
    carried = Inferred(state=kept if kept["tokens"] or kept["answers"] else None)
    sticky = next(iter(our_comments(pr, identity)), None)
    if not settings.enabled or not commenting(pr, config, review, sticky):
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
    inferred = suggest(pr, config, assess_pr(pr, config, problems, diff), identity=identity, claude=claude,
                       memory=memory)
    planned = plan(pr, config, identity, problems=problems, diff=diff, inferred=inferred)
    return Outcome(pr, config, planned, gh.apply(repo, number, planned))


def sync_labels(gh, repo: str) -> list:
    """Create the labels the repository lacks (`labels sync`, the App on install); one line per label saying what happened."""
    lines = []
    for name, state, style in compare(gh.labels(repo)):
        color, description = LABEL_STYLES[name]
        if state == "create":
            gh.create_label(repo, name)
            lines.append(f"created {name} (#{color}: {description})")
        elif state == "differs":
            lines.append(f"kept    {name} as it is (#{style[0]}: {style[1] or 'no description'}); "
                         f"batch-review's style is #{color}: {description}")
        else:
            lines.append(f"exists  {name}")
    return lines
