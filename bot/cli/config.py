"""Show the resolved configuration and where each value came from.

Locally it reads .github/batch-review.yml here (or --config FILE). With --repo OWNER/NAME it
follows the lookup reviews use, through the API (GITHUB_TOKEN or GH_TOKEN; GITHUB_API_URL for
GitHub Enterprise Server): the repository's file on the default branch, else the organisation's
`.github` repository, `_extends` chains, then the defaults. Each value says where it came from:
default, repository file, org .github or _extends. Exit 0 (unknown keys are only warned about);
1 when a file has errors (reviews then use the defaults); 2 for bad input.

Example:
  batch-review config show
  GITHUB_TOKEN=ghp_... batch-review config show --repo acme/api --format json
"""

import json
import os
import sys
from pathlib import Path

from bot.cli.inputs import read_input
from bot.cli.main import subcommand
from bot.clients.github import GitHub, GitHubError
from bot.core import origins
from bot.core.config import DEFAULT, ConfigError
from bot.core.names import CONFIG_PATH
from bot.core.terminal import colour_wanted, config_text
from bot.core.textfile import BinaryFile


def add_arguments(parser):
    commands = parser.add_subparsers(dest="config_command", metavar="COMMAND", required=True)
    show = subcommand(commands, "show", "the resolved configuration, with where each value came from",
                      f"Print every setting with its value and its origin: default, repository file, org .github or "
                      f"_extends. Locally it reads {CONFIG_PATH} (or --config); --repo follows the lookup reviews "
                      "use, through the API.", "batch-review config show",
                      "batch-review config show --repo acme/api --format json")
    source = show.add_mutually_exclusive_group()
    source.add_argument("--repo", metavar="OWNER/NAME", help="the repository whose reviews' configuration to show")
    source.add_argument("--config", metavar="FILE", help=f"a local settings file (default: {CONFIG_PATH} here)")
    show.add_argument("--format", choices=("text", "json"), default="text",
                      help="text: a table (the default); json: bot/schemas/config.schema.json")


def run(args) -> int:
    try:
        shown = _from_repo(args.repo) if args.repo else _local(args.config)
    except OSError as error:
        print(f"batch-review config: cannot read {error.filename}: {error.strerror}.", file=sys.stderr)
        return 2
    except (BinaryFile, ConfigError, GitHubError, ValueError) as error:
        print(f"batch-review config: {error}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(origins.document(shown, args.repo), indent=2))
    else:
        print(config_text(shown, args.repo, local=not args.repo,
                          colour=colour_wanted(sys.stdout.isatty(), os.environ)), end="")
    return 1 if shown.defaults_used else 0


def _local(path) -> origins.Shown:
    path = path or (CONFIG_PATH if Path(CONFIG_PATH).is_file() else None)
    return origins.from_file(path, read_input(path)) if path else origins.Shown(DEFAULT)


def _from_repo(repo: str) -> origins.Shown:
    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    if not token:
        raise ValueError("--repo reads the configuration through the API: set GITHUB_TOKEN (or GH_TOKEN)")
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise ValueError(f"--repo {repo!r} must be OWNER/NAME")
    return origins.from_repo(GitHub.from_env(token, os.environ).read_text, repo)
