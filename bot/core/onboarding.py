"""Onboarding pull requests (pure): where PR templates are, what to add, whether to ask.

The App reads a repository through `find_templates` and `plan`, which take what it read as plain values (or a
reading function, as `config.resolve` does), and decides with `standing` whether it asked before.
`batch-review init` adds the same files to a checkout (`STARTERS`, `with_checklist`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Collection, Mapping, NamedTuple, Optional, Sequence

from bot.core.checklist import parse
from bot.core.names import CONFIG_PATH
from bot.core.render import environment, render_checklist, resource_dir

TEMPLATE_NAME = "pull_request_template.md"  # GitHub's name for the PR template, in any case
TEMPLATE_FOLDER = "pull_request_template"  # a folder of several templates, in any case
PLACES = (".github", "", "docs")  # the folders GitHub looks in for a template (the root is "")
NEW_TEMPLATE = ".github/pull_request_template.md"  # where the checklist goes when there is no template
STARTERS = (("docs/design/TEMPLATE.md", "design_doc.md"), (CONFIG_PATH, "config.yml"))  # path, template: added when absent

# What `standing` says of a repository: its onboarding pull request is...
NEW = "new"  # never asked for: open one
RESUME = "resume"  # begun by the App (branch made, files or pull request missing): finish it
OPEN = "open"  # open: wait for the team
NOT_WANTED = "not-wanted"  # closed unmerged: never ask again
DONE = "done"  # merged
TAKEN = "taken"  # the branch exists, and the App did not make it: leave it alone
REMEMBERED = (RESUME, OPEN, NOT_WANTED, DONE)  # the states the App keeps per repository


class Entry(NamedTuple):
    """One item of a folder listing."""

    name: str
    kind: str  # "file" or "dir"


@dataclass(frozen=True)
class Change:
    path: str
    text: str
    what: str  # for the pull request's description: "creates" or "adds the checklist to"


@dataclass(frozen=True)
class Setup:
    """The files of the onboarding pull request, or why there is none."""

    changes: tuple = ()  # Change, in the order to commit
    reason: str = ""  # set when there are no changes


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _is_template_folder(folder: str) -> bool:
    return folder.rsplit("/", 1)[-1].lower() == TEMPLATE_FOLDER


def subfolders(folder: str, entries: Sequence[Entry]) -> tuple:
    """The folders under `folder` where GitHub also looks for templates: `.github` and `docs` at the root, and the
    `PULL_REQUEST_TEMPLATE` folder of each place, names in any case."""
    wanted = {TEMPLATE_FOLDER} | ({place for place in PLACES if place} if folder == "" else set())
    if _is_template_folder(folder):
        return ()
    return tuple(_join(folder, entry.name) for entry in entries if entry.kind == "dir" and entry.name.lower() in wanted)


def templates_in(folder: str, entries: Sequence[Entry]) -> tuple:
    """The PR templates among `folder`'s entries: `pull_request_template.md` in a place, every `.md` file in a
    `PULL_REQUEST_TEMPLATE` folder (names in any case)."""
    if _is_template_folder(folder):
        return tuple(sorted(_join(folder, e.name) for e in entries if e.kind == "file" and e.name.lower().endswith(".md")))
    return tuple(_join(folder, e.name) for e in entries if e.kind == "file" and e.name.lower() == TEMPLATE_NAME)


def find_templates(list_folder: Callable[[str], Optional[Sequence[Entry]]]) -> tuple:
    """Every PR template of a repository, single files first in GitHub's order of places, then the folders'.

    `list_folder(path)` lists a folder ("" is the root), or returns None when it is missing.
    """
    single, several, queue = [], [], [""]
    while queue:
        folder = queue.pop(0)
        entries = list_folder(folder) or ()
        (several if _is_template_folder(folder) else single).extend(templates_in(folder, entries))
        queue.extend(subfolders(folder, entries))
    order = {place: index for index, place in enumerate(PLACES)}
    return tuple(sorted(single, key=lambda path: order.get(path.rpartition("/")[0].lower(), len(order))) + several)


def has_checklist(text: Optional[str]) -> bool:
    """Whether a template carries the batch-review checklist, as `checklist.parse` finds it."""
    return parse(text).has_section


def with_checklist(text: str, section: str) -> str:
    """A template with the checklist section appended."""
    return text.rstrip("\n") + "\n\n" + section


def starter_text(template: str) -> str:
    """The text of one of `STARTERS`' templates."""
    return (resource_dir("templates") / template).read_text(encoding="utf-8")


def plan(templates: Mapping[str, str], org_templates: Mapping[str, str], present: Collection[str], *,
         handbook: str) -> Setup:
    """What "Set up batch-review" changes, from what the default branch holds.

    `templates`: the repository's PR templates (path -> text, as `find_templates` orders them); `org_templates`:
    the organisation's `.github` repository's, which GitHub applies to repositories without their own;
    `present`: which of the `STARTERS` paths exist. Nothing when a template already has the checklist, or when
    the repository has none and the organisation's carries it. Otherwise the checklist is appended to each
    template, or to a copy of the organisation's (the new file replaces it in this repository), else written alone.
    """
    if any(has_checklist(text) for text in templates.values()):
        return Setup(reason="its pull request template has the batch-review checklist")
    if not templates and any(has_checklist(text) for text in org_templates.values()):
        return Setup(reason="it uses the organisation's pull request template, which has the batch-review checklist")
    section = render_checklist("pull-request", handbook)
    if templates:
        changes = [Change(path, with_checklist(text, section), "adds the checklist to") for path, text in templates.items()]
    else:
        org = next((text for path, text in org_templates.items() if not _is_template_folder(path.rpartition("/")[0])), None)
        changes = [Change(NEW_TEMPLATE, section if org is None else with_checklist(org, section), "creates")]
    changes += [Change(path, starter_text(template), "creates") for path, template in STARTERS if path not in present]
    return Setup(tuple(changes))


def standing(remembered: Optional[str], branch: bool, pulls: Sequence[tuple]) -> str:
    """Whether to open the pull request: `remembered` (the App's state for the repository, or None), whether the
    branch exists, and the pull requests from it (state "open" or "closed", merged) newest first.

    A merged one is done, an open one is waited on, a closed unmerged one is never asked again; a branch
    without a pull request is the App's own to finish only when it remembers making it.
    """
    if remembered in (NOT_WANTED, DONE):
        return remembered
    if any(state == "open" for state, _ in pulls):
        return OPEN
    if any(merged for _, merged in pulls):
        return DONE
    if pulls:
        return NOT_WANTED
    if branch:
        return RESUME if remembered in (RESUME, OPEN) else TAKEN
    return NEW


def skip_reason(repository: Mapping) -> Optional[str]:
    """Why a repository (as `GET /repos/{owner}/{repo}` shows it) gets no onboarding pull request, or None."""
    for key, reason in (("archived", "archived"), ("fork", "a fork"), ("disabled", "disabled")):
        if repository.get(key):
            return reason
    return None


def description(setup: Setup, handbook: str) -> str:
    """The pull request's description: the norm in three lines, the handbook, and what it changes."""
    return environment().get_template("onboarding.md.j2").render(changes=setup.changes, handbook=handbook)
