"""`design_docs` globs: `**` spans zero or more directories, `*` and `?` stay inside one."""

import pytest

from bot.core.config import DEFAULT
from bot.core.globs import matches


@pytest.mark.parametrize("path, expected", [
    ("docs/design/ingest.md", True),
    ("docs/design/2026/q1/ingest.md", True),
    ("rfcs/0042-batches.md", True),
    ("design.md", True),  # `**/` matches zero directories
    ("services/enrich/my-design-notes.md", True),
    ("docs/designs.txt", False),
    ("docs/design", False),  # the folder itself is no file
    ("src/design.py", False),
    ("docs/rfcs/x.md", False),  # `rfcs/**` is anchored at the top
    ("README.md", False),
])
def test_default_globs(path, expected):
    assert matches(path, DEFAULT.design_docs) is expected


@pytest.mark.parametrize("pattern, path, expected", [
    ("*.md", "a.md", True),
    ("*.md", "docs/a.md", False),  # `*` never crosses a slash
    ("docs/*.md", "docs/a.md", True),
    ("docs/*.md", "docs/x/a.md", False),
    ("docs/**/*.md", "docs/a.md", True),
    ("docs/**/*.md", "docs/x/y/a.md", True),
    ("docs/**/*.md", "docsx/a.md", False),
    ("a/**/b/**/c.md", "a/b/c.md", True),
    ("a/**/b/**/c.md", "a/1/2/b/3/c.md", True),
    ("a/**/b/**/c.md", "a/1/c.md", False),
    ("rfc-????.md", "rfc-0042.md", True),
    ("rfc-????.md", "rfc-42.md", False),
    ("rfc-[0-9]*.md", "rfc-7.md", True),
    ("rfc-[!0-9]*.md", "rfc-7.md", False),
    ("rfc-[!0-9]*.md", "rfc-x.md", True),
    ("/docs/**", "docs/a.md", True),  # a leading slash anchors at the top, as it already is
    ("docs/a+b (1).md", "docs/a+b (1).md", True),  # regex characters are literal
    ("docs/a+b (1).md", "docs/aab (1).md", False),
    ("[unclosed.md", "[unclosed.md", True),
])
def test_glob_semantics(pattern, path, expected):
    assert matches(path, [pattern]) is expected


def test_no_patterns_match_nothing():
    assert not matches("docs/design/a.md", [])
