"""The one decision behind the badge, the shields endpoint, the page's summary and the exit code.

- red ("failed")        any test failed or errored;
- amber ("inconclusive") no failure, but a test or a whole cell was inconclusive, a test was interrupted or
                         not run, or a run was interrupted;
- green ("passed")      every non-skipped test passed;
- grey ("empty")        nothing ran (no results, or every test skipped).
The message is passed/total, counted over non-skipped results (interrupted and not-run tests count: a run cut
short never reads as all passed).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal

from kconform.report.merge import MergedReport, as_merged
from kconform.report.model import UNDECIDED, Outcome, RunRecord

LABEL = "kafka conformance"

State = Literal["passed", "failed", "inconclusive", "empty"]

# shields.io named colours; anybadge takes hex codes so the SVG matches the shields rendering
SHIELDS_COLORS: dict[State, str] = {
    "passed": "brightgreen",
    "failed": "red",
    "inconclusive": "orange",
    "empty": "lightgrey",
}
BADGE_COLORS: dict[State, str] = {
    "passed": "#44cc11",
    "failed": "#e05d44",
    "inconclusive": "#fe7d37",
    "empty": "#9f9f9f",
}


@dataclass(frozen=True)
class Verdict:
    state: State
    counts: dict[Outcome, int]
    passed: int
    total: int  # non-skipped results
    inconclusive_cells: int
    interrupted: bool
    message: str
    label: str = LABEL

    @property
    def shields_color(self) -> str:
        return SHIELDS_COLORS[self.state]

    @property
    def badge_color(self) -> str:
        return BADGE_COLORS[self.state]


def decide(report: RunRecord | MergedReport) -> Verdict:
    merged = as_merged(report)
    counts = Counter(result.status for result in merged.results)
    full_counts = {outcome: counts.get(outcome, 0) for outcome in Outcome}
    passed = full_counts[Outcome.PASSED]
    total = sum(n for outcome, n in full_counts.items() if outcome is not Outcome.SKIPPED)
    inconclusive_cells = len(merged.cells_inconclusive)
    interrupted = merged.interrupted

    state: State
    if full_counts[Outcome.FAILED] or full_counts[Outcome.ERROR]:
        state = "failed"
    elif any(full_counts[outcome] for outcome in UNDECIDED) or inconclusive_cells or (interrupted and total):
        state = "inconclusive"
    elif total:
        state = "passed"
    else:
        state = "empty"

    if state == "empty":
        message = "no results"
    elif total == 0:
        message = "inconclusive"
    else:
        message = f"{passed}/{total}"
        if interrupted:
            message += " (interrupted)"
    return Verdict(
        state=state,
        counts=full_counts,
        passed=passed,
        total=total,
        inconclusive_cells=inconclusive_cells,
        interrupted=interrupted,
        message=message,
    )
