"""Create every batch-review label in a repository, with its colour and description.

`labels sync` creates the answer labels, the verdict labels and the adoption label that are
missing, so reviewers can pick them on day one. A label that exists is left as it is (a team may
have recoloured it on purpose); where its colour or description differs from batch-review's, it
says so. Running it twice changes nothing. The token comes from GITHUB_TOKEN (or GH_TOKEN) and
needs issues: write; GITHUB_API_URL points at GitHub Enterprise Server.

Example:
  GITHUB_TOKEN=ghp_... batch-review labels sync --repo our-org/our-service
"""

import os
import sys

from bot.names import LABEL_STYLES


def add_arguments(parser):
    commands = parser.add_subparsers(dest="labels_command", metavar="COMMAND", required=True)
    sync_parser = commands.add_parser("sync", help="create the missing batch-review labels",
                                      description="Create the missing batch-review labels with their colours and "
                                                  "descriptions. Example: batch-review labels sync --repo owner/name")
    sync_parser.add_argument("--repo", required=True, metavar="OWNER/NAME", help="the repository")


def compare(existing: dict) -> list:
    """(label, "create" | "same" | "differs", its current (colour, description) or None) for each of ours."""
    found = {name.lower(): style for name, style in existing.items()}  # GitHub label names ignore case
    states = []
    for name, (color, description) in LABEL_STYLES.items():
        style = found.get(name.lower())
        state = "create" if style is None else "same" if (style[0].lower(), style[1]) == (color, description) else "differs"
        states.append((name, state, style))
    return states


def sync(gh, repo: str) -> list:
    """Create what is missing; one line per label saying what happened."""
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


def run(args) -> int:
    from bot.gh import GitHub, GitHubError

    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    if not token:
        print("batch-review labels: set GITHUB_TOKEN (or GH_TOKEN) to a token that can write issues.", file=sys.stderr)
        return 2
    if args.repo.count("/") != 1:
        print(f"batch-review labels: --repo {args.repo!r} must be OWNER/NAME.", file=sys.stderr)
        return 2
    gh = GitHub.from_env(token, os.environ)
    try:
        for line in sync(gh, args.repo):
            print(line)
    except GitHubError as error:
        print(f"batch-review labels: {error}", file=sys.stderr)
        return 1
    return 0
