"""The one table of readiness timeouts by kind, and the one Ready-condition test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kconform import kind_readiness
from kconform.kind_readiness import BRIDGE_SIDECAR, is_ready, readiness_of
from kconform.platforms.kubernetes import kube_platform
from kconform_fixtures import cluster

ROOT = Path(__file__).resolve().parents[2]


def test_the_bounds_are_the_ones_the_platforms_and_fixtures_had() -> None:
    assert readiness_of("Kafka").timeout_s == cluster.KAFKA_READY_TIMEOUT == 600.0
    for kind in ("KafkaNodePool", "KafkaUser", "KafkaTopic"):
        assert readiness_of(kind).timeout_s == cluster.USER_READY_TIMEOUT == 180.0
    assert readiness_of("Pod").timeout_s == kube_platform.CLIENT_POD_TIMEOUT_S == 300.0
    assert readiness_of(BRIDGE_SIDECAR).timeout_s == kube_platform.BRIDGE_READY_TIMEOUT_S == 180.0
    assert readiness_of(BRIDGE_SIDECAR).local == 120.0  # a local bridge is a process, no pod to schedule
    assert readiness_of("Kafka").local == 600.0
    assert {row.poll_s for row in kind_readiness.READINESS.values()} == {2.0}
    assert readiness_of("ConfigMap") == kind_readiness.DEFAULT


@pytest.mark.parametrize(
    ("conditions", "ready"),
    [
        ([{"type": "Ready", "status": "True"}], True),
        ([{"type": "Warning", "status": "True"}, {"type": "Ready", "status": "True"}], True),
        ([{"type": "Ready", "status": "False"}], False),
        ([{"type": "NotReady", "status": "True"}], False),
        ([], False),
        (None, False),
    ],
)
def test_is_ready(conditions: list[dict[str, str]] | None, ready: bool) -> None:
    assert is_ready(conditions) is ready


def test_the_ready_condition_test_is_written_once() -> None:
    pattern = re.compile(r"""get\("type"\)\s*==\s*"Ready"|\["type"\]\s*==\s*"Ready\"""")
    found = [
        str(path.relative_to(ROOT))
        for folder in ("kconform", "fixtures")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert found == ["kconform/kind_readiness.py"]
