"""Add batch-review to a repository: checklist, design-doc section, config, workflow.

Adds the checklist section to the repository's PR template (or creates one), writes the
design-doc section, the example settings file and the GitHub Actions workflow
(.github/workflows/batch-review.yml, on pull_request; with --fork-safe, the pull_request_target
variant that also comments on pull requests from forks). With --app (the organisation runs the
GitHub App) it writes no workflow: run the App or the Action on a repository, never both. The
workflow runs batch-review/batch-review at this release's major tag; --action-ref pins another
tag or a commit SHA, --action-repo names an organisation's own copy. Files the team wrote are
never overwritten, running it twice changes nothing, and it says what it wrote and what it kept.

Example:
  batch-review init ~/src/our-service
  batch-review init --fork-safe ~/src/our-open-source-project
  batch-review init --action-repo our-org/batch-review --action-ref v1.0.0 ~/src/our-service
  batch-review init --app ~/src/our-service
"""

import argparse
import re
from pathlib import Path

import yaml

from bot.cli.version import major_tag, version
from bot.core.names import ACTION_REPO
from bot.core.onboarding import NEW_TEMPLATE, STARTERS, has_checklist, starter_text, with_checklist
from bot.core.render import render_checklist

# Where GitHub looks for a PR template; init creates the second when there is none.
PR_TEMPLATES = ("pull_request_template.md", ".github/pull_request_template.md", "docs/pull_request_template.md")
WORKFLOW_PATH = ".github/workflows/batch-review.yml"
USES_LINE = re.compile(rf"(?m)^(\s*- uses: ){re.escape(ACTION_REPO)}@\S+")


def _matching(pattern: str, what: str):
    """An argparse type: the value when it matches `pattern` whole, else a usage error that says what is allowed."""

    def check(value: str) -> str:
        if not re.fullmatch(pattern, value):
            raise argparse.ArgumentTypeError(f"{value!r} is not {what}")
        return value

    return check


def add_arguments(parser):
    parser.add_argument("repo", nargs="?", default=".", metavar="REPO_DIR", help="the repository (default: .)")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--fork-safe", action="store_true",
                      help="write the pull_request_target workflow, which also comments on PRs from forks")
    kind.add_argument("--app", action="store_true",
                      help="the organisation runs the GitHub App: templates and config, no workflow")
    parser.add_argument("--action-ref", metavar="REF", type=_matching(r"[\w.-]+(/[\w.-]+)*", "a tag or commit SHA"),
                        help=f"the tag or commit SHA the workflow runs (default: {major_tag(version())}, "
                             "this release's major tag)")
    parser.add_argument("--action-repo", metavar="OWNER/NAME", type=_matching(r"[\w-]+/[\w.-]+", "OWNER/NAME"),
                        help=f"the Action's repository, e.g. your organisation's copy (default: {ACTION_REPO})")


def _existing_pr_templates(repo: Path) -> list:
    """Every PR template GitHub would use, whatever the case of its name."""
    found = []
    for place in map(repo.joinpath, PR_TEMPLATES):
        if place.parent.is_dir():
            found += [p for p in place.parent.iterdir() if p.is_file() and p.name.lower() == place.name]
    multiple = repo / ".github" / "PULL_REQUEST_TEMPLATE"
    if multiple.is_dir():
        found += sorted(p for p in multiple.iterdir() if p.suffix.lower() == ".md")
    return found


def plan(repo: Path, workflow, uses: str) -> list:
    """(path, new text, what it does) for every file init looks after; text None for what it keeps.

    `workflow`: the template to write (None: no workflow, for the App); `uses`: its `uses:` value.
    """

    section = render_checklist("pull-request")
    files = []
    existing = _existing_pr_templates(repo)
    for path in existing:
        text = path.read_text(encoding="utf-8")
        files.append((path, None, "kept") if has_checklist(text)
                     else (path, with_checklist(text, section), "added the checklist to"))
    if not existing:
        files.append((repo / NEW_TEMPLATE, section, "created"))
    for relative, template in STARTERS + ((WORKFLOW_PATH, workflow),) if workflow else STARTERS:
        path = repo / relative
        if path.exists():
            files.append((path, None, "kept"))
            continue
        files.append((path, USES_LINE.sub(lambda m: m.group(1) + uses, starter_text(template)), "created"))
    return files


def _triggers(workflow: Path) -> dict:
    """A workflow file's `on:` (YAML 1.1 reads the key as true); empty when it is no mapping."""

    try:
        parsed = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return {}
    triggers = parsed.get(True) if isinstance(parsed, dict) else None
    return triggers if isinstance(triggers, dict) else {}


def run(args) -> int:
    repo = Path(args.repo)
    if not repo.is_dir():
        print(f"batch-review init: {repo} is not a directory.")
        return 2
    if args.app and (args.action_ref or args.action_repo):
        print("batch-review init: --app writes no workflow, so --action-ref and --action-repo have nothing to set.")
        return 2
    workflow = None if args.app else "workflow-fork-safe.yml" if args.fork_safe else "workflow.yml"
    uses = f"{args.action_repo or ACTION_REPO}@{args.action_ref or major_tag(version())}"
    files = plan(repo, workflow, uses)
    for path, text, action in files:
        if text is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        print(f"{action} {path.relative_to(repo)}")
    if args.fork_safe and "pull_request_target" not in _triggers(repo / WORKFLOW_PATH):
        print(f"{WORKFLOW_PATH} runs on pull_request: delete it and run this again for the fork-safe one")
    elif all(text is None for _, text, _ in files):
        print("nothing to do: batch-review is already set up here")
    return 0
