"""The run as Markdown: the conformance badge, then workflows (rows) by cells (columns) with each square's
outcome. Written for GitHub's job summary (`$GITHUB_STEP_SUMMARY`) by the Action and `kconform report
--format markdown`; drawn from the same grid and verdict as the HTML page."""

from __future__ import annotations

from urllib.parse import quote

from kconform.redact import redact
from kconform.report.grid import Square, build_grid
from kconform.report.merge import MergedReport, as_merged
from kconform.report.model import UNDECIDED, Outcome, RunRecord
from kconform.report.summary import summary_lines
from kconform.report.verdict import Verdict, decide

_MARK = {"passed": "✅", "failed": "❌", "inconclusive": "⚠️", "skipped": "⏭️", "empty": "—"}


def _shields_part(text: str) -> str:
    # shields.io static badges: '-' and '_' are escaped by doubling, then the text is URL-encoded
    return quote(text.replace("-", "--").replace("_", "__"), safe="")


def badge_markdown(verdict: Verdict) -> str:
    """The conformance badge as a shields.io static image (a job summary cannot show a local SVG), with
    the verdict as its alt text."""
    url = (
        f"https://img.shields.io/badge/{_shields_part(verdict.label)}-{_shields_part(verdict.message)}"
        f"-{verdict.shields_color}"
    )
    return f"![{verdict.label}: {verdict.message}]({url})"


def _cell_text(text: str) -> str:
    """Safe inside a Markdown table cell: one line, no pipes."""
    return redact(text).replace("|", "\\|").replace("\n", " ").strip()


def _square(square: Square) -> str:
    status = square.status
    counts = square.counts
    if status == "empty":
        return _MARK["empty"]
    if status == "inconclusive" and not square.results:
        return f"{_MARK['inconclusive']} cell inconclusive"
    ran = sum(n for outcome, n in counts.items() if outcome is not Outcome.SKIPPED)
    parts = [f"{counts[Outcome.PASSED]}/{ran} passed"] if ran else []
    parts += [f"{counts[o]} {o.value}" for o in (Outcome.FAILED, Outcome.ERROR, *UNDECIDED) if counts[o]]
    if counts[Outcome.SKIPPED]:
        parts.append(f"{counts[Outcome.SKIPPED]} skipped")
    return f"{_MARK[status]} {', '.join(parts)}"


def markdown_summary(report: RunRecord | MergedReport, *, title: str = "kconform conformance") -> str:
    merged = as_merged(report)
    verdict = decide(merged)
    grid = build_grid(merged)
    lines = [f"## {title}", "", badge_markdown(verdict), ""]
    if grid.columns:
        lines.append("| workflow | " + " | ".join(_cell_text(c.label) for c in grid.columns) + " |")
        lines.append("|---|" + "---|" * len(grid.columns))
        for workflow in grid.workflows:
            row = [_square(grid.square(workflow, column)) for column in grid.columns]
            lines.append(f"| {_cell_text(workflow)} | " + " | ".join(row) + " |")
        lines.append("")
    details = summary_lines(merged)
    lines.append(f"**{_cell_text(details[0])}**")
    if len(details) > 1:
        lines.append("")
        lines += [f"- {_cell_text(line)}" for line in details[1:]]
    return "\n".join(lines) + "\n"
