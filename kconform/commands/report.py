"""`kconform report`: merge the conformance.json of several runs (CI cells) into one page, badge, record."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kconform.errors import UsageError
from kconform.report.conformance import read_conformance
from kconform.report.markdown import markdown_summary
from kconform.report.merge import merge
from kconform.report.summary import summary_lines
from kconform.report.verdict import decide
from kconform.report.writer import write_merged

RECORD_NAME = "conformance.json"
DEFAULT_OUT = Path("reports") / "merged"

_EPILOG = """\
exit status:
  0  every non-skipped test passed; also when the only problems are inconclusive cells or tests
     (infrastructure failures such as cluster creation or image pulls), an interrupted run, or no
     results at all: a note says so on stderr. Add --strict to make those exit 1 as well.
  1  a test failed or errored
  2  no conformance.json found, or a file that is not a kconform conformance record

Folders are searched recursively for conformance.json; files may have any name. Records found inside
the --out folder are left out of a folder search, so re-running the command does not count them twice.
"""


def register(subparsers: Any) -> argparse.ArgumentParser:
    sub: argparse.ArgumentParser = subparsers.add_parser(
        "report",
        help="merge conformance.json files into one HTML page, badge and record",
        description="Merge the conformance.json of one or more runs (e.g. one per CI cell) and write\n"
        "index.html, badge.svg, badge.json (shields.io endpoint) and a merged conformance.json.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub.add_argument(
        "inputs", nargs="+", metavar="PATH", help="conformance.json files or folders holding them"
    )
    sub.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, metavar="DIR", help=f"where to write ({DEFAULT_OUT})"
    )
    sub.add_argument(
        "--allure-url",
        metavar="URL",
        help="link the page to this Allure report (default: allure-report/index.html in DIR, when present)",
    )
    sub.add_argument(
        "--format",
        choices=("text", "markdown"),
        default="text",
        help="what is printed: text lines, or Markdown (badge and workflows x cells table) for a CI job "
        "summary such as $GITHUB_STEP_SUMMARY; the files in DIR are written either way (text)",
    )
    sub.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 also for inconclusive cells, interrupted runs or no results",
    )
    return sub


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def find_records(inputs: list[Path], out_dir: Path) -> list[Path]:
    """Every record named on the command line or found below a named folder, each once, in a stable order."""
    found: dict[Path, None] = {}
    for given in inputs:
        if given.is_dir():
            for path in sorted(given.rglob(RECORD_NAME)):
                if path.is_file() and not _inside(path, out_dir):
                    found.setdefault(path.resolve())
        elif given.is_file():
            found.setdefault(given.resolve())
        else:
            raise UsageError(
                f"{given}: no such file or folder; pass conformance.json files or folders holding them"
            )
    if not found:
        names = ", ".join(str(path) for path in inputs)
        raise UsageError(
            f"no {RECORD_NAME} found in {names}; pass the reports folder of a kconform run (e.g. reports/)"
        )
    return list(found)


def run(args: argparse.Namespace) -> int:
    out_dir: Path = args.out
    paths = find_records([Path(p) for p in args.inputs], out_dir)
    records = [read_conformance(path) for path in paths]
    written = write_merged(records, out_dir, allure_url=args.allure_url)
    report = merge(records)
    verdict = decide(report)

    if args.format == "markdown":
        print(markdown_summary(report), end="")
        print(f"merged {len(records)} record(s) into {written['html']}", file=sys.stderr)
    else:
        for line in summary_lines(report):
            print(line)
        print(f"merged {len(records)} record(s) into {written['html']}")

    if verdict.state == "failed":
        return 1
    if verdict.state == "passed":
        return 0
    note = {
        "inconclusive": "some cells or tests were inconclusive (infrastructure, not conformance) "
        "or a run was interrupted",
        "empty": "no test results in the given records",
    }.get(verdict.state, "")
    print(
        f"kconform report: note: {note}{'' if args.strict else '; --strict makes this exit 1'}",
        file=sys.stderr,
    )
    return 1 if args.strict else 0
