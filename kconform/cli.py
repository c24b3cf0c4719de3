"""`kconform` command line: run | plan | report | matrix | doctor | clean.

Each subcommand lives in `kconform.commands.<name>` and provides `register(subparsers)` and
`run(args) -> int`. Exit codes: 0 success, 1 conformance failures, 2 usage error or missing prerequisite.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from kconform import __version__
from kconform.errors import KconformError, MissingPrerequisite, UsageError

COMMANDS = ("run", "plan", "report", "matrix", "doctor", "clean")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kconform", description="Conformance harness for Apache Kafka on Kubernetes with Strimzi."
    )
    parser.add_argument("--version", action="version", version=f"kconform {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"kconform.commands.{name}")
        sub = module.register(subparsers)
        sub.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "run":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    try:
        return int(args.handler(args))
    except (UsageError, MissingPrerequisite) as err:
        for line in str(err).splitlines():  # the preflight says one line per missing piece
            print(f"kconform: {line}", file=sys.stderr)
        return 2
    except KconformError as err:
        print(f"kconform: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
