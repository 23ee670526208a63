"""Onboarding pull requests, pure: where templates are found, what the pull request adds, whether to ask at all."""

import itertools

import pytest

from bot.core.config import DEFAULT
from bot.core.names import CHECKLIST_MARKER, CONFIG_PATH, HANDBOOK_URL
from bot.core.onboarding import (
    DONE,
    NEW,
    NEW_TEMPLATE,
    NOT_WANTED,
    OPEN,
    RESUME,
    STARTERS,
    TAKEN,
    Entry,
    description,
    find_templates,
    has_checklist,
    plan,
    skip_reason,
    standing,
    starter_text,
)
from bot.core.render import render_checklist

SECTION = render_checklist("pull-request")
DESIGN_DOC = STARTERS[0][0]


def lister(files):
    """`list_folder` over a set of file paths, as the contents API lists folders (None for a missing one)."""

    def list_folder(folder):
        prefix = f"{folder}/" if folder else ""
        entries = {}
        for path in files:
            if path.startswith(prefix):
                first, _, rest = path[len(prefix):].partition("/")
                entries[first] = "dir" if rest else "file"
        return [Entry(name, kind) for name, kind in sorted(entries.items())] if entries or not folder else None

    return list_folder


@pytest.mark.parametrize("files, found", [
    ([], ()),
    (["README.md", "src/app.py"], ()),
    ([".github/pull_request_template.md"], (".github/pull_request_template.md",)),
    (["PULL_REQUEST_TEMPLATE.md"], ("PULL_REQUEST_TEMPLATE.md",)),
    (["docs/Pull_Request_Template.md"], ("docs/Pull_Request_Template.md",)),
    ([".GitHub/PULL_REQUEST_TEMPLATE.MD"], (".GitHub/PULL_REQUEST_TEMPLATE.MD",)),
    (["docs/pull_request_template.md", "pull_request_template.md", ".github/pull_request_template.md"],
     (".github/pull_request_template.md", "pull_request_template.md", "docs/pull_request_template.md")),
    ([".github/PULL_REQUEST_TEMPLATE/feature.md", ".github/PULL_REQUEST_TEMPLATE/bug.md",
      ".github/PULL_REQUEST_TEMPLATE/notes.txt"],
     (".github/PULL_REQUEST_TEMPLATE/bug.md", ".github/PULL_REQUEST_TEMPLATE/feature.md")),
    (["pull_request_template/a.md", "docs/pull_request_template/b.md", ".github/pull_request_template.md"],
     (".github/pull_request_template.md", "pull_request_template/a.md", "docs/pull_request_template/b.md")),
    # not where GitHub looks: deeper folders, other names, a folder named like the file
    (["src/pull_request_template.md", "docs/design/pull_request_template.md", ".github/workflows/pull_request_template.md",
      "pull_request_template.txt", "my_pull_request_template.md", "pull_request_template.md/x.md",
      ".github/PULL_REQUEST_TEMPLATE/deeper/c.md"], ()),
])
def test_templates_are_found_where_github_looks_in_any_case(files, found):
    assert find_templates(lister(files)) == found


def test_only_the_folders_github_looks_in_are_listed():
    listed = []
    files = ["src/a.py", "docs/design/x.md", ".github/workflows/ci.yml", ".github/pull_request_template.md", "lib/b.py"]

    def list_folder(folder):
        listed.append(folder)
        return lister(files)(folder)

    find_templates(list_folder)
    assert listed == ["", ".github", "docs"]


def test_the_checklist_is_what_the_checklist_parser_finds():
    assert has_checklist(SECTION) and has_checklist("## Why\n\n<!-- Batch-Review: Checklist -->\n")
    assert not has_checklist("## Why\n") and not has_checklist(None)
    assert not has_checklist(f"```\n{CHECKLIST_MARKER}\n```\n")  # shown as code: no checklist


def test_a_template_without_the_checklist_gets_it_appended_and_the_starters_are_added():
    setup = plan({".github/pull_request_template.md": "## What\n\n## Why\n\n"}, {}, set(), handbook=HANDBOOK_URL)
    assert [(c.path, c.what) for c in setup.changes] == [(".github/pull_request_template.md", "adds the checklist to"),
                                                         (DESIGN_DOC, "creates"), (CONFIG_PATH, "creates")]
    assert setup.changes[0].text == "## What\n\n## Why\n\n" + SECTION
    assert setup.changes[1].text == starter_text("design_doc.md")
    assert setup.changes[2].text == starter_text("config.yml")
    assert not setup.reason


