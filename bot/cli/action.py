"""Review the pull request of a GitHub Actions event (the Action's entry point).

Run by the batch-review GitHub Action (action.yml). Reads GITHUB_EVENT_NAME, GITHUB_EVENT_PATH,
GITHUB_REPOSITORY, GITHUB_API_URL and GITHUB_TOKEN, the inputs INPUT_CONFIG_PATH,
INPUT_FAIL_ON and INPUT_COMMENT_AUTHOR, and ANTHROPIC_API_KEY (the anthropic-api-key input) for
Claude's suggested answers; writes the outputs verdict, answers and comment-url to
GITHUB_OUTPUT and the verdict to GITHUB_STEP_SUMMARY. The job fails only when the verdict is in
fail-on (the input, else the config's fail_on); GitHub errors and a fork's read-only token never
fail it.

Example:
  GITHUB_EVENT_NAME=pull_request GITHUB_EVENT_PATH=event.json GITHUB_REPOSITORY=owner/repo \\
  GITHUB_TOKEN=ghp_... batch-review action
"""

import json
import logging
import os
import re
import traceback
import uuid
from typing import Mapping, Optional

from bot import review
from bot.clients.claude import Claude
from bot.clients.github import ACTIONS_LOGIN, GitHub, GitHubError, NotFound, Pacing
from bot.core.config import DECIDED_VERDICTS
from bot.core.names import ACTION_NOTES, CONFIG_PATH, HEADLINES, plural
from bot.core.render import render_comment
from bot.core.triage import PULL_REQUEST_EVENTS, triage


def add_arguments(parser):
    """No options: everything comes from the Actions environment (see above)."""


def parse_fail_on(text: str) -> Optional[list]:
    """The fail-on input: verdicts separated by commas, spaces or new lines ("" leaves it to the config)."""

    verdicts = [word for word in re.split(r"[\s,\[\]'\"]+", text) if word]
    if not verdicts:
        return None
    if any(verdict not in DECIDED_VERDICTS for verdict in verdicts):
        raise ValueError(ACTION_NOTES["bad-fail-on"].format(value=text, allowed=", ".join(DECIDED_VERDICTS)))
    return verdicts


def _command(kind: str, message: str) -> str:
    """A workflow command line (`::notice title=batch-review::...`), its message escaped."""
    escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::{kind} title=batch-review::{escaped}"


def _say(kind: Optional[str], note: str, **detail) -> None:
    """A note of names.ACTION_NOTES as a workflow command, or as a plain log line when kind is None."""
    message = ACTION_NOTES[note].format(**detail)
    print(_command(kind, message) if kind else f"batch-review: {message}", flush=True)


