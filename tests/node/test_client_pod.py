"""kconform's client pod on a real node: admitted where Pod Security "restricted" is enforced, running as its
uid, and running the shipped client code: the image is Debian's python3 alone, kafka-python comes from
kconform (no PyPI, no egress)."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import metadata

import pytest

from kconform.clients.operations import Endpoint, request
from kconform.errors import BrokerUnreachable, KconformError
from kconform.platforms.kubernetes import client_pod
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from tests.node import workloads
from tests.node.cluster import Node
from tests.node.conftest import make_platform

pytestmark = pytest.mark.node
ENFORCE = "pod-security.kubernetes.io/enforce"


@pytest.fixture(scope="module")
def restricted(node: Node) -> Iterator[tuple[KubernetesPlatform, str]]:
    """A platform and a namespace of its own labelled to enforce "restricted", with the client pod started."""
    platform = make_platform(node)
    namespace = f"{platform.settings.run_id}-restricted"
    platform.create_namespace(namespace)
    platform.kube.merge_patch(
        "v1", "Namespace", None, namespace, {"metadata": {"labels": {ENFORCE: "restricted"}}}
    )
    try:
        platform.internal_clients(namespace)
        yield platform, namespace
    finally:
        platform.delete_namespace(namespace)
        platform.close()


def _exec(platform: KubernetesPlatform, namespace: str, argv: list[str]) -> str:
    return platform.kube.exec(namespace, client_pod.POD_NAME, client_pod.CONTAINER, argv, "", 30)


def test_the_client_pod_is_admitted_under_restricted_and_ready(
    restricted: tuple[KubernetesPlatform, str],
) -> None:
    platform, namespace = restricted
    labels = platform.kube.get("v1", "Namespace", None, namespace)["metadata"]["labels"]  # type: ignore[index]
    assert labels[ENFORCE] == "restricted"
    pod = platform.kube.get("v1", "Pod", namespace, client_pod.POD_NAME) or {}
    ready = [c for c in pod["status"]["conditions"] if c["type"] == "Ready"]
    assert ready and ready[0]["status"] == "True"


def test_the_client_pod_runs_as_its_uid(restricted: tuple[KubernetesPlatform, str]) -> None:
    platform, namespace = restricted
    assert _exec(platform, namespace, ["id", "-u"]).strip() == str(client_pod.RUN_AS_USER)
    assert _exec(platform, namespace, ["id", "-g"]).strip() != "0"


def test_the_same_namespace_refuses_a_pod_running_as_root(restricted: tuple[KubernetesPlatform, str]) -> None:
    """The enforcement the client pod passed is real: a root pod in that namespace is refused."""
    platform, namespace = restricted
    rooted = workloads.sleeper_pod(workloads.unique("root"), namespace)
    rooted["spec"]["securityContext"] = {"runAsUser": 0}
    with pytest.raises(KconformError, match="violates PodSecurity"):
        platform.apply(rooted)


def test_the_client_pod_imports_the_harness_kafka_python_from_a_plain_python_image(
    restricted: tuple[KubernetesPlatform, str],
) -> None:
    platform, namespace = restricted
    version = metadata.version("kafka-python")  # the release this process runs, shipped by kconform
    out = _exec(platform, namespace, ["python", "-c", "import kafka; print(kafka.__version__)"])
    assert out.strip() == version


def test_a_client_request_runs_the_shipped_code_and_comes_back_typed(
    restricted: tuple[KubernetesPlatform, str],
) -> None:
    """A request through the pod to a bootstrap address nothing listens on: the shipped client code in the
    pod maps kafka-python's failure to BrokerUnreachable, which crosses the exec boundary typed."""
    platform, namespace = restricted
    runner = platform.internal_clients(namespace)
    closed = Endpoint("127.0.0.1:9", tls=False)
    with pytest.raises(BrokerUnreachable):
        runner.run(request("list_topics", closed, None, timeout_s=5))
