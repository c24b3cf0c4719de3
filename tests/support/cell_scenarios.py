"""The generated test module of the cell-cluster proofs (tests/plugin and tests/node run it through pytester):
three clusters of one cell across two workflows, `broken` being the one the doubles turn NotReady. Each test
records its name through the generated conftest's `record`."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

SCENARIOS = textwrap.dedent(
    """
    import pytest
    from kconform_fixtures.cell_clusters import cluster_fixture
    from kconform import resources
    from conftest import record


    def documents(plan):
        return resources.kafka_cluster(
            plan.profile, plan.mode, name=plan.name, namespace=plan.namespace, run_id=plan.run_id,
            listeners=[resources.internal_listener("tls", 9093, tls=True, authentication="tls")],
        )


    @cluster_fixture("good", documents)
    def good(cluster):
        return cluster


    @cluster_fixture("broken", documents)
    def broken(cluster):
        return cluster


    @cluster_fixture("other", documents)
    def other(cluster):
        return cluster


    @pytest.mark.workflow("tls-listener")
    def test_one(good, request):
        record("test", request.node.name)

    @pytest.mark.workflow("tls-listener")
    def test_two(broken, request):
        record("test", request.node.name)

    @pytest.mark.workflow("tls-listener")
    def test_three(broken, request):
        record("test", request.node.name)

    @pytest.mark.workflow("tls-listener")
    def test_four(good, request):
        record("test", request.node.name)

    @pytest.mark.workflow("scram-listener")
    def test_five(other, request):
        record("test", request.node.name)

    @pytest.mark.workflow("scram-listener")
    def test_six(cell, request):
        record("test", request.node.name)
    """
)

# Each test's status in conformance.json when `broken` ends NotReady: its two tests error, no other test.
STATUSES_WITH_BROKEN = {
    "test_one": "passed",
    "test_two": "error",
    "test_three": "error",
    "test_four": "passed",
    "test_five": "passed",
    "test_six": "passed",
}


def statuses(conformance_json: Path) -> dict[str, str]:
    """Each test's status in a run's conformance.json, by test function name."""
    report = json.loads(conformance_json.read_text(encoding="utf-8"))
    return {r["nodeid"].split("::")[1].split("[")[0]: r["status"] for r in report["results"]}
