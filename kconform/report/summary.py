"""The few lines a run prints at its end: counts, then one line per test or cell that needs a look."""

from __future__ import annotations

from kconform.redact import redact
from kconform.report.merge import MergedReport, as_merged
from kconform.report.model import Outcome, RunRecord, cell_label
from kconform.report.verdict import decide

_MESSAGE_WIDTH = 160


def _first_line(text: str | None) -> str:
    if not text:
        return ""
    lines = redact(text).strip().splitlines()
    line = lines[0] if lines else ""
    return line if len(line) <= _MESSAGE_WIDTH else line[: _MESSAGE_WIDTH - 1] + "…"


def _no_results(merged: MergedReport) -> str:
    """What the first line says when no test has an outcome: the inconclusive cells and why, if any."""
    entries = merged.cells_inconclusive
    if not entries:
        return "no results"
    noun = "cell" if len(entries) == 1 else "cells"
    return f"{len(entries)} {noun} inconclusive ({_first_line(entries[0].reason)})"


def summary_lines(report: RunRecord | MergedReport) -> list[str]:
    """e.g. ['conformance: 9 passed, 1 failed (local · strimzi 1.2.0 · kafka 4.3.1 · kraft)', ...]."""
    merged = as_merged(report)
    verdict = decide(merged)
    counts = ", ".join(f"{n} {outcome.value}" for outcome, n in verdict.counts.items() if n) or _no_results(
        merged
    )
    cells = sorted(
        {cell_label(result.cell) for result in merged.results}
        | {cell_label(entry.cell) for entry in merged.cells_inconclusive}
    )
    where = f" ({cells[0]})" if len(cells) == 1 else f" ({len(cells)} cells)" if cells else ""
    if not any(verdict.counts.values()) and merged.cells_inconclusive:
        where = ""  # the reason is in parentheses already; the cell is named on the line below
    lines = [f"conformance: {counts}{where}"]
    for result in merged.results:
        if result.status in (Outcome.FAILED, Outcome.ERROR, Outcome.INCONCLUSIVE, Outcome.INTERRUPTED):
            line = f"  {result.status.value.upper():<12} {result.nodeid} [{cell_label(result.cell)}]"
            message = _first_line(result.message)
            lines.append(f"{line}: {message}" if message else line)
    not_run = [result for result in merged.results if result.status is Outcome.NOT_RUN]
    if not_run:  # one line for them all: the reason is the run's, not each test's
        noun = "test" if len(not_run) == 1 else "tests"
        lines.append(f"  {'NOT-RUN':<12} {len(not_run)} {noun}: {_first_line(not_run[0].message)}")
    for entry in merged.cells_inconclusive:
        lines.append(f"  {'INCONCLUSIVE':<12} cell {cell_label(entry.cell)}: {_first_line(entry.reason)}")
    if verdict.interrupted:
        lines.append("  the run was interrupted: results are incomplete")
    return lines
