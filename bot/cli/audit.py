"""Classify a backlog of design docs and PR descriptions, through batches.

  audit PATH... [--out report.md]            files, or folders of .md, .markdown, .txt and .rst files
  audit --repo OWNER/NAME --since YYYY-MM-DD  the descriptions of the pull requests merged since then

A document whose checklist decides the verdict is decided by it. The others go to Claude in one
job of the shared run_batch helper, at half the synchronous price (results within 24 hours, most
within an hour): one request per document, the same answer schema and quote checks as on a pull
request. The report (Markdown; with --out, a CSV beside it) lists the batch candidates with their
evidence and, where the volume is known, the estimated saving. Interrupted or timed out? Run the
same command again: the job is named after its inputs, so it resumes and pays for nothing twice.

Claude needs ANTHROPIC_API_KEY (without it only checklists count); --repo needs GITHUB_TOKEN
(GITHUB_API_URL for GitHub Enterprise Server). Settings: --config, else .github/batch-review.yml
in the current directory. Exit status: 0 with a report, 1 when the batch job cannot go on (run
again to resume), 2 for bad input, 130 when interrupted.

Example:
  batch-review audit docs/design rfcs --out audit.md
  batch-review audit --repo acme/platform --since 2026-01-01 --out audit.md
"""

import logging
import os
import sys
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from bot.clients.github import GitHub, GitHubError
from bot.core import audit
from bot.core.audit import Document
from bot.core.config import ConfigError
from bot.core.inference import params, reply_of, validate
from bot.core.names import CONFIG_PATH, Verdict, plural
from bot.helper import DEFAULT_STORE, BatchError, run_batch
from bot.metric.source import load_config

SUFFIXES = (".md", ".markdown", ".txt", ".rst")
TITLE = "batch-review audit"


class InputError(ValueError):
    """Bad input, worded for the person running the command."""


def add_arguments(parser):
    parser.add_argument("paths", nargs="*", metavar="PATH", help="design docs or saved PR descriptions, or folders")
    parser.add_argument("--repo", metavar="OWNER/NAME", help="audit the pull requests merged in this repository")
    parser.add_argument("--since", metavar="YYYY-MM-DD", help="with --repo: merged on or after this day (UTC)")
    parser.add_argument("--out", metavar="FILE", help="write the Markdown report here and the CSV beside it "
                                                      "(default: the report on standard output)")
    parser.add_argument("--config", metavar="FILE", help=f"settings (default: {CONFIG_PATH} if present)")
    parser.add_argument("--store", default=DEFAULT_STORE, metavar="DIR",
                        help=f"where the helper keeps batch jobs (default: {DEFAULT_STORE})")
    parser.add_argument("--poll", type=float, default=30.0, metavar="SECONDS", help="first wait between status checks")
    parser.add_argument("--input-tokens", type=int, metavar="N",
                        help="input tokens per request of an audited workload (default: cost.input_tokens, 1000)")
    parser.add_argument("--output-tokens", type=int, metavar="N",
                        help="output tokens per request of an audited workload (default: cost.output_tokens, 500)")
    parser.add_argument("--price-model", metavar="MODEL",
                        help="the model whose price the saving is estimated at (default: cost.model)")


def run(args) -> int:

    helper_log, shown = logging.getLogger("bot.helper"), logging.StreamHandler()
    helper_log.addHandler(shown)
    helper_log.setLevel(logging.INFO)
    try:
        return _audit(args, os.environ)
    except InputError as error:
        print(f"batch-review audit: {error}", file=sys.stderr)
        return 2
    except BatchError as error:
        print(f"batch-review audit: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nbatch-review audit: interrupted. A batch already sent keeps running; run the same command again "
              "to pick it up.", file=sys.stderr)
        return 130
    finally:
        helper_log.removeHandler(shown)


