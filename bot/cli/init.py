"""Add batch-review to a repository: checklist, design-doc section, config, workflow.

Adds the checklist section to the repository's PR template (or creates one), writes the
design-doc section, the example settings file and the GitHub Actions workflow
(.github/workflows/batch-review.yml, on pull_request; with --fork-safe, the pull_request_target
variant that also comments on pull requests from forks). Files the team wrote are never
overwritten, and running it twice changes nothing.

Example:
  batch-review init ~/src/our-service
  batch-review init --fork-safe ~/src/our-open-source-project
"""

from pathlib import Path

import yaml

from bot.core.names import CHECKLIST_MARKER, CONFIG_PATH
from bot.core.render import render_checklist, resource_dir

# Where GitHub looks for a PR template; init creates the second when there is none.
PR_TEMPLATES = ("pull_request_template.md", ".github/pull_request_template.md", "docs/pull_request_template.md")
WORKFLOW_PATH = ".github/workflows/batch-review.yml"


def add_arguments(parser):
    parser.add_argument("repo", nargs="?", default=".", metavar="REPO_DIR", help="the repository (default: .)")
    parser.add_argument("--fork-safe", action="store_true",
                        help="write the pull_request_target workflow, which also comments on PRs from forks")


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


def plan(repo: Path, fork_safe: bool = False) -> list:
    """(path, new text, what it does) for every file init would write; nothing for what is already there."""

    templates = resource_dir("templates")
    section = render_checklist("pull-request")
    writes = []
    existing = _existing_pr_templates(repo)
    for path in existing:
        text = path.read_text(encoding="utf-8")
        if CHECKLIST_MARKER not in text:
            writes.append((path, text.rstrip("\n") + "\n\n" + section, "added the checklist to"))
    if not existing:
        writes.append((repo / PR_TEMPLATES[1], section, "created"))
    workflow = "workflow-fork-safe.yml" if fork_safe else "workflow.yml"
    for relative, template in (("docs/design/TEMPLATE.md", "design_doc.md"), (CONFIG_PATH, "config.yml"),
                               (WORKFLOW_PATH, workflow)):
        if not (repo / relative).exists():
            writes.append((repo / relative, (templates / template).read_text(encoding="utf-8"), "created"))
    return writes


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
    writes = plan(repo, args.fork_safe)
    for path, text, action in writes:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"{action} {path.relative_to(repo)}")
    if args.fork_safe and "pull_request_target" not in _triggers(repo / WORKFLOW_PATH):
        print(f"kept {WORKFLOW_PATH}, which runs on pull_request: delete it and run this again for the fork-safe one")
    elif not writes:
        print("nothing to do: batch-review is already set up here")
    return 0
