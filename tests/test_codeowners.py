"""CODEOWNERS: GitHub's rules for who owns a path."""

import pytest

from bot.core.codeowners import NOBODY, first_file, owners, parse, team

SAMPLE = """
# comments and blank lines are skipped

*                       @acme/platform
*.py                    @acme/python-guild
/jobs/                  @acme/data @alice
docs/**/design.md       @acme/architecture
apps/**/worker.py       @acme/workers bob@example.com
/build/logs/            # nobody owns these
"""


@pytest.mark.parametrize("path, expected", [
    ("README.md", ("@acme/platform",)),
    ("src/app.py", ("@acme/python-guild",)),  # an unanchored name matches at any depth
    ("jobs/enrich.py", ("@acme/data", "@alice")),  # the last matching line wins
    ("lib/jobs/enrich.py", ("@acme/python-guild",)),  # `/jobs/` is anchored at the root
    ("docs/design.md", ("@acme/architecture",)),  # `**` spans zero folders too
    ("docs/a/b/design.md", ("@acme/architecture",)),
    ("apps/search/worker.py", ("@acme/workers", "bob@example.com")),
    ("build/logs/today.log", ()),  # a line without owners: explicitly nobody
])
def test_the_last_matching_line_wins(path, expected):
    assert owners(parse(SAMPLE), path) == expected


def test_a_team_and_a_user_on_one_line_count_under_the_team():
    rules = parse("/jobs/ @alice @acme/data\n")
    assert team(rules, ["jobs/enrich.py"]) == "@acme/data"
    assert team(parse("/jobs/ @alice\n"), ["jobs/enrich.py"]) == "@alice"


def test_no_file_or_no_match_is_nobody():
    assert team(parse(""), ["jobs/enrich.py"]) == NOBODY
    assert team(parse("/web/ @acme/web\n"), ["jobs/enrich.py", "web/app.py"]) == "@acme/web"  # the first owned path
    assert team(parse("* @acme/all\n"), []) == NOBODY


def test_the_first_file_github_would_use():
    files = {"docs/CODEOWNERS": "* @docs", "CODEOWNERS": "* @root"}
    assert first_file(files.get) == "* @root"
    assert first_file({}.get) is None


def test_a_folder_pattern_without_a_slash_owns_what_it_holds_and_escaped_spaces_count():
    rules = parse("logs @acme/ops\nmy\\ file.txt @acme/odd\n")
    assert owners(rules, "a/logs/x.txt") == ("@acme/ops",) and owners(rules, "my file.txt") == ("@acme/odd",)
