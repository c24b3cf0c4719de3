"""index.html and the files written beside it, read back the way a browser would see the markup."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kconform.errors import UsageError
from kconform.report.html import render_html
from kconform.report.merge import merge
from kconform.report.model import InconclusiveCell, Outcome, RunRecord, TestResult, cell_id
from kconform.report.summary import summary_lines
from kconform.report.writer import write_all, write_merged

LOCAL = {"platform": "local", "strimzi": "1.2.0", "kafka": "4.3.1", "mode": "kraft"}
KIND_135 = {
    "platform": "kubernetes",
    "provider": "kind",
    "kubernetes": "1.35.0",
    "strimzi": "1.2.0",
    "kafka": "4.3.1",
    "mode": "dual-role",
}
KIND_0452 = {
    "platform": "kubernetes",
    "provider": "kind",
    "kubernetes": "1.31.4",
    "strimzi": "0.45.2",
    "kafka": "3.9.1",
    "mode": "zookeeper",
}
WORKFLOWS = ("tls-client-auth", "bridge-sidecar", "nodeport-access")
FAILURE = "AuthorizationFailed: topic 'orders' refused <READ> for User:alice & group g1"


# --- a tiny DOM: every element with its attributes and the text inside it ---
@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    children: list[Element] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


_VOID = {"meta", "br", "link", "img", "input", "hr", "wbr", "source", "col", "base"}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        if self._open:
            self._open[-1].children.append(element)
        self.elements.append(element)
        if tag not in _VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index].tag == tag:
                del self._open[index:]
                return

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data


def parse_page(html: str) -> list[Element]:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.elements


def descendants(element: Element) -> list[Element]:
    found: list[Element] = []
    for child in element.children:
        found.extend([child, *descendants(child)])
    return found


def find(elements: list[Element], tag: str, **attrs: str) -> list[Element]:
    """Elements with this tag whose attributes equal the given ones (`class_` tests one class)."""
    wanted_class = attrs.pop("class_", None)
    return [
        element
        for element in elements
        if element.tag == tag
        and all(element.attrs.get(name.replace("_", "-")) == value for name, value in attrs.items())
        and (wanted_class is None or wanted_class in element.classes)
    ]


def one(elements: list[Element], tag: str, **attrs: str) -> Element:
    found = find(elements, tag, **attrs)
    assert len(found) == 1, f"expected one <{tag} {attrs}>, found {len(found)}"
    return found[0]


# --- sample runs ---
def record(run_id: str, cell: dict[str, str], statuses: dict[str, str], day: int = 1) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        started=f"2025-03-0{day}T10:00:00+00:00",
        finished=f"2025-03-0{day}T10:20:00+00:00",
        tool_version="0.1.0",
        results=[
            TestResult(
                nodeid=f"scenarios/test_{workflow.replace('-', '_')}.py::test_{workflow.replace('-', '_')}",
                workflow=workflow,
                title=f"{workflow} works as documented",
                cell=dict(cell),
                status=Outcome(status),
                duration_s=30.0,
                message=FAILURE if status in ("failed", "error") else None,
                steps=["apply Kafka", "wait until Ready"],
            )
            for workflow, status in statuses.items()
        ],
    )


def three_cells() -> list[RunRecord]:
    """Two passing cells and one with a failure, the shape of a nightly CI matrix."""
    passing = dict.fromkeys(WORKFLOWS, "passed")
    return [
        record("run-local", LOCAL, passing, day=1),
        record("run-kind-135", KIND_135, passing, day=2),
        record("run-kind-0452", KIND_0452, {**passing, "tls-client-auth": "failed"}, day=3),
    ]


def test_merged_page_shows_the_failing_cell_in_red_with_its_message(tmp_path: Path) -> None:
    paths = write_merged(three_cells(), tmp_path)
    elements = parse_page(paths["html"].read_text())

    summary = one(elements, "p", id="summary")
    assert summary.attrs["data-state"] == "failed"
    assert "8/9" in summary.text

    red = find(elements, "td", class_="status-failed")
    assert len(red) == 1
    assert red[0].attrs["data-workflow"] == "tls-client-auth"
    assert red[0].attrs["data-cell"] == cell_id(KIND_0452)
    assert len(find(elements, "td", class_="status-passed")) == 8

    failure = one(elements, "table", class_="failure")
    assert failure.attrs["data-nodeid"] == "scenarios/test_tls_client_auth.py::test_tls_client_auth"
    assert FAILURE in one(descendants(failure), "pre", class_="message").text
    # the red square links to the details of its failure
    link = one(descendants(red[0]), "a")
    assert link.attrs["href"] == f"#{failure.attrs['id']}"

    shields = json.loads(paths["shields"].read_text())
    assert shields == {"schemaVersion": 1, "label": "kafka conformance", "message": "8/9", "color": "red"}
    svg = paths["badge"].read_text()
    assert "#e05d44" in svg and "#44cc11" not in svg
    merged = json.loads(paths["conformance"].read_text())
    assert merged["run"]["merged_from"] == ["run-kind-0452", "run-kind-135", "run-local"]
    assert len(merged["results"]) == 9


def test_failure_message_is_escaped_not_interpreted() -> None:
    runs = [record("run-x", LOCAL, {"bridge-sidecar": "failed"})]
    runs[0].results[0].message = '<script>alert("x")</script><img src=x onerror=1>'
    html = render_html(merge(runs))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_an_inconclusive_cell_is_amber_and_neither_pass_nor_fail(tmp_path: Path) -> None:
    minikube = {**KIND_135, "provider": "minikube", "kubernetes": "1.33.1"}
    broken = RunRecord(
        run_id="run-minikube",
        started="2025-03-04T10:00:00+00:00",
        finished="2025-03-04T10:09:00+00:00",
        tool_version="0.1.0",
        cells_inconclusive=[InconclusiveCell(cell=minikube, reason="minikube start: image pull timed out")],
    )
    passing = record("run-local", LOCAL, dict.fromkeys(WORKFLOWS, "passed"))
    paths = write_merged([passing, broken], tmp_path)
    elements = parse_page(paths["html"].read_text())

    amber = find(elements, "td", class_="status-inconclusive")
    assert {square.attrs["data-workflow"] for square in amber} == set(WORKFLOWS)
    assert {square.attrs["data-cell"] for square in amber} == {cell_id(minikube)}
    assert "image pull timed out" in amber[0].attrs["title"]
    assert not find(elements, "td", class_="status-failed")
    assert one(elements, "p", id="summary").attrs["data-state"] == "inconclusive"
    listed = one(elements, "li", data_cell=cell_id(minikube))
    assert "minikube k8s 1.33.1" in listed.text

    shields = json.loads(paths["shields"].read_text())
    assert (shields["message"], shields["color"]) == ("3/3", "orange")


def test_an_inconclusive_test_result_gets_its_own_class() -> None:
    runs = [record("run-i", KIND_135, {"bridge-sidecar": "inconclusive", "tls-client-auth": "passed"})]
    elements = parse_page(render_html(runs[0]))
    square = one(elements, "td", data_workflow="bridge-sidecar")
    assert square.classes == {"square", "status-inconclusive"}
    assert one(elements, "table", class_="failure").attrs["data-status"] == "inconclusive"


def test_an_interrupted_run_is_amber_with_the_cut_test_detailed_and_the_rest_counted() -> None:
    statuses = {"bridge-sidecar": "interrupted", "tls-client-auth": "passed", "nodeport-access": "not-run"}
    run = record("run-cut", KIND_135, statuses)
    run.interrupted = True
    elements = parse_page(render_html(run))
    assert one(elements, "p", id="summary").attrs["data-state"] == "inconclusive"
    for workflow in ("bridge-sidecar", "nodeport-access"):
        assert one(elements, "td", data_workflow=workflow).classes == {"square", "status-inconclusive"}
    assert "1 not-run" in one(elements, "td", data_workflow="nodeport-access").text
    # The interrupted test has its details table; tests never started share the run's one reason.
    assert [t.attrs["data-status"] for t in find(elements, "table", class_="failure")] == ["interrupted"]
    lines = summary_lines(run)
    assert lines[0].startswith("conformance: 1 passed, 1 interrupted, 1 not-run")
    assert [line.split()[0] for line in lines[1:]] == ["INTERRUPTED", "NOT-RUN", "the"]


def test_rows_and_columns_have_a_deterministic_order() -> None:
    k8s_19 = {**KIND_135, "kubernetes": "1.9.0"}
    runs = [
        record("r1", KIND_135, {"zeta-flow": "passed", "alpha-flow": "skipped"}, day=1),
        record("r2", LOCAL, {"mid-flow": "passed"}, day=2),
        record("r3", k8s_19, {"alpha-flow": "passed"}, day=3),
        record("r4", KIND_0452, {"mid-flow": "error"}, day=4),
    ]
    pages = {render_html(merge(order)) for order in (runs, runs[::-1], [runs[2], runs[0], runs[3], runs[1]])}
    assert len(pages) == 1

    elements = parse_page(pages.pop())
    rows = [row.attrs["data-workflow"] for row in find(elements, "tr") if "data-workflow" in row.attrs]
    assert rows == ["alpha-flow", "mid-flow", "zeta-flow"]
    columns = [head.attrs["data-cell"] for head in find(elements, "th", class_="cell-head")]
    # platform, then provider, then Kubernetes numerically (1.9 before 1.31 before 1.35)
    assert columns == [cell_id(k8s_19), cell_id(KIND_0452), cell_id(KIND_135), cell_id(LOCAL)]
    # A head's text is its label, then the cell's timing (its own span).
    labels = [
        head.text.replace(one(descendants(head), "span", class_="cell-timing").text, "").strip()
        for head in find(elements, "th", class_="cell-head")
    ]
    assert labels[-1] == "local · strimzi 1.2.0 · kafka 4.3.1 · kraft"
    assert labels[0] == "kind k8s 1.9.0 · strimzi 1.2.0 · kafka 4.3.1 · dual-role"
    assert one(elements, "td", data_workflow="alpha-flow", data_cell=cell_id(KIND_135)).classes == {
        "square",
        "status-skipped",
    }
    assert one(elements, "td", data_workflow="alpha-flow", data_cell=cell_id(LOCAL)).classes == {
        "square",
        "status-empty",
    }


def test_allure_link_appears_only_when_there_is_a_report(tmp_path: Path) -> None:
    run = record("run-a", LOCAL, {"bridge-sidecar": "passed"})
    without = parse_page(write_all(run, tmp_path)["html"].read_text())
    assert not find(without, "a", id="allure-link")

    (tmp_path / "allure-report").mkdir()
    (tmp_path / "allure-report" / "index.html").write_text("<html></html>")
    beside = parse_page(write_all(run, tmp_path)["html"].read_text())
    assert one(beside, "a", id="allure-link").attrs["href"] == "allure-report/index.html"

    given = parse_page(write_all(run, tmp_path, allure_url="https://ci.example/allure/")["html"].read_text())
    assert one(given, "a", id="allure-link").attrs["href"] == "https://ci.example/allure/"

    with pytest.raises(UsageError, match="--allure-url"):
        write_all(run, tmp_path / "other", allure_url="javascript:alert(1)")
    assert not (tmp_path / "other").exists()


def test_write_all_writes_the_four_files(tmp_path: Path) -> None:
    paths = write_all(record("run-w", LOCAL, {"bridge-sidecar": "passed"}), tmp_path / "reports")
    assert {key: path.name for key, path in paths.items()} == {
        "conformance": "conformance.json",
        "html": "index.html",
        "badge": "badge.svg",
        "shields": "badge.json",
    }
    assert all(path.is_file() and path.parent == tmp_path / "reports" for path in paths.values())


def test_secrets_never_reach_the_page_or_the_summary() -> None:
    pem_body = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgq3Zf"
    pem = f"-----BEGIN PRIVATE KEY-----\n{pem_body}\n-----END PRIVATE KEY-----"
    run = record("run-s", LOCAL, {"bridge-sidecar": "failed"})
    run.results[0].message = (
        "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="bob" password="hunter2-pw"; then {pem}'
    )
    run.results[0].steps = [f"user key {pem}"]
    run.cells_inconclusive = [InconclusiveCell(cell=KIND_135, reason="ssl.key.password=hunter2-pw rejected")]

    html = render_html(run)
    text = "\n".join(summary_lines(run))
    for output in (html, text):
        assert pem_body not in output
        assert "hunter2-pw" not in output
        assert "PlainLoginModule" not in output


def test_summary_lines_name_the_failure_and_its_cell() -> None:
    lines = summary_lines(record("run-t", LOCAL, {"bridge-sidecar": "failed", "tls-client-auth": "passed"}))
    assert lines[0] == "conformance: 1 passed, 1 failed (local · strimzi 1.2.0 · kafka 4.3.1 · kraft)"
    assert lines[1].split()[:2] == ["FAILED", "scenarios/test_bridge_sidecar.py::test_bridge_sidecar"]
    assert lines[1].endswith(FAILURE)
    assert len(lines) == 2


def test_an_empty_run_renders_a_page_that_says_so() -> None:
    empty = RunRecord(
        run_id="run-0", started="2025-03-01T10:00:00+00:00", finished=None, tool_version="0.1.0"
    )
    elements = parse_page(render_html(empty))
    assert one(elements, "p", id="summary").attrs["data-state"] == "empty"
    assert one(elements, "p", id="no-results")
    assert summary_lines(empty) == ["conformance: no results"]


def test_a_run_whose_only_outcome_is_an_inconclusive_cell_says_so_on_its_first_line() -> None:
    """Not "no results": the cell is inconclusive, and the first line says why (its reason's first line)."""
    kind = {
        "platform": "kubernetes",
        "provider": "kind",
        "strimzi": "1.2.0",
        "kafka": "4.1.0",
        "mode": "kraft",
    }
    run = RunRecord(
        run_id="run-i",
        started="2025-03-01T10:00:00+00:00",
        finished="2025-03-01T10:05:00+00:00",
        tool_version="0.1.0",
        cells_inconclusive=[
            InconclusiveCell(
                kind, "setup phase 'create the kind cluster' failed: node not Ready\nevents: ..."
            )
        ],
    )
    lines = summary_lines(run)
    assert lines[0] == (
        "conformance: 1 cell inconclusive (setup phase 'create the kind cluster' failed: node not Ready)"
    )
    assert lines[1].startswith("  INCONCLUSIVE cell ") and "node not Ready" in lines[1]
    assert len(lines) == 2


def test_each_cell_head_shows_its_setup_and_test_time() -> None:
    local = record("run-local", LOCAL, dict.fromkeys(WORKFLOWS, "passed"))
    for result in local.results:
        result.setup_s = 20.0  # of each 30 s
    kind = record("run-kind", KIND_135, {"tls-client-auth": "passed"}, day=2)

    elements = parse_page(render_html(merge([local, kind])))

    heads = {head.attrs["data-cell"]: head for head in find(elements, "th", class_="cell-head")}
    local_timing = one(descendants(heads[cell_id(LOCAL)]), "span", class_="cell-timing")
    assert (local_timing.attrs["data-setup-s"], local_timing.attrs["data-test-s"]) == ("60.0", "30.0")
    assert local_timing.text == "setup 1 min 00 s · tests 30.0 s"
    kind_timing = one(descendants(heads[cell_id(KIND_135)]), "span", class_="cell-timing")
    assert (kind_timing.attrs["data-setup-s"], kind_timing.attrs["data-test-s"]) == ("0.0", "30.0")