def _append(path: Optional[str], text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as file:
            file.write(text)


def _outputs(values: dict) -> str:
    """GITHUB_OUTPUT lines; the random delimiter keeps any value from ending the block early."""
    delimiter = f"batch-review-{uuid.uuid4().hex}"
    return "".join(f"{name}<<{delimiter}\n{value}\n{delimiter}\n" for name, value in values.items())


def _done(plan, applied) -> str:
    """What the run wrote, for the job log."""
    if plan.skipped:
        return "a draft, and drafts: skip: nothing written"
    if applied.read_only:
        return "nothing written (the token is read-only)"
    written = plan.comment_body is not None
    comment = ("created" if plan.comment_id is None else "updated") if written else "unchanged" if plan.sticky else "none"
    parts = [f"comment {comment}" + (f" {applied.comment_url}" if applied.comment_url else "")]
    parts += [f"{plural(len(plan.delete), 'duplicate')} deleted"] if plan.delete else []
    parts += [f"label +{name}" for name in plan.add_labels] + [f"label -{name}" for name in plan.remove_labels]
    return ", ".join(parts)


def publish(outcome, env: Mapping) -> int:
    """Outputs, job summary and notices for a finished review; 1 only when fail-on asks."""

    plan, applied = outcome.plan, outcome.applied
    verdict = plan.review.verdict
    _append(env.get("GITHUB_OUTPUT"), _outputs({
        "verdict": verdict.value,
        "answers": json.dumps(plan.document, separators=(",", ":")),
        "comment-url": applied.comment_url,
    }))
    summary = plan.summary
    if applied.read_only:
        summary = render_comment(plan.review, outcome.config, summary=True, notices=("read-only",),
                                 code_url=outcome.pr.code_url)
    _append(env.get("GITHUB_STEP_SUMMARY"), summary)
    print(f"batch-review: {outcome.pr.repo}#{outcome.pr.number}: {verdict.value}; {_done(plan, applied)}", flush=True)
    print(_command("notice", f"{HEADLINES[verdict]} ({verdict.value})"), flush=True)
    if applied.read_only:
        _say("notice", "read-only")
    if plan.failed:
        _say("error", "failed", verdict=verdict.value)
        return 1
    return 0


def review_event(env: Mapping, pacing=None) -> int:
    """One Actions event, start to finish; returns the exit code."""
    event = env.get("GITHUB_EVENT_NAME", "")
    try:
        with open(env["GITHUB_EVENT_PATH"], encoding="utf-8") as file:
            payload = json.load(file)
    except (KeyError, OSError, ValueError) as error:
        _say("warning", "bad-event", detail=error)
        return 0
    try:
        found = triage(event, payload)
    except (KeyError, TypeError, AttributeError) as error:
        _say("warning", "bad-event", detail=f"the {event} payload lacks {error}")
        return 0
    if found.number is None:
        if found.note:
            _say("notice" if found.note == "unhandled-event" else None, found.note, **(found.detail or {}))
        return 0
    token = env.get("GITHUB_TOKEN")
    if not token:
        _say("warning", "no-token")
        return 0
    overrides = {}
    try:
        fail_on = parse_fail_on(env.get("INPUT_FAIL_ON", ""))
        if fail_on is not None:
            overrides["fail_on"] = fail_on
    except ValueError as error:
        print(_command("warning", str(error)), flush=True)


    gh = GitHub.from_env(token, env, pacing=pacing or Pacing())
    logging.getLogger("github").setLevel(logging.WARNING)  # PyGithub logs every 403, even GET /user's expected one
    repo = env.get("GITHUB_REPOSITORY") or payload["repository"]["full_name"]
    try:
        # action.yml says whether the token is the job's own: then the login is known without `GET /user`.
        actions_token = env.get("INPUT_ACTIONS_TOKEN") == "true"
        identity = gh.identity(env.get("INPUT_COMMENT_AUTHOR") or (ACTIONS_LOGIN if actions_token else None))
        if (payload.get("sender") or {}).get("login") == identity:
            _say(None, "own-event", login=identity)
            return 0
        outcome = review.run(gh, repo, found.number, identity=identity, overrides=overrides,
                             config_path=env.get("INPUT_CONFIG_PATH") or CONFIG_PATH, claude=Claude.from_env(env),
                             event=payload if event in PULL_REQUEST_EVENTS else None,
                             earlier=lambda pr: _searched_exemptions(gh, pr, identity))
    except NotFound as error:
        _say("notice", "not-found", detail=error)
        return 0
    except GitHubError as error:
        _say("warning", "github-error", detail=error)
        return 0
    return publish(outcome, env)


def _searched_exemptions(gh, pr, identity: str) -> tuple:
    """Earlier PRs' exemptions through GitHub's search; none when the search is refused (the review goes on)."""
    try:
        return review.searched_exemptions(gh, pr, identity)
    except GitHubError as error:
        logging.getLogger(__name__).warning("cannot search for earlier exemptions: %s", error)
        return ()


def act(env: Mapping, pacing=None) -> int:
    """`review_event`, guarded: a bug of ours is a warning in the log, never a red job.

    `batch-review action` as a function: `env` stands in for os.environ, `pacing` for GitHub's waits.
    """
    try:
        return review_event(env, pacing)
    except Exception as error:  # noqa: BLE001 - the one place that keeps the user's CI green
        traceback.print_exc()
        _say("warning", "internal-error", detail=f"{type(error).__name__}: {error}")
        return 0


def run(args) -> int:
    return act(os.environ)
