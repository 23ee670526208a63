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

from bot.cli.main import subcommand
from bot.clients.github import GitHub, GitHubError
from bot.review import sync_labels


def add_arguments(parser):
    commands = parser.add_subparsers(dest="labels_command", metavar="COMMAND", required=True)
    sync_parser = subcommand(commands, "sync", "create the missing batch-review labels",
                             "Create the missing batch-review labels with their colours and descriptions; labels "
                             "that exist are left as they are.", "batch-review labels sync --repo owner/name")
    sync_parser.add_argument("--repo", required=True, metavar="OWNER/NAME", help="the repository")


def run(args) -> int:

    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    if not token:
        print("batch-review labels: set GITHUB_TOKEN (or GH_TOKEN) to a token that can write issues.", file=sys.stderr)
        return 2
    if args.repo.count("/") != 1:
        print(f"batch-review labels: --repo {args.repo!r} must be OWNER/NAME.", file=sys.stderr)
        return 2
    gh = GitHub.from_env(token, os.environ)
    try:
        for line in sync_labels(gh, args.repo):
            print(line)
    except GitHubError as error:
        print(f"batch-review labels: {error}", file=sys.stderr)
        return 1
    return 0
