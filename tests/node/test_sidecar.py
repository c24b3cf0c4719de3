"""The bridge sidecar pod (manifests/sidecar/bridge-pod.yaml, as kconform.resources.bridge_sidecar renders it)
on a real node, started by the platform's start_sidecar.

The Strimzi bridge image is not available here (no registry), so the `bridge` container is replaced by a
stand-in: a small HTTP server from the node's python image, listening where the bridge would (127.0.0.1 on
the bridge's HTTP port and on its management port, answering the readiness path with 200). It proves the
pod's shape, not the bridge. The application container is the pod's own, with the node's curl image: it is
what reaches the stand-in over the pod's loopback.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kconform import resources
from kconform import strimzi_contract as contract
from kconform.platforms.kubernetes.kube_platform import BRIDGE_HTTP_PORT, KubernetesPlatform
from kconform.platforms.protocol import Sidecar
from tests.node import images, workloads

pytestmark = pytest.mark.node
APP_CONTAINER = "app"  # manifests/sidecar/bridge-pod.yaml


def _stand_in_bridge(bridge: dict[str, Any]) -> None:
    """The bridge container turned into the stand-in: same name, same config mount, both ports on loopback."""
    serve = workloads.HTTP_SERVER
    bridge.update(
        image=images.PYTHON.reference,
        command=[
            "sh",
            "-c",
            f'python3 -c "$SERVE" 127.0.0.1 stand-in-bridge {BRIDGE_HTTP_PORT} & '
            f'exec python3 -c "$SERVE" 127.0.0.1 stand-in-management {contract.BRIDGE_MANAGEMENT_PORT}',
        ],
        env=[{"name": "SERVE", "value": serve}],
        securityContext={
            "runAsUser": images.NOBODY,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
    )


@pytest.fixture(scope="module")
def sidecar(platform: KubernetesPlatform, namespace: str) -> Iterator[tuple[Sidecar, dict[str, Any]]]:
    pod, config_map = resources.bridge_sidecar(
        name=workloads.unique("sidecar"),
        namespace=namespace,
        cluster="nobody",
        user="nobody",
        bridge_version=platform.profile.bridge_version,
        run_id=platform.settings.run_id,
    )
    containers = {c["name"]: c for c in pod["spec"]["containers"]}
    containers[APP_CONTAINER]["image"] = images.CURL.reference
    _stand_in_bridge(containers["bridge"])
    running = platform.start_sidecar(namespace, pod, config_map)
    try:
        yield running, pod
    finally:
        platform.stop_sidecar(namespace, running.name)


def test_the_app_container_reaches_the_bridge_over_the_pods_loopback_with_curl(
    platform: KubernetesPlatform, namespace: str, sidecar: tuple[Sidecar, dict[str, Any]]
) -> None:
    running, _ = sidecar
    out = platform.kube.exec(
        namespace,
        running.name,
        APP_CONTAINER,
        ["curl", "-sS", "--max-time", "10", f"http://127.0.0.1:{BRIDGE_HTTP_PORT}/topics"],
        "",
        30,
    )
    assert out == "stand-in-bridge /topics"


def test_the_app_container_runs_as_the_manifests_uid(
    platform: KubernetesPlatform, namespace: str, sidecar: tuple[Sidecar, dict[str, Any]]
) -> None:
    running, pod = sidecar
    app = next(c for c in pod["spec"]["containers"] if c["name"] == APP_CONTAINER)
    out = platform.kube.exec(namespace, running.name, APP_CONTAINER, ["id", "-u"], "", 30)
    assert out.strip() == str(app["securityContext"]["runAsUser"])


def test_the_test_process_reaches_the_bridge_through_the_platforms_port_forwards(
    sidecar: tuple[Sidecar, dict[str, Any]],
) -> None:
    running, _ = sidecar
    assert httpx.get(f"{running.bridge_url}/healthy", timeout=30).text == "stand-in-bridge /healthy"
    assert running.management_url is not None
    assert httpx.get(f"{running.management_url}/ready", timeout=30).text == "stand-in-management /ready"


def test_another_pod_cannot_reach_the_loopback_only_bridge(
    platform: KubernetesPlatform, namespace: str, sidecar: tuple[Sidecar, dict[str, Any]]
) -> None:
    running, _ = sidecar
    assert running.outside_urls, "start_sidecar found no pod IP"
    for url in running.outside_urls:
        refused = platform.try_from_outside(namespace, url)
        assert refused is not None and "refused" in refused.lower(), refused
