"""A real kube-apiserver's Pod Security admission admits kconform's pods where a namespace enforces "restricted".

PodSecurity is one of kube-apiserver v1.35's default admission plugins (`kube-apiserver --help`,
--enable-admission-plugins) and tests/apiserver/server.py disables only ServiceAccount, so the server here
judges the pods with the upstream rules; tests/unit/platforms/kubernetes/test_pod_security.py checks the same pods offline. What
the API server cannot see is the image's USER (the kubelet checks runAsNonRoot against it at container
start); the unit test covers that part.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from kconform import resources
from kconform.errors import PlatformError
from kconform.platforms.kubernetes import client_pod
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.versions import Profile
from tests.apiserver.conftest import ServerPool, make_platform

pytestmark = pytest.mark.apiserver
ENFORCE = "pod-security.kubernetes.io/enforce"


def _namespace(platform: KubernetesPlatform, enforce: str | None) -> str:
    namespace = f"psa-{uuid.uuid4().hex[:8]}"
    labels = {ENFORCE: enforce} if enforce else {}
    platform.kube.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": labels}}
    )
    return namespace


def _pods(platform: KubernetesPlatform, namespace: str) -> list[dict[str, Any]]:
    """The client pod and the bridge sidecar pod exactly as the platform and the sidecar scenario build them."""
    settings = platform.settings
    labels = {resources.RUN_LABEL: settings.run_id}
    client = client_pod.pod(namespace, labels, settings.client_image)
    sidecar, _ = resources.bridge_sidecar(
        name="sidecar",
        namespace=namespace,
        cluster="cluster",
        user="user",
        bridge_version=platform.profile.bridge_version,
        run_id=settings.run_id,
    )
    return [client, sidecar]


@pytest.fixture
def platform(servers: ServerPool, profile: Profile) -> KubernetesPlatform:
    return make_platform(servers, profile, profile.modes[0], f"p{uuid.uuid4().hex[:8]}")


def test_kconforms_pods_are_admitted_where_restricted_is_enforced(platform: KubernetesPlatform) -> None:
    namespace = _namespace(platform, "restricted")
    for pod in _pods(platform, namespace):
        platform.apply(pod)
        assert platform.get("Pod", namespace, pod["metadata"]["name"]) is not None


def _without_security_contexts(pod: dict[str, Any]) -> dict[str, Any]:
    broken = copy.deepcopy(pod)
    broken["spec"].pop("securityContext", None)
    for container in broken["spec"]["containers"]:
        container.pop("securityContext", None)
    return broken


def test_a_pod_without_them_is_refused_there_and_admitted_elsewhere(platform: KubernetesPlatform) -> None:
    """The admission really runs: the same pods stripped of their security contexts are refused, naming the
    policy, while a namespace that enforces nothing takes them (so it is the label that refuses them)."""
    restricted = _namespace(platform, "restricted")
    for pod in _pods(platform, restricted):
        with pytest.raises(PlatformError, match=r"violates PodSecurity \"restricted:latest\""):
            platform.apply(_without_security_contexts(pod))
        assert platform.get("Pod", restricted, pod["metadata"]["name"]) is None
    open_namespace = _namespace(platform, None)
    for pod in _pods(platform, open_namespace):
        platform.apply(_without_security_contexts(pod))
        assert platform.get("Pod", open_namespace, pod["metadata"]["name"]) is not None
