"""Several runs (one per CI cell, usually) become one report.

Merging is order-independent: the same records in any order give the same report. A record read twice
(same run id) counts once. When two runs hold the same test in the same cell (a CI cell re-run), the run
that started later wins, so a re-run replaces the flaky attempt instead of doubling it; a later run that never
started the test (`not-run`: it was interrupted before) replaces nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from kconform.report.model import (
    InconclusiveCell,
    Outcome,
    RunRecord,
    TestResult,
    cell_id,
    cell_sort_key,
)


@dataclass
class MergedReport:
    runs: list[RunRecord]  # the source records, oldest first
    results: list[TestResult] = field(default_factory=list)
    cells_inconclusive: list[InconclusiveCell] = field(default_factory=list)

    @property
    def interrupted(self) -> bool:
        return any(run.interrupted for run in self.runs)

    def to_record(self) -> RunRecord:
        """One record standing for the whole merge (what the merged conformance.json holds)."""
        if len(self.runs) == 1:
            only = self.runs[0]
            return RunRecord(
                run_id=only.run_id,
                started=only.started,
                finished=only.finished,
                tool_version=only.tool_version,
                interrupted=only.interrupted,
                results=list(self.results),
                cells_inconclusive=list(self.cells_inconclusive),
                merged_from=list(only.merged_from),
            )
        source_ids = sorted({run_id for run in self.runs for run_id in (run.merged_from or [run.run_id])})
        digest = hashlib.sha256("\n".join(source_ids).encode()).hexdigest()[:12]
        finishes = [run.finished for run in self.runs]
        return RunRecord(
            run_id=f"merged-{digest}",
            started=min((run.started for run in self.runs), default=""),
            finished=None if not finishes or None in finishes else max(f for f in finishes if f is not None),
            tool_version=", ".join(sorted({run.tool_version for run in self.runs})),
            interrupted=self.interrupted,
            results=list(self.results),
            cells_inconclusive=list(self.cells_inconclusive),
            merged_from=source_ids,
        )


def _result_order(result: TestResult) -> tuple[object, ...]:
    return (result.workflow, cell_sort_key(result.cell), result.nodeid)


def merge(records: Iterable[RunRecord]) -> MergedReport:
    """Combine records into one report with a deterministic order of runs, results and cells."""
    unique: dict[str, RunRecord] = {}
    for record in records:
        unique.setdefault(record.run_id, record)
    runs = sorted(unique.values(), key=lambda run: (run.started, run.run_id))

    # later runs overwrite earlier ones for the same (test, cell)
    results: dict[tuple[str, str], TestResult] = {}
    inconclusive: dict[str, InconclusiveCell] = {}
    for run in runs:
        for result in run.results:
            key = (result.nodeid, cell_id(result.cell))
            if result.status is not Outcome.NOT_RUN or key not in results:
                results[key] = result
        for entry in run.cells_inconclusive:
            inconclusive[cell_id(entry.cell)] = entry

    return MergedReport(
        runs=runs,
        results=sorted(results.values(), key=_result_order),
        cells_inconclusive=sorted(inconclusive.values(), key=lambda entry: cell_sort_key(entry.cell)),
    )


def as_merged(report: RunRecord | MergedReport) -> MergedReport:
    """Let every renderer take a single record or a merge alike."""
    return report if isinstance(report, MergedReport) else merge([report])
