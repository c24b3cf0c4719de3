"""Services on a real node: NodePorts reached from this machine where kconform says they are (`--external-host`),
ClusterIPs through kube-proxy, and the cluster DNS names Strimzi's listeners are built on (CoreDNS): a
Service's name, and each pod's name under a headless Service (hostname + subdomain, as Strimzi's broker pods
have them)."""

from __future__ import annotations

import json

import httpx
import pytest

from kconform.platforms.kubernetes import client_pod
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.waits import wait_until
from tests.node import configs, workloads

pytestmark = pytest.mark.node
RESOLVE = (
    "import json,socket,sys\n"
    "out={}\n"
    "for name in sys.argv[1:]:\n"
    "    try: out[name]=sorted({a[4][0] for a in socket.getaddrinfo(name,80,socket.AF_INET,socket.SOCK_STREAM)})\n"
    "    except OSError as e: out[name]='error: '+type(e).__name__\n"
    "print(json.dumps(out))\n"
)
FQDN = f"svc.{configs.CLUSTER_DOMAIN}"


@pytest.fixture(scope="module")
def backends(platform: KubernetesPlatform, namespace: str) -> dict[str, str]:
    """Two web pods behind a NodePort Service, and the same pods as members of a headless Service:
    pod name -> pod IP."""
    labels = {"app": "web"}
    pods = [
        workloads.http_server_pod(
            f"web-{i}",
            namespace,
            greeting=f"web-{i}",
            labels=labels,
            hostname=f"web-{i}",
            subdomain="members",
        )
        for i in range(2)
    ]
    platform.apply(workloads.service("web", namespace, labels, node_port=platform.node_ports(2)[1]))
    platform.apply(workloads.service("members", namespace, labels, headless=True))
    started = workloads.start_pods(platform, pods)
    workloads.wait_endpoints(platform.kube, namespace, "web", 2)
    workloads.wait_endpoints(platform.kube, namespace, "members", 2)
    platform.internal_clients(namespace)  # the client pod asks the DNS questions
    ips = {p["metadata"]["name"]: p["status"]["podIP"] for p in started}
    # kube-proxy and CoreDNS follow the EndpointSlices a moment later: wait for both, bounded.
    node_port_url = f"http://{platform.external_host()}:{platform.node_ports(2)[1]}/"
    wait_until(
        lambda: httpx.get(node_port_url, timeout=5).status_code == 200,
        describe=f"kube-proxy to forward node port {node_port_url}",
        timeout=60,
        interval=0.5,
        retry_on=(httpx.TransportError,),
    )
    names = [f"{pod}.members.{namespace}.{FQDN}" for pod in ips] + [f"web.{namespace}.{FQDN}"]
    wait_until(
        lambda: all(isinstance(v, list) for v in _resolve(platform, namespace, *names).values()),
        describe=f"CoreDNS to answer {names}",
        timeout=60,
        interval=1.0,
        diagnose=lambda: str(_resolve(platform, namespace, *names)),
    )
    return ips


def _resolve(platform: KubernetesPlatform, namespace: str, *names: str) -> dict[str, object]:
    out = platform.kube.exec(
        namespace, client_pod.POD_NAME, client_pod.CONTAINER, ["python", "-c", RESOLVE, *names], "", 60
    )
    return dict(json.loads(out.strip().splitlines()[-1]))


def test_a_node_port_answers_this_machine_at_the_external_host(
    platform: KubernetesPlatform, namespace: str, backends: dict[str, str]
) -> None:
    port = platform.node_ports(2)[1]
    url = f"http://{platform.external_host()}:{port}/from-the-host"
    greetings = {httpx.get(url, timeout=10).text for _ in range(12)}
    assert greetings <= {f"{name} /from-the-host" for name in backends} and greetings, greetings


def test_a_cluster_ip_service_answers_a_pod_by_its_dns_name(
    platform: KubernetesPlatform, namespace: str, backends: dict[str, str]
) -> None:
    for name in ("web", f"web.{namespace}", f"web.{namespace}.{FQDN}"):
        assert platform.try_from_outside(namespace, f"http://{name}:{workloads.HTTP_PORT}/") is None, name


def test_a_services_name_resolves_to_its_cluster_ip(
    platform: KubernetesPlatform, namespace: str, backends: dict[str, str]
) -> None:
    cluster_ip = platform.kube.get("v1", "Service", namespace, "web")["spec"]["clusterIP"]  # type: ignore[index]
    assert _resolve(platform, namespace, f"web.{namespace}.{FQDN}") == {
        f"web.{namespace}.{FQDN}": [cluster_ip]
    }


def test_each_pod_under_a_headless_service_has_its_own_name(
    platform: KubernetesPlatform, namespace: str, backends: dict[str, str]
) -> None:
    names = {pod: f"{pod}.members.{namespace}.{FQDN}" for pod in backends}
    answers = _resolve(platform, namespace, *names.values())
    assert answers == {names[pod]: [ip] for pod, ip in backends.items()}


def test_a_headless_services_name_resolves_to_every_ready_pod(
    platform: KubernetesPlatform, namespace: str, backends: dict[str, str]
) -> None:
    name = f"members.{namespace}.{FQDN}"
    assert _resolve(platform, namespace, name) == {name: sorted(backends.values())}


def test_a_name_nobody_serves_does_not_resolve(
    platform: KubernetesPlatform, namespace: str, backends: dict[str, str]
) -> None:
    name = f"nobody.{namespace}.{FQDN}"
    assert _resolve(platform, namespace, name) == {name: "error: gaierror"}


def test_a_pod_reaches_another_pods_headless_name_over_http(
    platform: KubernetesPlatform, namespace: str, backends: dict[str, str]
) -> None:
    url = f"http://web-1.members.{namespace}.{FQDN}:{workloads.HTTP_PORT}/"
    assert platform.try_from_outside(namespace, url) is None
