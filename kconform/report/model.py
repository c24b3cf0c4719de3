"""The results model every report is made from: one RunRecord per run, one TestResult per test and cell.

A cell is the combination that produced a result (platform, provider, Kubernetes, Strimzi, Kafka, metadata
mode). It is kept as a plain dict here on purpose: the report package must not import the platforms
(import-linter forbids it), and a dict is what `dataclasses.asdict(platform.cell(mode))` gives the plugin.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

CELL_FIELDS = ("platform", "provider", "kubernetes", "strimzi", "kafka", "mode")

CellDict = dict[str, str | None]


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"  # the test itself broke (setup/teardown), not the system under test
    INCONCLUSIVE = "inconclusive"  # the CI cell's infrastructure failed: cluster creation, image pulls
    INTERRUPTED = "interrupted"  # the run was stopped (Ctrl-C, SIGTERM) while this test ran
    NOT_RUN = "not-run"  # selected, but the run stopped before the test started


# Neither pass nor fail: the run did not reach a verdict on the test. Amber, and counted in the total, so a
# run whose tests were cut short never reads as all passed.
UNDECIDED = (Outcome.INCONCLUSIVE, Outcome.INTERRUPTED, Outcome.NOT_RUN)


def normalize_cell(cell: Mapping[str, object] | None) -> CellDict:
    """The six cell fields as text or None, whatever mapping (or None) the caller had."""
    source = cell or {}
    normalized: CellDict = {}
    for name in CELL_FIELDS:
        value = source.get(name)
        normalized[name] = None if value is None or value == "" else str(value)
    return normalized


def cell_id(cell: Mapping[str, str | None]) -> str:
    """A stable, unambiguous key for a cell, used as the grid's data-cell attribute."""
    return "/".join(cell.get(name) or "-" for name in CELL_FIELDS)


def cell_label(cell: Mapping[str, str | None]) -> str:
    """What a person reads: 'local · strimzi 1.2.0 · kafka 4.3.1 · kraft' or 'kind k8s 1.35 · ...': a
    platform with cluster providers is named by its provider, any other by itself."""
    where = cell.get("provider") or cell.get("platform") or "unknown"
    if cell.get("kubernetes"):
        where = f"{where} k8s {cell['kubernetes']}"
    parts = [where]
    if cell.get("strimzi"):
        parts.append(f"strimzi {cell['strimzi']}")
    if cell.get("kafka"):
        parts.append(f"kafka {cell['kafka']}")
    if cell.get("mode"):
        parts.append(str(cell["mode"]))
    return " · ".join(parts)


def _version_key(text: str | None) -> tuple[tuple[int, str], ...]:
    # "1.10.0" sorts after "1.9.2": numbers compare as numbers, anything else as text
    if not text:
        return ()
    return tuple((int(piece), "") if piece.isdigit() else (-1, piece) for piece in re.split(r"[.\-+]", text))


def cell_sort_key(cell: Mapping[str, str | None]) -> tuple[object, ...]:
    """Columns go platform, provider, then versions ascending (numerically), then mode."""
    return (
        cell.get("platform") or "",
        cell.get("provider") or "",
        _version_key(cell.get("kubernetes")),
        _version_key(cell.get("strimzi")),
        _version_key(cell.get("kafka")),
        cell.get("mode") or "",
    )


@dataclass
class TestResult:
    """One test's outcome in one cell. `message` is the failure text (redacted whenever it is written)."""

    __test__ = False  # not a pytest test class, although its name starts with "Test"

    nodeid: str
    workflow: str
    title: str
    cell: CellDict
    status: Outcome
    duration_s: float = 0.0  # setup + call + teardown
    message: str | None = None
    steps: list[str] = field(default_factory=list)
    setup_s: float = 0.0  # of duration_s, the setup phase: mostly waiting for the test's cluster
    # A workflow's own measurements (JSON values), e.g. per-state durations and message counts.
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cell = normalize_cell(self.cell)
        self.status = Outcome(self.status)
        self.duration_s = float(self.duration_s)
        self.setup_s = float(self.setup_s)

    @property
    def test_s(self) -> float:
        return max(0.0, self.duration_s - self.setup_s)


@dataclass
class InconclusiveCell:
    """A cell without a verdict because its infrastructure failed (e.g. the kind cluster never came up)."""

    cell: CellDict
    reason: str

    def __post_init__(self) -> None:
        self.cell = normalize_cell(self.cell)


@dataclass
class RunRecord:
    """One run of the harness: timestamps are ISO-8601 text; `finished` is None if the run never ended."""

    run_id: str
    started: str
    finished: str | None
    tool_version: str
    interrupted: bool = False
    results: list[TestResult] = field(default_factory=list)
    cells_inconclusive: list[InconclusiveCell] = field(default_factory=list)
    merged_from: list[str] = field(default_factory=list)  # run ids, when this record is a merge


@dataclass(frozen=True)
class CellTiming:
    """Where a cell's time went: setting up (waiting for clusters) and running its tests."""

    cell: CellDict
    setup_s: float
    test_s: float


def cell_timings(results: Iterable[TestResult]) -> list[CellTiming]:
    """One timing per cell, in the order cells first appear."""
    sums: dict[str, list[Any]] = {}
    for result in results:
        entry = sums.setdefault(cell_id(result.cell), [result.cell, 0.0, 0.0])
        entry[1] += result.setup_s
        entry[2] += result.test_s
    return [CellTiming(cell, setup, test) for cell, setup, test in sums.values()]
