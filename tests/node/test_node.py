"""The node itself: the pinned versions, where node ports are reached, and that it stays in its namespaces."""

from __future__ import annotations

import http.server
import subprocess
import threading

import pytest

from kconform.platforms.kubernetes import client_pod, external
from kconform.platforms.kubernetes.kube import Kube
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from tests.apiserver import build as apiserver_build
from tests.node import configs
from tests.node.cluster import Node

pytestmark = pytest.mark.node


def test_the_node_runs_the_pinned_kubernetes_on_debians_containerd(kube: Kube) -> None:
    version = apiserver_build.kubernetes_version()
    assert kube.server_version() == version.lstrip("v")
    info = kube.get("v1", "Node", None, configs.NODE_NAME)["status"]["nodeInfo"]  # type: ignore[index]
    assert info["kubeletVersion"] == version
    assert info["containerRuntimeVersion"].startswith("containerd://1.6."), info


def test_strimzis_address_rule_picks_the_node_ip_and_the_platform_uses_it(
    node: Node, kube: Kube, platform: KubernetesPlatform
) -> None:
    """The NodePort address kconform derives from the real Node (Strimzi's preferred-type rule) is the node IP,
    and `--external-host` on provider existing hands the platform that same address."""
    host, how = external.external_host_from_nodes(kube.list_objects("v1", "Node"))
    assert host == node.node_ip, how
    assert platform.external_host() == node.node_ip


def test_kube_proxy_and_cni_rules_stay_out_of_the_hosts_iptables(
    node: Node, platform: KubernetesPlatform, namespace: str
) -> None:
    platform.internal_clients(namespace)  # a pod: the CNI plugins have made their rules
    inside = node.sandbox.run(["iptables-save", "-t", "nat"], "reading the node's nat table")
    outside = subprocess.run(
        ["iptables-save", "-t", "nat"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    assert "KUBE-SERVICES" in inside and "CNI-" in inside
    assert "KUBE-" not in outside and "CNI-" not in outside


def test_the_node_has_no_route_off_this_machine(node: Node) -> None:
    routes = node.sandbox.run(["ip", "-4", "route"], "reading the node's routes")
    assert "default" not in routes, routes
    assert "dev kc0" in routes and node.node_ip in routes


def test_a_pod_cannot_reach_past_the_machine(platform: KubernetesPlatform, namespace: str) -> None:
    """192.0.2.1 (this machine's gateway, outside the node) is unreachable from a pod: there is no route."""
    platform.internal_clients(namespace)  # starts the namespace's client pod, used here as any pod
    probe = (
        "import socket\n"
        "try:\n socket.create_connection(('192.0.2.1', 80), timeout=3); print('connected')\n"
        "except OSError as e:\n print(type(e).__name__, e.errno)\n"
    )
    out = platform.kube.exec(
        namespace, client_pod.POD_NAME, client_pod.CONTAINER, ["python", "-c", probe], "", 30
    )
    assert "connected" not in out and out.strip(), out


class _Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"the host answered"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_pods_reach_the_host_at_the_host_side_of_the_veth(
    node: Node, platform: KubernetesPlatform, namespace: str
) -> None:
    """What the broker tests rely on: a listener of this machine on the veth's host address answers pods."""
    server = http.server.ThreadingHTTPServer((node.host_ip, 0), _Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://{node.host_ip}:{server.server_address[1]}/"
        assert platform.try_from_outside(namespace, url) is None
    finally:
        server.shutdown()
        server.server_close()
