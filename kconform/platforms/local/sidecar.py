"""The bridge sidecar, realised with the real Strimzi HTTP bridge as a process on this machine.

On Kubernetes the seed's pod has an application container and a bridge container sharing the pod's
loopback. Here the pod boundary is the machine: the test process is the application container, the bridge
is started from its release distribution with the pod's properties (from the ConfigMap) and the pod's
environment (from the Secrets), exactly as the bridge container would be.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from kconform import strimzi_contract as contract
from kconform.errors import UsageError
from kconform.java_properties import parse_properties, render_properties
from kconform.platforms.local.bridge_download import ensure_bridge
from kconform.platforms.local.java import JavaRuntime
from kconform.platforms.local.pki import write_pem
from kconform.platforms.local.ports import free_ports, release
from kconform.platforms.local.processes import ManagedProcess, ProcessSupervisor
from kconform.secrets import text as secret_text
from kconform.waits import wait_until


def uses_management_port(version: str) -> bool:
    """Bridge 1.0.0 moved /healthy and /ready to a management port (8081) answering 200."""
    return contract.bridge_uses_management_port(version)


@dataclass
class RunningSidecar:
    name: str
    process: ManagedProcess
    http_port: int
    ready_url: str
    management_url: str | None  # None for bridges before 1.0.0: their /healthy and /ready are on http_port
    reserved_ports: tuple[int, ...]  # ports.free_ports chose them; released when the process is stopped

    def stop(self) -> None:
        self.process.stop()
        release(self.reserved_ports)


def container_env(
    container: Mapping[str, Any], read_secret: Callable[[str], Mapping[str, bytes]]
) -> dict[str, str]:
    """The container's environment with `valueFrom.secretKeyRef` resolved from the namespace's Secrets."""
    env: dict[str, str] = {}
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = str(item["value"])
            continue
        ref = (item.get("valueFrom") or {}).get("secretKeyRef")
        if ref is None:
            raise UsageError(
                f"env {item['name']}: only value and valueFrom.secretKeyRef are realised locally"
            )
        data = read_secret(ref["name"])
        if ref["key"] not in data:
            raise UsageError(f"env {item['name']}: Secret {ref['name']} has no key {ref['key']!r}")
        # An environment variable holds text; the kubelet would pass binary keys through as bytes.
        env[item["name"]] = secret_text(data, ref["key"], source=f"Secret {ref['name']}")
    return env


def start_bridge(
    *,
    name: str,
    pod: Mapping[str, Any],
    config_map: Mapping[str, Any],
    version: str,
    java: JavaRuntime,
    supervisor: ProcessSupervisor,
    work_dir: Path,
    read_secret: Callable[[str], Mapping[str, bytes]],
    resolve_bootstrap: Callable[[str], str],
    timeout: float,
) -> RunningSidecar:
    """Start the pod's bridge container as a process and wait until its readiness endpoint answers."""
    containers = pod["spec"]["containers"]
    bridge = next((c for c in containers if "kafka-bridge" in c.get("image", "")), None)
    if bridge is None:
        raise UsageError(f"pod {name} has no container running a quay.io/strimzi/kafka-bridge image")
    properties_text = next(iter((config_map.get("data") or {}).values()), None)
    if properties_text is None:
        raise UsageError(f"ConfigMap {config_map['metadata']['name']} has no bridge properties")
    props = parse_properties(properties_text)
    if props.get("http.host", "0.0.0.0") != "127.0.0.1":  # noqa: S104 - comparing, not binding
        raise UsageError("the sidecar bridge must set http.host=127.0.0.1 (localhost only), as the seed does")
    # The pod's own ports would not collide; on a shared machine they must be free ones.
    http_port, management_port = free_ports(2)
    started: ManagedProcess | None = None
    try:
        props["http.port"] = str(http_port)
        if uses_management_port(version):
            props["http.management.port"] = str(management_port)
        props["kafka.bootstrap.servers"] = resolve_bootstrap(props["kafka.bootstrap.servers"])

        pod_dir = work_dir / name
        pod_dir.mkdir(parents=True, exist_ok=True)
        config_path = write_pem(pod_dir / "bridge.properties", render_properties(props))
        home = ensure_bridge(version)  # normally found: the preflight fetched it before any test
        env = {
            "PATH": f"{java.home / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            "JAVA_HOME": str(java.home),
            "HOME": os.environ.get("HOME", str(pod_dir)),
            **container_env(bridge, read_secret),
        }
        shell = shutil.which("bash") or "/bin/sh"
        argv = [shell, str(home / "bin" / "kafka_bridge_run.sh"), f"--config-file={config_path}"]
        process = started = supervisor.start(f"{name}-bridge", argv, env=env, cwd=home)
        ready_port, ready_path, ready_status = contract.bridge_readiness(version, http_port, management_port)
        ready_url = f"http://127.0.0.1:{ready_port}{ready_path}"

        def answered() -> bool:
            process.ensure_alive()
            return httpx.get(ready_url, timeout=2).status_code == ready_status

        wait_until(
            answered,
            describe=f"bridge {version} of pod {name} to answer {ready_status} on {ready_url}",
            timeout=timeout,
            retry_on=(httpx.TransportError,),
            diagnose=lambda: f"bridge log tail:\n{process.tail(30)}",
        )
    except BaseException:
        if started is not None:
            started.stop()  # a bridge that never became ready must not outlive its pod's start
        release([http_port, management_port])
        raise
    return RunningSidecar(
        name=name,
        process=process,
        http_port=http_port,
        ready_url=ready_url,
        management_url=management_url(version, management_port),
        reserved_ports=(http_port, management_port),
    )


def management_url(version: str, management_port: int) -> str | None:
    """Where a client finds /healthy and /ready apart from the API: the management port for bridge >=1.0.0,
    else None, as `Sidecar.management_url` means (the main port answers them, with 204)."""
    return f"http://127.0.0.1:{management_port}" if uses_management_port(version) else None


def own_interface_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses: where a localhost-only bridge must NOT answer."""
    try:
        out = subprocess.run(
            ["ip", "-o", "-4", "addr", "show", "scope", "global"], capture_output=True, text=True, timeout=5
        ).stdout
        found = re.findall(r"inet (\d+\.\d+\.\d+\.\d+)/", out)
    except (OSError, subprocess.TimeoutExpired):
        found = []
    if not found:
        try:
            out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
            found = [a for a in out.split() if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", a)]
        except (OSError, subprocess.TimeoutExpired):
            found = []
    return [a for a in found if not a.startswith("127.")]
