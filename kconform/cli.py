"""`kconform` command line: run | plan | report | matrix | doctor | clean.

Each subcommand lives in `kconform.commands.<name>` (`matrix` in `matrix_command`, so that no module basename
repeats `kconform/matrix.py`) and provides `register(subparsers)` and
`run(args) -> int`. Exit codes: 0 success, 1 conformance failures, 2 usage error or missing prerequisite,
3 inconclusive (the infrastructure failed, e.g. before any test).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from kconform import __version__, versions
from kconform.errors import InfrastructureFailure, KconformError, MissingPrerequisite, UsageError

COMMANDS = ("run", "plan", "report", "matrix", "doctor", "clean")
# A command whose module is not named after it.
_MODULES = {"matrix": "matrix_command"}


def version_text() -> str:
    """`kconform --version`: the tool's version and the Strimzi versions it is pinned to test."""
    lines = [f"kconform {__version__}", "pinned Strimzi profiles:"]
    for prof in versions.PROFILES.values():
        default = " (default on kubernetes)" if prof.strimzi == versions.DEFAULT_PROFILE else ""
        lines.append(
            f"  strimzi {prof.strimzi}{default}: Kafka {prof.kafka_version} "
            f"(supported {', '.join(prof.kafka_versions)}), {prof.api_version}, modes {', '.join(prof.modes)}, "
            f"bridge {prof.bridge_version}, Kubernetes {prof.min_kubernetes}-{prof.max_kubernetes}"
        )
    return "\n".join(lines)


class _Version(argparse.Action):
    """Prints `version_text()` as it is (argparse's version action would re-wrap its lines)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **_: object) -> None:
        super().__init__(
            option_strings,
            dest=dest,
            default=argparse.SUPPRESS,
            nargs=0,
            help="print the version and the pinned Strimzi profiles",
        )

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(version_text())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kconform", description="Conformance harness for Apache Kafka on Kubernetes with Strimzi."
    )
    parser.add_argument("--version", action=_Version)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"kconform.commands.{_MODULES.get(name, name)}")
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
    except InfrastructureFailure as err:  # e.g. the cluster still removing an earlier run's install
        print(f"kconform: {str(err).splitlines()[0]}", file=sys.stderr)
        return 3
    except KconformError as err:
        print(f"kconform: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