def test_every_template_gets_the_checklist_and_existing_starters_are_kept():
    templates = {"pull_request_template.md": "root\n", ".github/PULL_REQUEST_TEMPLATE/bug.md": "bug"}
    setup = plan(templates, {}, {DESIGN_DOC, CONFIG_PATH}, handbook=HANDBOOK_URL)
    assert [c.path for c in setup.changes] == list(templates)
    assert all(c.text.endswith(SECTION) and has_checklist(c.text) for c in setup.changes)


def test_the_organisations_handbook_link_goes_into_the_checklist():
    setup = plan({}, {}, set(), handbook="https://wiki.example.com/batch-norm")
    assert "https://wiki.example.com/batch-norm" in setup.changes[0].text


@pytest.mark.parametrize("own, org, reason", [
    ({".github/pull_request_template.md": "x\n" + SECTION}, {}, "its pull request template"),
    ({"a.md": "plain", "docs/pull_request_template.md": SECTION}, {}, "its pull request template"),
    ({}, {".github/pull_request_template.md": SECTION}, "the organisation's pull request template"),
    ({}, {".github/PULL_REQUEST_TEMPLATE/x.md": "x", "docs/pull_request_template.md": SECTION}, "organisation"),
])
def test_no_pull_request_when_the_checklist_is_there_already(own, org, reason):
    setup = plan(own, org, set(), handbook=HANDBOOK_URL)
    assert setup.changes == () and reason in setup.reason


def test_a_repository_with_its_own_template_gets_the_checklist_even_when_the_organisations_has_it():
    setup = plan({"pull_request_template.md": "mine"}, {".github/pull_request_template.md": SECTION}, set(),
                 handbook=HANDBOOK_URL)
    assert setup.changes[0].path == "pull_request_template.md"


def test_without_a_template_the_new_one_copies_the_organisations_single_template():
    alone = plan({}, {}, set(), handbook=HANDBOOK_URL)
    assert (alone.changes[0].path, alone.changes[0].text, alone.changes[0].what) == (NEW_TEMPLATE, SECTION, "creates")
    copied = plan({}, {".github/PULL_REQUEST_TEMPLATE/a.md": "folder", "docs/pull_request_template.md": "org text\n"},
                  set(), handbook=HANDBOOK_URL)
    assert copied.changes[0].text == "org text\n\n" + SECTION  # a folder's templates are not the default one
    only_folder = plan({}, {".github/PULL_REQUEST_TEMPLATE/a.md": "folder"}, set(), handbook=HANDBOOK_URL)
    assert only_folder.changes[0].text == SECTION


def test_the_added_config_changes_nothing():
    from bot.core.config import from_mapping, parse_mapping

    text = next(c.text for c in plan({}, {}, set(), handbook=HANDBOOK_URL).changes if c.path == CONFIG_PATH)
    assert from_mapping(parse_mapping(text)) == DEFAULT


def test_the_description_says_the_norm_in_three_lines_links_the_handbook_and_lists_the_files():
    setup = plan({"docs/pull_request_template.md": "x"}, {}, {CONFIG_PATH}, handbook="https://wiki.example.com/norm")
    text = description(setup, "https://wiki.example.com/norm")
    norm = text.split("\n\n")[0].splitlines()
    assert len(norm) == 3 and "(https://wiki.example.com/norm)" in norm[2]
    assert "- adds the checklist to `docs/pull_request_template.md`" in text
    assert f"- creates `{DESIGN_DOC}`" in text and CONFIG_PATH not in text
    assert "will not ask again" in text


PULL_STATES = [(), (("open", False),), (("closed", False),), (("closed", True),),
               (("closed", False), ("closed", True)), (("open", False), ("closed", False))]


@pytest.mark.parametrize("remembered, branch, pulls", list(itertools.product(
    [None, RESUME, OPEN, NOT_WANTED, DONE], [False, True], PULL_STATES)))
def test_standing_asks_once_and_never_again(remembered, branch, pulls):
    got = standing(remembered, branch, pulls)
    if remembered in (NOT_WANTED, DONE):
        assert got == remembered  # remembered answers stand, whatever the branch says now
    elif any(state == "open" for state, _ in pulls):
        assert got == OPEN
    elif any(merged for _, merged in pulls):
        assert got == DONE
    elif pulls:
        assert got == NOT_WANTED  # closed unmerged: never ask again
    elif branch:
        assert got == (RESUME if remembered in (RESUME, OPEN) else TAKEN)  # someone else's branch is left alone
    else:
        assert got == NEW


@pytest.mark.parametrize("repository, reason", [
    ({"archived": True, "fork": False}, "archived"),
    ({"archived": False, "fork": True}, "a fork"),
    ({"disabled": True}, "disabled"),
    ({"archived": False, "fork": False, "disabled": False}, None),
])
def test_archived_forked_and_disabled_repositories_are_skipped(repository, reason):
    assert skip_reason(repository) == reason
