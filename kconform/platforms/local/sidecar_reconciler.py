"""The bridge sidecar pod: its bridge container becomes a bridge process on this machine (sidecar.start_bridge),
Ready when the bridge answers its readiness endpoint, and stopped with the pod."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kconform.platforms.local import sidecar
from kconform.platforms.local.java import find_java
from kconform.platforms.local.processes import ProcessSupervisor
from kconform.secrets import SecretData
from kconform.versions import Profile


@dataclass(frozen=True)
class SidecarPod:
    """A sidecar pod as desired: the Pod and the ConfigMap holding its bridge's properties."""

    namespace: str
    pod: dict[str, Any]
    config_map: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.pod["metadata"]["name"])


class SidecarReconciler:
    kind = "Pod"

    def __init__(
        self,
        profile: Profile,
        supervisor: ProcessSupervisor,
        work_dir: Path,
        read_secret: Callable[[str, str], SecretData],
        resolve_service: Callable[[str, str], str],
    ) -> None:
        self.profile = profile
        self.supervisor = supervisor
        self.work_dir = work_dir
        self.read_secret = read_secret
        self.resolve_service = resolve_service
        self.running: dict[tuple[str, str], sidecar.RunningSidecar] = {}

    def reconcile(self, desired: SidecarPod, timeout: float) -> sidecar.RunningSidecar:
        namespace = desired.namespace
        java = find_java(self.profile.bridge_java)
        running = sidecar.start_bridge(
            name=desired.name,
            pod=desired.pod,
            config_map=desired.config_map,
            version=self.profile.bridge_version,
            java=java,
            supervisor=self.supervisor,
            work_dir=self.work_dir / namespace,
            read_secret=lambda secret: self.read_secret(namespace, secret),
            resolve_bootstrap=lambda servers: self.resolve_service(namespace, servers),
            timeout=timeout,
        )
        self.running[(namespace, desired.name)] = running
        return running

    def delete(self, desired: SidecarPod) -> None:
        self.stop(desired.namespace, desired.name)

    def stop(self, namespace: str, name: str) -> None:
        running = self.running.pop((namespace, name), None)
        if running:
            running.stop()
