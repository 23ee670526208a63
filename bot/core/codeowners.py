"""CODEOWNERS read as GitHub reads it: who owns a path; the last matching line wins (pure)."""

from dataclasses import dataclass
from typing import Iterable, Optional

from bot.core.globs import matches

LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")  # GitHub uses the first one found
NOBODY = "(no owner)"  # the team row of workloads that no CODEOWNERS line names
STORE_KIND = "team"  # the App store's cache kind for a flagged PR's team, keyed "owner/name#number"


@dataclass(frozen=True)
class Rule:
    globs: tuple  # the pattern as `bot.core.globs` patterns
    owners: tuple  # @org/team, @user or email; empty: explicitly nobody


def _globs(pattern: str) -> tuple:
    """A gitignore-style CODEOWNERS pattern as globs: unanchored without an inner `/`, a folder owns what it holds."""
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    base = pattern.strip("/") if anchored else "**/" + pattern.strip("/")
    if pattern.endswith("/"):
        return (base + "/**",)
    return (base, base + "/**")  # a name matches a file, or a folder and everything under it


def parse(text: str) -> tuple:
    """The rules of a CODEOWNERS file, in order; comments, blank lines and escaped spaces handled as GitHub does."""
    rules = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if not line:
            continue
        pattern, *owners = line.replace("\\ ", "\0").split()
        rules.append(Rule(_globs(pattern.replace("\0", " ")), tuple(owners)))
    return tuple(rules)


def owners(rules: Iterable[Rule], path: str) -> tuple:
    """Who owns `path`: the owners on the last matching line (none when no line matches)."""
    found = ()
    for rule in rules:
        if matches(path, rule.globs):
            found = rule.owners
    return found


def team(rules: Iterable[Rule], paths: Iterable[str]) -> str:
    """The owner a workload is counted under: the first owner of its first owned path, else NOBODY.

    A team (`@org/name`) on a line comes before users on the same line: retros act on teams.
    """
    rules = tuple(rules)
    for path in paths:
        found = owners(rules, path)
        if found:
            return next((owner for owner in found if "/" in owner), found[0])
    return NOBODY


def first_file(read) -> Optional[str]:
    """The text of the first CODEOWNERS GitHub would use; `read(path)` gives a file's text or None."""
    return next((text for text in map(read, LOCATIONS) if text is not None), None)
