"""The `batch-review` command: one subcommand per shell module, each imported only when used."""

import argparse
import importlib
import sys

# subcommand -> module with add_arguments(parser) and run(args) -> int; help comes from its docstring.
SUBCOMMANDS = {
    "action": "bot.action",
    "app": "bot.app_cmd",
    "audit": "bot.audit_cmd",
    "batch": "bot.batch_cmd",
    "check": "bot.check_cmd",
    "dashboard": "bot.dashboard_cmd",
    "init": "bot.init_cmd",
    "labels": "bot.labels_cmd",
    "metric": "bot.metric_cmd",
    "report": "bot.report_cmd",
    "scan": "bot.scan_cmd",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="batch-review",
        description="Ask on every Claude workload whether it belongs on the Message Batches API.",
        epilog="Example: batch-review check examples/nightly-enrichment-pr.md",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        sub = commands.add_parser(
            name,
            help=module.__doc__.splitlines()[0],
            description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
