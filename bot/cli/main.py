"""The `batch-review` command: a table of subcommands; only the chosen one is imported."""

import argparse
import importlib
import os
import sys
import textwrap

# subcommand -> (module with add_arguments(parser) and run(args) -> int, one-line help for `--help`)
COMMANDS = {
    "action": ("bot.cli.action", "Review the PR of a GitHub Actions event (run by action.yml)."),
    "app": ("bot.cli.app", "Run the GitHub App: webhook server, workers, manifest."),
    "audit": ("bot.cli.audit", "Classify a backlog of design docs and PR descriptions."),
    "batch": ("bot.cli.batch", "Run a file of Claude requests through the Message Batches API."),
    "check": ("bot.cli.check", "Review a PR description and design docs from the terminal."),
    "config": ("bot.cli.config", "Show the configuration reviews use, and where each value came from."),
    "dashboard": ("bot.cli.dashboard", "Serve the adoption dashboard on this machine."),
    "init": ("bot.cli.init", "Add the checklist, config and workflow to a repository."),
    "labels": ("bot.cli.labels", "Create every batch-review label in a repository."),
    "metric": ("bot.cli.metric", "Store the usage the adoption metric counts."),
    "report": ("bot.cli.report", "Write the monthly retro report."),
    "scan": ("bot.cli.scan", "Find calls to Claude in files, with the signs of bulk work."),
}


def subcommand(commands, name: str, summary: str, description: str, *examples: str) -> argparse.ArgumentParser:
    """A subcommand (`app serve`): `summary` in its command's list, the description and examples in its --help."""
    text = textwrap.fill(description, 96) + "\n\nExample:\n" + "".join(f"  {example}\n" for example in examples)
    return commands.add_parser(name, help=summary, description=text,
                               formatter_class=argparse.RawDescriptionHelpFormatter)


class PrintVersion(argparse.Action):
    """`--version`, which reads the package metadata only when asked (importlib.metadata costs ~35 ms)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        print(parser.prog, importlib.import_module("bot.cli.version").version())
        parser.exit()


def build_parser(chosen=None) -> argparse.ArgumentParser:
    """The parser; only `chosen` (a command name) has its options, so `--help` imports no command module."""
    parser = argparse.ArgumentParser(
        prog="batch-review",
        description="Ask on every Claude workload whether it belongs on the Message Batches API.",
        epilog="Example: batch-review check examples/nightly-enrichment-pr.md",
    )
    parser.add_argument("--version", action=PrintVersion)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, summary) in COMMANDS.items():
        if name != chosen:
            commands.add_parser(name, help=summary)
            continue
        module = importlib.import_module(module_name)
        sub = commands.add_parser(name, help=summary, description=module.__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    chosen = next((word for word in argv if not word.startswith("-")), None)
    args = build_parser(chosen).parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to say, and no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush cannot fail again
        return 0


if __name__ == "__main__":
    sys.exit(main())
