"""Pods and Services the node tests run: restricted-compliant, from the node's own images (tests/node/images.py)."""

from __future__ import annotations

import uuid
from typing import Any

from kconform.platforms.kubernetes.kube import Kube
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.waits import wait_until
from tests.node import images

NOBODY = images.NOBODY
HTTP_PORT = 8080
ALL_ADDRESSES = "0.0.0.0"  # noqa: S104 - a pod's own addresses
POD_READY_TIMEOUT_S = 120.0
# Answers every GET with "<greeting> <path>" (the greeting tells servers apart); binds where it is told.
HTTP_SERVER = (
    "import http.server,sys\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        body=(sys.argv[2]+' '+self.path).encode()\n"
    "        self.send_response(200); self.send_header('Content-Length',str(len(body))); self.end_headers()\n"
    "        self.wfile.write(body)\n"
    "    def log_message(self,*a): pass\n"
    "http.server.ThreadingHTTPServer((sys.argv[1],int(sys.argv[3])),H).serve_forever()\n"
)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def restricted_container(name: str, image: str, command: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "command": command,
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    }


def restricted_pod(
    name: str,
    namespace: str,
    containers: list[dict[str, Any]],
    *,
    labels: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """A Pod that Pod Security "restricted" admits: non-root uid, RuntimeDefault seccomp, no capabilities."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": NOBODY,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": containers,
            **spec,
        },
    }


def http_server_pod(
    name: str,
    namespace: str,
    *,
    greeting: str,
    bind: str = ALL_ADDRESSES,
    labels: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    command = ["python3", "-c", HTTP_SERVER, bind, greeting, str(HTTP_PORT)]
    container = restricted_container("web", images.PYTHON.reference, command)
    # Ready once it listens (the kubelet probes a pod's IP, so a loopback-only server is probed from inside).
    probe: dict[str, Any] = (
        {
            "exec": {
                "command": [
                    "python3",
                    "-c",
                    f"import socket; socket.create_connection(('127.0.0.1', {HTTP_PORT}))",
                ]
            }
        }
        if bind == "127.0.0.1"
        else {"tcpSocket": {"port": HTTP_PORT}}
    )
    container["readinessProbe"] = {**probe, "periodSeconds": 1}
    return restricted_pod(name, namespace, [container], labels=labels, **spec)


def sleeper_pod(name: str, namespace: str) -> dict[str, Any]:
    command = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
    return restricted_pod(name, namespace, [restricted_container("main", images.PYTHON.reference, command)])


def service(
    name: str,
    namespace: str,
    selector: dict[str, str],
    *,
    node_port: int | None = None,
    headless: bool = False,
) -> dict[str, Any]:
    port: dict[str, Any] = {"name": "http", "port": HTTP_PORT, "targetPort": HTTP_PORT, "protocol": "TCP"}
    spec: dict[str, Any] = {"selector": selector, "ports": [port]}
    if node_port is not None:
        spec["type"] = "NodePort"
        port["nodePort"] = node_port
    if headless:
        spec["clusterIP"] = "None"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def start_pods(platform: KubernetesPlatform, pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Apply the pods through the platform (tracked, so its namespace deletion removes them); wait until
    every one is Ready; return them as the API server has them (with their IPs)."""
    for pod in pods:
        platform.apply(pod)
    for pod in pods:
        platform.wait_pod_ready(pod["metadata"]["namespace"], pod["metadata"]["name"], POD_READY_TIMEOUT_S)
    return [
        platform.kube.get("v1", "Pod", p["metadata"]["namespace"], p["metadata"]["name"]) or {} for p in pods
    ]


def wait_endpoints(kube: Kube, namespace: str, service_name: str, count: int, timeout: float = 60) -> None:
    """Until the Service's EndpointSlices name `count` ready addresses (the endpoint controller's work)."""

    def ready_addresses() -> int:
        slices = kube.list_objects(
            "discovery.k8s.io/v1",
            "EndpointSlice",
            namespace,
            label_selector=f"kubernetes.io/service-name={service_name}",
        )
        return sum(
            len(e.get("addresses") or [])
            for s in slices
            for e in s.get("endpoints") or []
            if (e.get("conditions") or {}).get("ready")
        )

    wait_until(
        lambda: ready_addresses() >= count,
        describe=f"Service {namespace}/{service_name} to have {count} ready endpoints",
        timeout=timeout,
        interval=0.5,
        diagnose=lambda: f"ready addresses: {ready_addresses()}",
    )
