"""index.html: one self-contained page (inline CSS, no scripts, no external assets).

Stable hooks for tests and for people linking into the page:
    p#summary[data-state]                          the verdict (passed | failed | inconclusive | empty)
    table#runs                                     one row per run merged into the page
    table#grid > tbody > tr[data-workflow]         one row per workflow
    th.cell-head[data-cell]                        one column per cell (data-cell = model.cell_id)
    th.cell-head span.cell-timing[data-setup-s][data-test-s]  the cell's setup and test time
    td.square.status-<s>[data-workflow][data-cell] s = passed | failed | inconclusive | skipped | empty
    section#failures table.failure[data-nodeid]    one table per failed/error/inconclusive/interrupted test
    section#inconclusive-cells li[data-cell]       cells whose infrastructure failed
    a#allure-link                                  the Allure report, when there is one
Every free text is escaped, and messages are redacted before they are escaped.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from kconform import __version__
from kconform.errors import UsageError
from kconform.redact import redact
from kconform.report.grid import Grid, Square, build_grid
from kconform.report.merge import MergedReport, as_merged
from kconform.report.model import (
    CellTiming,
    Outcome,
    RunRecord,
    TestResult,
    cell_id,
    cell_label,
    cell_timings,
)
from kconform.report.verdict import Verdict, decide

_CSS = """
:root { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #1f2328; }
body { margin: 1.5rem 2rem; background: #fff; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.2rem; margin: 1.8rem 0 .6rem; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d0d7de; padding: .35rem .6rem; text-align: left; vertical-align: top; }
thead th { background: #f6f8fa; font-weight: 600; }
#summary { font-size: 1.1rem; font-weight: 600; padding: .5rem .8rem; border-radius: 6px;
  display: inline-block; }
#summary.state-passed { background: #dafbe1; color: #116329; }
#summary.state-failed { background: #ffebe9; color: #a40e26; }
#summary.state-inconclusive { background: #fff1d6; color: #7a4a00; }
#summary.state-empty { background: #eaeef2; color: #424a53; }
#runs { font-size: .9rem; }
#grid td.square { min-width: 9rem; font-size: .9rem; }
#grid td.square a { color: inherit; }
#grid .duration { display: block; font-size: .8rem; opacity: .75; }
.status-passed { background: #c7f0d0; color: #0b4a1c; }
.status-failed { background: #ffc9c9; color: #7d0a1c; font-weight: 600; }
.status-inconclusive { background: #ffe3a3; color: #6b4200; }
.status-skipped { background: #e4e7eb; color: #424a53; }
.status-interrupted, .status-not-run { background: #ffe3a3; color: #6b4200; }
.status-empty { background: #fff; color: #8c959f; }
.legend span { display: inline-block; padding: .1rem .5rem; margin-right: .4rem; border-radius: 4px;
  font-size: .85rem; }
table.failure { margin-bottom: 1.2rem; width: 100%; max-width: 70rem; }
table.failure th { width: 8rem; background: #f6f8fa; }
table.failure-failed, table.failure-error { border-left: 5px solid #cf222e; }
table.failure-inconclusive, table.failure-interrupted { border-left: 5px solid #d4a72c; }
pre.message { white-space: pre-wrap; word-break: break-word; margin: 0; font-size: .85rem; }
footer { margin-top: 2rem; font-size: .8rem; color: #57606a; }
"""

# Not-run tests get no table each: their squares count them, and their reason is the run's.
_DETAIL_STATUSES = (Outcome.FAILED, Outcome.ERROR, Outcome.INCONCLUSIVE, Outcome.INTERRUPTED)


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def check_allure_url(url: str) -> str:
    """Only http(s) or a relative path may become a link on the page."""
    scheme = urlsplit(url).scheme
    if scheme not in ("", "http", "https"):
        raise UsageError(f"--allure-url {url!r}: use an http(s) URL or a path relative to the page")
    return url


def summary_text(verdict: Verdict) -> str:
    parts = [f"{n} {outcome.value}" for outcome, n in verdict.counts.items() if n]
    text = ", ".join(parts) if parts else "no results"
    if verdict.inconclusive_cells:
        plural = "s" if verdict.inconclusive_cells != 1 else ""
        text += f"; {verdict.inconclusive_cells} cell{plural} inconclusive"
    if verdict.interrupted and "interrupted" not in verdict.message:
        text += "; interrupted"
    return f"{verdict.state.upper()} — {verdict.message} — {text}"


def _runs_table(report: MergedReport) -> str:
    rows = "".join(
        f'<tr data-run="{_e(run.run_id)}"><td>{_e(run.run_id)}</td><td>{_e(run.started)}</td>'
        f"<td>{_e(run.finished or '—')}</td><td>{_e(run.tool_version)}</td>"
        f"<td>{'yes' if run.interrupted else 'no'}</td><td>{len(run.results)}</td></tr>"
        for run in report.runs
    )
    return (
        '<table id="runs"><thead><tr><th>Run</th><th>Started</th><th>Finished</th><th>kconform</th>'
        f"<th>Interrupted</th><th>Results</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _square_html(square: Square, anchors: dict[int, str]) -> str:
    status = square.status
    counts = square.counts
    if square.results:
        text = " · ".join(f"{counts[outcome]} {outcome.value}" for outcome in Outcome if counts[outcome])
        body = f'{_e(text)}<span class="duration">{_e(format_duration(square.duration_s))}</span>'
    elif status == "inconclusive":
        body = "inconclusive"
    else:
        body = "—"
    first_bad = next((r for r in square.results if r.status in _DETAIL_STATUSES), None)
    if first_bad is not None and id(first_bad) in anchors:
        body = f'<a href="#{anchors[id(first_bad)]}">{body}</a>'
    title = square.column.label
    if square.inconclusive_reason is not None:
        title += f" — inconclusive: {redact(square.inconclusive_reason)}"
    return (
        f'<td class="square status-{status}" data-workflow="{_e(square.workflow)}" '
        f'data-cell="{_e(square.column.id)}" data-status="{status}" title="{_e(title)}">{body}</td>'
    )


def _timing_html(timing: CellTiming | None) -> str:
    """A cell's time split: setting up (waiting for its clusters) and running its tests."""
    if timing is None:
        return ""
    return (
        f'<span class="duration cell-timing" data-setup-s="{timing.setup_s:.1f}" '
        f'data-test-s="{timing.test_s:.1f}">setup {_e(format_duration(timing.setup_s))} · '
        f"tests {_e(format_duration(timing.test_s))}</span>"
    )


def _grid_table(grid: Grid, anchors: dict[int, str], results: list[TestResult]) -> str:
    timings = {cell_id(timing.cell): timing for timing in cell_timings(results)}
    head = "".join(
        f'<th class="cell-head" data-cell="{_e(column.id)}" scope="col">{_e(column.label)}'
        f"{_timing_html(timings.get(column.id))}</th>"
        for column in grid.columns
    )
    rows = []
    for workflow in grid.workflows:
        squares = "".join(_square_html(grid.square(workflow, column), anchors) for column in grid.columns)
        rows.append(f'<tr data-workflow="{_e(workflow)}"><th scope="row">{_e(workflow)}</th>{squares}</tr>')
    legend = "".join(
        f'<span class="status-{name}">{name}</span>'
        for name in ("passed", "failed", "inconclusive", "skipped", "empty")
    )
    return (
        f'<table id="grid"><thead><tr><th scope="col">Workflow</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        f'<p class="legend">{legend} (failed includes errors)</p>'
    )


def _failure_table(result: TestResult, anchor: str) -> str:
    steps = "".join(f"<li>{_e(redact(step))}</li>" for step in result.steps)
    message = redact(result.message) if result.message else "(no message)"
    rows = [
        ("Test", f"<code>{_e(result.nodeid)}</code>"),
        ("Title", _e(result.title)),
        ("Workflow", _e(result.workflow)),
        ("Cell", _e(cell_label(result.cell))),
        ("Status", f'<span class="status-{_e(result.status.value)}">{_e(result.status.value)}</span>'),
        ("Duration", _e(format_duration(result.duration_s))),
    ]
    if steps:
        rows.append(("Steps", f"<ol>{steps}</ol>"))
    rows.append(("Message", f'<pre class="message">{_e(message)}</pre>'))
    body = "".join(f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in rows)
    return (
        f'<table class="failure failure-{_e(result.status.value)}" id="{anchor}" '
        f'data-nodeid="{_e(result.nodeid)}" data-cell="{_e(cell_id(result.cell))}" '
        f'data-status="{_e(result.status.value)}">{body}</table>'
    )


def render_html(report: RunRecord | MergedReport, allure_href: str | None = None) -> str:
    """The whole page as text; `allure_href` (already checked) becomes a link when given."""
    merged = as_merged(report)
    verdict = decide(merged)
    grid = build_grid(merged)
    bad = [result for result in merged.results if result.status in _DETAIL_STATUSES]
    anchors = {id(result): f"failure-{index}" for index, result in enumerate(bad, start=1)}

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Kafka conformance: {_e(verdict.message)}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<header><h1>Kafka conformance</h1>",
        f'<p id="summary" class="state-{verdict.state}" data-state="{verdict.state}" '
        f'data-passed="{verdict.passed}" data-total="{verdict.total}">{_e(summary_text(verdict))}</p>',
    ]
    if allure_href:
        parts.append(f'<p><a id="allure-link" href="{_e(allure_href)}">Allure report</a></p>')
    parts.append("</header>")
    parts.append(f'<section id="run-info"><h2>Runs</h2>{_runs_table(merged)}</section>')
    parts.append('<section id="grid-section"><h2>Workflows &times; cells</h2>')
    parts.append(
        _grid_table(grid, anchors, list(merged.results))
        if grid.columns
        else '<p id="no-results">No results.</p>'
    )
    parts.append("</section>")
    if merged.cells_inconclusive:
        items = "".join(
            f'<li data-cell="{_e(cell_id(entry.cell))}" class="status-inconclusive">'
            f"<strong>{_e(cell_label(entry.cell))}</strong>: {_e(redact(entry.reason))}</li>"
            for entry in merged.cells_inconclusive
        )
        parts.append(
            '<section id="inconclusive-cells"><h2>Inconclusive cells</h2>'
            "<p>The infrastructure of these cells failed (cluster creation, image pulls): "
            f"neither a pass nor a fail.</p><ul>{items}</ul></section>"
        )
    if bad:
        tables = "".join(_failure_table(result, anchors[id(result)]) for result in bad)
        parts.append(
            f'<section id="failures"><h2>Failed, inconclusive and interrupted tests</h2>{tables}</section>'
        )
    parts.append(f"<footer>Written by kconform {_e(__version__)}.</footer></body></html>")
    return "\n".join(parts) + "\n"