def _audit(args, env) -> int:

    config = _config(args.config)
    if bool(args.paths) == bool(args.repo):
        raise InputError("give either PATHs or --repo OWNER/NAME (with --since)")
    documents = _pull_requests(args.repo, args.since, env) if args.repo else _files(args.paths)
    prompts = audit.to_ask(documents, config)
    job, usage, suggestions, notes = None, None, {}, {}
    key = (env.get("ANTHROPIC_API_KEY") or "").strip()
    if prompts and not config.inference.enabled:
        notes = dict.fromkeys(prompts, ("Claude was not asked: inference.enabled is false.",))
    elif prompts and not key:
        notes = dict.fromkeys(prompts, ("Claude was not asked: set ANTHROPIC_API_KEY to have it suggest answers.",))
    elif prompts:
        job = audit.job_name(config.inference.model, prompts)
        suggestions, notes, usage = _ask(prompts, job, key, env, config, args)
    findings = [audit.finding(document, config, suggestions.get(audit.custom_id(document.name)),
                              notes.get(audit.custom_id(document.name), ()))
                for document in documents]
    config = _costed(args, config)
    text = audit.report(findings, config, title=TITLE, job=job, usage=usage)
    if args.out:
        out = Path(args.out)
        out.write_text(text, encoding="utf-8")
        out.with_suffix(".csv").write_text(audit.report_csv(findings, config), encoding="utf-8")
        candidates = sum(f.verdict is Verdict.BATCH_CANDIDATE for f in findings)
        print(f"batch-review audit: {plural(len(findings), 'document')}, {plural(candidates, 'batch candidate')}; "
              f"report: {out}, CSV: {out.with_suffix('.csv')}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _config(path):

    try:
        return load_config(path, env={})  # the file given, else the repository's here; BATCH_REVIEW_CONFIG is the App's
    except ConfigError as error:
        raise InputError(str(error)) from None


def _files(paths) -> list:
    """Every named file, and the text files inside every named folder (hidden folders skipped), in path order."""

    found = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                            and not any(part.startswith(".") for part in p.relative_to(path).parts))
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(f"{given}: no such file or folder")
    if not found:
        raise InputError(f"no {', '.join(SUFFIXES)} files in {', '.join(paths)}")
    return [Document(str(path), path.read_text(encoding="utf-8", errors="replace")) for path in dict.fromkeys(found)]


def _pull_requests(repo: str, since: str, env) -> list:

    if not since:
        raise InputError("--repo needs --since YYYY-MM-DD")
    try:
        day = datetime.strptime(since, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise InputError(f"--since {since!r} is not a day like 2026-01-31") from None
    token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
    if not token:
        raise InputError("--repo needs a GitHub token in GITHUB_TOKEN")
    gh = GitHub.from_env(token, env)
    try:
        pulls = gh.merged_pulls(repo, day)
    except GitHubError as error:
        raise InputError(str(error)) from None
    return [Document(f"{repo}#{number}", body, url) for number, body, url in pulls]


def _ask(prompts: dict, job: str, key: str, env, config, args) -> tuple:
    """Claude's Suggestion per custom_id through one helper job; notes for those it did not answer; token usage."""
    import anthropic  # the SDK takes ~0.5 s to import: only commands that call the API load it


    client = anthropic.Anthropic(api_key=key, base_url=env.get("ANTHROPIC_BASE_URL") or None)
    settings = config.inference
    ids = list(prompts)
    try:
        result = run_batch(ids, lambda request_id: params(prompts[request_id], settings.model, settings.max_tokens),
                           custom_id=lambda request_id: request_id, job=job, client=client, store=args.store,
                           poll=args.poll)
    except anthropic.AnthropicError as error:
        raise BatchError(f"the API call failed ({error}); run the same command again to resume job {job}") from None
    suggestions, notes = {}, {}
    with result:
        for request_id, message in result.messages.items():
            suggestions[request_id] = validate(reply_of(message.get("content")), prompts[request_id])
        for request_id, error in result.errors.items():
            notes[request_id] = (f"Claude gave no answer ({error.type}).",)
        for request_id in result.expired + result.canceled + result.missing:
            notes[request_id] = ("Claude gave no answer (the batch request expired or was canceled).",)
        return suggestions, notes, result.usage


def _costed(args, config):
    """The config with the command line's token counts and model over its `cost` settings."""
    given = {"input_tokens": args.input_tokens, "output_tokens": args.output_tokens, "model": args.price_model}
    if any(value is not None and value < 0 for value in (args.input_tokens, args.output_tokens)):
        raise InputError("--input-tokens and --output-tokens must not be negative")
    return replace(config, cost=replace(config.cost, **{k: v for k, v in given.items() if v is not None}))
