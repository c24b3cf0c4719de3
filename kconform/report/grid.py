"""Workflows (rows) by cells (columns): what the HTML grid and the terminal summary are drawn from.

Rows are sorted by workflow name; columns by platform, provider, then versions numerically, then mode, so
the same results always give the same grid. A cell reported inconclusive as a whole fills every row it has
no result for with an inconclusive square carrying the reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from kconform.report.merge import MergedReport
from kconform.report.model import (
    UNDECIDED,
    CellDict,
    Outcome,
    TestResult,
    cell_id,
    cell_label,
    cell_sort_key,
)

NO_WORKFLOW = "(no workflow)"


@dataclass(frozen=True)
class Column:
    id: str
    label: str
    cell: CellDict


@dataclass
class Square:
    """One grid square: every result of one workflow in one cell."""

    workflow: str
    column: Column
    results: list[TestResult] = field(default_factory=list)
    inconclusive_reason: str | None = None  # the whole cell's infrastructure failed

    @property
    def counts(self) -> Counter[Outcome]:
        return Counter(result.status for result in self.results)

    @property
    def duration_s(self) -> float:
        return sum(result.duration_s for result in self.results)

    @property
    def status(self) -> str:
        """failed | inconclusive | passed | skipped | empty: the worst that happened, red before amber."""
        counts = self.counts
        if counts[Outcome.FAILED] or counts[Outcome.ERROR]:
            return "failed"
        undecided = any(counts[outcome] for outcome in UNDECIDED)  # inconclusive, interrupted, not run
        if undecided or (self.inconclusive_reason is not None and not self.results):
            return "inconclusive"
        if counts[Outcome.PASSED]:
            return "passed"
        if counts[Outcome.SKIPPED]:
            return "skipped"
        return "empty"


@dataclass
class Grid:
    workflows: list[str]
    columns: list[Column]
    squares: dict[tuple[str, str], Square]

    def square(self, workflow: str, column: Column) -> Square:
        return self.squares[(workflow, column.id)]


def workflow_of(result: TestResult) -> str:
    return result.workflow or NO_WORKFLOW


def build_grid(report: MergedReport) -> Grid:
    cells: dict[str, CellDict] = {}
    for result in report.results:
        cells.setdefault(cell_id(result.cell), result.cell)
    for entry in report.cells_inconclusive:
        cells.setdefault(cell_id(entry.cell), entry.cell)
    columns = [
        Column(id=key, label=cell_label(cell), cell=cell)
        for key, cell in sorted(cells.items(), key=lambda item: (cell_sort_key(item[1]), item[0]))
    ]
    workflows = sorted({workflow_of(result) for result in report.results})
    if not workflows and report.cells_inconclusive:
        workflows = [NO_WORKFLOW]  # a cell that never ran still gets a row to show it in

    squares = {
        (workflow, column.id): Square(workflow=workflow, column=column)
        for workflow in workflows
        for column in columns
    }
    for result in report.results:
        squares[(workflow_of(result), cell_id(result.cell))].results.append(result)
    for entry in report.cells_inconclusive:
        for workflow in workflows:
            squares[(workflow, cell_id(entry.cell))].inconclusive_reason = entry.reason
    return Grid(workflows=workflows, columns=columns, squares=squares)
