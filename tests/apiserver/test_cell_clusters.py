"""A cell's clusters on the kubernetes platform against a real API server: applied together, each awaited on
its own, a NotReady one failing alone.

Nothing here runs Strimzi. The operator double writes the status the Cluster Operator would (Ready, or
NotReady with the exception's class name as reason; 1.2.0 KafkaAssemblyOperator.java, StatusUtils.java),
and only once every Kafka of the cell exists: a pool applying them one after another would never see the
first Ready. It proves the harness, never conformance.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any, cast

import pytest

from kconform import config as run_config
from kconform import resources
from kconform.errors import ResourceFailed
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.versions import PROFILES
from kconform_fixtures import cluster as cluster_module
from kconform_fixtures.cell_clusters import CellClusters, ClusterPlan, ClusterSpec
from kconform_fixtures.platform import PlatformPool
from kconform_fixtures.selection import CellParam
from tests.apiserver.conftest import ServerPool, make_platform
from tests.support import strimzi_doubles

pytestmark = pytest.mark.apiserver
PROFILE = PROFILES["1.2.0"]
CELL = CellParam(PROFILE.strimzi, "kraft")
VARIANTS = ("alpha", "broken", "gamma")


def _documents(plan: ClusterPlan) -> list[dict[str, Any]]:
    return resources.kafka_cluster(
        plan.profile,
        plan.mode,
        name=plan.name,
        namespace=plan.namespace,
        run_id=plan.run_id,
        listeners=[resources.internal_listener("tls", 9093, tls=True, authentication="tls")],
    )


class OperatorDouble:
    """A test double playing the Strimzi Cluster Operator's part: once every expected Kafka exists, each read
    of one is followed by its status (Ready; NotReady InvalidResourceException for a `broken-*` Kafka)."""

    def __init__(self, platform: KubernetesPlatform, expected: int) -> None:
        self.platform, self.expected = platform, expected
        self.lock = threading.Lock()
        self.kafkas: set[tuple[str, str]] = set()
        self.written: set[tuple[str, str]] = set()
        # Looked up once, here: the platform's threads then only use it (discovery is not thread-safe).
        self.kafka_api = platform.kube.dynamic.resources.get(api_version=PROFILE.api_version, kind="Kafka")
        real_get = platform.kube.get

        def get(api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
            seen = real_get(api_version, kind, namespace, name)
            if kind == "Kafka" and seen is not None and namespace is not None:
                self.saw(namespace, name, seen)
            return seen

        platform.kube.get = get  # type: ignore[method-assign]

    def saw(self, namespace: str, name: str, seen: dict[str, Any]) -> None:
        with self.lock:
            self.kafkas.add((namespace, name))
            if len(self.kafkas) < self.expected or (namespace, name) in self.written:
                return
            self.written.add((namespace, name))
        failure = "InvalidResourceException" if name.startswith("broken") else None
        status = strimzi_doubles.kafka_status(seen["metadata"]["generation"], failure)
        self.kafka_api.status.patch(
            name=name,
            namespace=namespace,
            body={"status": status},
            content_type="application/merge-patch+json",
        )


class _OnePlatform:
    def __init__(self, platform: KubernetesPlatform) -> None:
        self.platform = platform

    def get(self, strimzi: str, mode: str) -> KubernetesPlatform:
        return self.platform


@pytest.fixture
def platform(servers: ServerPool) -> Iterator[KubernetesPlatform]:
    yield make_platform(servers, PROFILE, "kraft", f"p{uuid.uuid4().hex[:8]}")


def test_a_cells_kafkas_are_applied_together_and_a_not_ready_one_fails_alone(
    platform: KubernetesPlatform, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        cluster_module, "KAFKA_READY_TIMEOUT", 60.0
    )  # a serial pool fails in a minute, not ten
    operator = OperatorDouble(platform, expected=len(VARIANTS))
    config = run_config.RunConfig(platform="kubernetes", run_id=platform.settings.run_id)
    clusters = CellClusters(config, cast(PlatformPool, _OnePlatform(platform)), "gw0", concurrency=4)
    specs = {variant: ClusterSpec(variant, _documents) for variant in VARIANTS}
    clusters.begin_cell(CELL, [(request.node.nodeid, list(specs.values()))])
    try:
        alpha = clusters.acquire(CELL, specs["alpha"], request.node)
        gamma = clusters.acquire(CELL, specs["gamma"], request.node)
        with pytest.raises(ResourceFailed, match="InvalidResourceException"):
            clusters.acquire(CELL, specs["broken"], request.node)
        assert {alpha.name.split("-")[0], gamma.name.split("-")[0]} == {"alpha", "gamma"}
        assert alpha.resource["status"]["conditions"][0]["type"] == "Ready"
        assert alpha.namespace != gamma.namespace
        assert len(operator.kafkas) == len(VARIANTS)
    finally:
        clusters.end_cell(CELL.id)
    # Every namespace the pool created is being removed (an API server alone never finishes the deletion).
    for namespace, _name in operator.kafkas:
        stored = platform.kube.get("v1", "Namespace", None, namespace)
        assert stored is None or stored["metadata"].get("deletionTimestamp"), namespace
