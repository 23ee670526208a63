"""Review a PR description and design docs from the terminal.

The first FILE is the pull request's description, the others are design docs; `-` reads
standard input. Answer labels given with --label count as a reviewer's.

Example:
  batch-review check examples/nightly-enrichment-pr.md
  batch-review check pr.md docs/design/ingest.md --label batch/can-wait --format json
"""

import json
import sys
from pathlib import Path

from bot.core.config import DEFAULT, ConfigError, from_mapping, parse_mapping
from bot.core.names import ANSWER_LABELS, CONFIG_PATH, LABEL_STYLES
from bot.core.render import render_comment
from bot.core.workload import Label, assess, document


def add_arguments(parser):
    parser.add_argument("files", nargs="*", metavar="FILE|-", help="PR description first, then design docs")
    parser.add_argument("--label", action="append", default=[], metavar="NAME",
                        help="an answer label on the PR (repeatable)")
    parser.add_argument("--config", metavar="FILE",
                        help=f"settings file (default: {CONFIG_PATH} when it exists)")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")


def _read(name: str) -> str:
    return sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8", errors="replace")


def run(args) -> int:

    if not args.files and sys.stdin.isatty():
        print("batch-review check: give a FILE (the PR description) or pipe it in with `-`.", file=sys.stderr)
        return 2
    config_file = args.config or (CONFIG_PATH if Path(CONFIG_PATH).is_file() else None)
    try:
        texts = [_read(name) for name in args.files or ["-"]]
        config = from_mapping(parse_mapping(_read(config_file), config_file)) if config_file else DEFAULT
    except OSError as error:
        print(f"batch-review check: cannot read {error.filename}: {error.strerror}.", file=sys.stderr)
        return 2
    except ConfigError as error:
        print(f"batch-review check: {error}", file=sys.stderr)
        return 2
    for name in args.label:
        if name not in LABEL_STYLES:  # every label of ours: answer, verdict, adopted
            print(f"batch-review check: ignoring label {name!r}; answer labels are: {', '.join(ANSWER_LABELS)}.",
                  file=sys.stderr)
    review = assess(texts[0], list(zip(args.files[1:], texts[1:])), [Label(n) for n in args.label], config=config)
    if args.format == "json":
        print(json.dumps(document(review), indent=2))
    else:
        print(render_comment(review, config), end="")
    return 0
