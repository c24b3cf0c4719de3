"""Reports of a run: conformance.json, the HTML page, the badge, the shields endpoint, the terminal summary.

This package never imports the platforms or the clients: it works on the plain results model alone.
"""

from kconform.report.conformance import SCHEMA, read_conformance, write_conformance
from kconform.report.merge import MergedReport, merge
from kconform.report.model import CELL_FIELDS, InconclusiveCell, Outcome, RunRecord, TestResult
from kconform.report.summary import summary_lines
from kconform.report.verdict import Verdict, decide
from kconform.report.writer import write_all, write_merged

__all__ = [
    "CELL_FIELDS",
    "SCHEMA",
    "InconclusiveCell",
    "MergedReport",
    "Outcome",
    "RunRecord",
    "TestResult",
    "Verdict",
    "decide",
    "merge",
    "read_conformance",
    "summary_lines",
    "write_all",
    "write_conformance",
    "write_merged",
]
