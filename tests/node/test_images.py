"""The node's images: only its own store answers. An image under a mirror registry's name (what
`--image-registry` will make kconform ask for) runs when the store has it; a public image the node does not
have cannot be pulled (no route off the machine), and says so in the pod's status."""

from __future__ import annotations

import pytest

from kconform.platforms.kubernetes import client_pod
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.platforms.kubernetes.settings import DEFAULT_CLIENT_IMAGE
from kconform.waits import wait_until
from tests.node import images, workloads
from tests.node.cluster import Node
from tests.node.conftest import make_platform

pytestmark = pytest.mark.node
MIRROR = "mirror.kconform.invalid"


def _waiting_reason(platform: KubernetesPlatform, namespace: str, pod: str) -> str | None:
    status = (platform.kube.get("v1", "Pod", namespace, pod) or {}).get("status") or {}
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason"):
            return str(waiting["reason"])
    return None


def test_the_default_client_image_cannot_be_pulled_here(platform: KubernetesPlatform, namespace: str) -> None:
    """kconform's default client image (Docker Hub) fails to pull: the node has no egress."""
    name = workloads.unique("egress")
    pod = workloads.sleeper_pod(name, namespace)
    pod["spec"]["containers"][0]["image"] = DEFAULT_CLIENT_IMAGE
    platform.apply(pod)
    reason = wait_until(
        lambda: (
            _waiting_reason(platform, namespace, name) in ("ErrImagePull", "ImagePullBackOff")
            and _waiting_reason(platform, namespace, name)
        ),
        describe=f"pod {namespace}/{name} to fail pulling {DEFAULT_CLIENT_IMAGE}",
        timeout=120,
        interval=1.0,
        diagnose=lambda: str(_waiting_reason(platform, namespace, name)),
    )
    assert reason in ("ErrImagePull", "ImagePullBackOff")
    platform.delete("Pod", namespace, name)


def test_the_client_pod_runs_from_a_mirror_named_image_of_the_local_store(node: Node) -> None:
    mirrored = f"{MIRROR}/kconform/python:{images.PYTHON.tag}"
    node.alias_image(images.PYTHON.reference, mirrored)
    platform = make_platform(node, client_image=mirrored)
    namespace = f"{platform.settings.run_id}-mirror"
    try:
        platform.create_namespace(namespace)
        platform.internal_clients(namespace)
        pod = platform.kube.get("v1", "Pod", namespace, client_pod.POD_NAME) or {}
        assert pod["spec"]["containers"][0]["image"] == mirrored
        # The kubelet reports one of the image's names: the same image, known by both.
        assert pod["status"]["containerStatuses"][0]["image"] in (mirrored, images.PYTHON.reference)
    finally:
        platform.delete_namespace(namespace)
        platform.close()
