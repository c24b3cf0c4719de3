"""`kconform matrix`: print the CI matrix (GitHub's `{"include": [...]}` form, or a table for people)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from kconform import matrix, options
from kconform.versions import PROFILES, profile


def register(subparsers: Any) -> argparse.ArgumentParser:
    sub: argparse.ArgumentParser = subparsers.add_parser(
        "matrix",
        help="print every valid Kubernetes x Strimzi x mode cell of the CI matrix",
        description="Print the CI matrix read from the versions table. JSON is GitHub's matrix include form.",
    )
    sub.add_argument("--format", choices=("json", "table"), default="table", help="output format (table)")
    options.add_arguments(sub, "matrix")  # --profile: only these Strimzi versions
    return sub


def run(args: argparse.Namespace) -> int:
    # profile() raises InvalidCombination (exit 2) with the valid choices for an unknown version.
    asked = options.resolve(options.given(args, "matrix"))["profiles"]
    chosen = {version: profile(version) for version in asked} if asked else PROFILES
    selected = matrix.cells(chosen)
    if args.format == "json":
        # One line: CI writes it to $GITHUB_OUTPUT as `cells=<json>`.
        print(json.dumps(matrix.include(selected), separators=(",", ":")))
    else:
        print(_table(selected))
    return 0


def _table(selected: list[matrix.MatrixCell]) -> str:
    header = ("STRIMZI", "KUBERNETES", "MODE", "COMMAND")
    rows = [header, *((c.strimzi, c.kubernetes, c.mode, c.command) for c in selected)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)), row[-1]])
        for row in rows
    ]
    lines.append(f"{len(selected)} cells; kind {matrix.KIND_VERSION}")
    return "\n".join(lines)
