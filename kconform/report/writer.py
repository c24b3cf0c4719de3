"""Everything a run leaves in its reports folder besides what pytest writes itself (JUnit, Allure results).

conformance.json   the record (machine-readable)
index.html         the page a person reads
badge.svg          the README badge
badge.json         the shields.io endpoint document
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from kconform.report.atomic import atomic_write_text
from kconform.report.badge import write_badge_svg, write_shields_json
from kconform.report.conformance import write_conformance
from kconform.report.html import check_allure_url, render_html
from kconform.report.merge import MergedReport, merge
from kconform.report.model import RunRecord
from kconform.report.verdict import decide

FILE_NAMES = {
    "conformance": "conformance.json",
    "html": "index.html",
    "badge": "badge.svg",
    "shields": "badge.json",
}
ALLURE_INDEX = Path("allure-report") / "index.html"


def _allure_href(out_dir: Path, allure_url: str | None) -> str | None:
    if allure_url:
        return check_allure_url(allure_url)
    return ALLURE_INDEX.as_posix() if (out_dir / ALLURE_INDEX).is_file() else None


def _write_report(report: MergedReport, out_dir: Path, allure_url: str | None) -> dict[str, Path]:
    href = _allure_href(out_dir, allure_url)  # checked before anything is written
    verdict = decide(report)
    paths = {key: out_dir / name for key, name in FILE_NAMES.items()}
    write_conformance(report.to_record(), paths["conformance"])
    atomic_write_text(paths["html"], render_html(report, allure_href=href))
    write_badge_svg(verdict, paths["badge"])
    write_shields_json(verdict, paths["shields"])
    return paths


def write_all(record: RunRecord, out_dir: Path, allure_url: str | None = None) -> dict[str, Path]:
    """Write the four files of one run into out_dir; returns {conformance, html, badge, shields} paths."""
    return _write_report(merge([record]), out_dir, allure_url)


def write_merged(
    records: Iterable[RunRecord], out_dir: Path, allure_url: str | None = None
) -> dict[str, Path]:
    """Merge runs (e.g. one per CI cell) and write the same four files for the merge."""
    return _write_report(merge(records), out_dir, allure_url)
