"""Review a PR description and design docs from the terminal.

The first FILE is the pull request's description, the others are design docs; `-` reads
standard input. Answer labels given with --label count as a reviewer's. Files may be UTF-8
(the default) or carry a UTF-8, UTF-16 or UTF-32 byte order mark; a binary file exits 2.

Example:
  batch-review check examples/nightly-enrichment-pr.md
  batch-review check pr.md docs/design/ingest.md --label batch/can-wait --format json
"""

import json
import os
import sys
from pathlib import Path

from bot.cli.inputs import read_input
from bot.core.config import DEFAULT, capped, from_mapping, load
from bot.core.names import ANSWER_LABELS, CONFIG_PATH, LABEL_STYLES
from bot.core.render import render_comment
from bot.core.terminal import colour_wanted, review_text
from bot.core.textfile import BinaryFile
from bot.core.workload import Label, assess, document

FORMATS = ("text", "markdown", "json")


def add_arguments(parser):
    parser.add_argument("files", nargs="*", metavar="FILE|-", help="PR description first, then design docs")
    parser.add_argument("--label", action="append", default=[], metavar="NAME",
                        help="an answer label on the PR (repeatable)")
    parser.add_argument("--config", metavar="FILE",
                        help=f"settings file (default: {CONFIG_PATH} when it exists)")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text: readable in a terminal (the default); markdown: the PR comment exactly as "
                             "it would be posted; json: the review document (bot/schemas/review.schema.json)")


def run(args) -> int:

    if not args.files and sys.stdin.isatty():
        print("batch-review check: give a FILE (the PR description) or pipe it in with `-`.", file=sys.stderr)
        return 2
    config_file = args.config or (CONFIG_PATH if Path(CONFIG_PATH).is_file() else None)
    try:
        texts = [read_input(name) for name in args.files or ["-"]]
        loaded = load(read_input(config_file), config_file) if config_file else None
    except OSError as error:
        print(f"batch-review check: cannot read {error.filename}: {error.strerror}.", file=sys.stderr)
        return 2
    except BinaryFile as error:
        print(f"batch-review check: {error}", file=sys.stderr)
        return 2
    if loaded is not None:  # every problem at once: errors stop the check, unknown keys are only warned about
        for problem in capped([*loaded.errors, *(f"warning: {warning}" for warning in loaded.warnings)]):
            print(f"batch-review check: {problem}", file=sys.stderr)
        if loaded.errors:
            return 2
    config = DEFAULT if loaded is None else from_mapping(loaded.raw)
    for name in args.label:
        if name not in LABEL_STYLES:  # every label of ours: answer, verdict, adopted
            print(f"batch-review check: ignoring label {name!r}; answer labels are: {', '.join(ANSWER_LABELS)}.",
                  file=sys.stderr)
    review = assess(texts[0], list(zip(args.files[1:], texts[1:])), [Label(n) for n in args.label], config=config)
    if args.format == "json":
        print(json.dumps(document(review), indent=2))
    elif args.format == "markdown":
        print(render_comment(review, config), end="")
    else:
        print(review_text(review, config, colour=colour_wanted(sys.stdout.isatty(), os.environ)), end="")
    return 0
