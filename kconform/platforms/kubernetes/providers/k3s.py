"""k3s in one Docker container through testcontainers' K3SContainer; node ports bound 1:1 on the host.

The container lives as long as this process (testcontainers reaps it), so a k3s cluster is never reused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kconform.errors import MissingPrerequisite
from kconform.paths import cache_dir
from kconform.platforms.kubernetes.fingerprint import Fingerprint
from kconform.platforms.kubernetes.providers.base import ClusterInfo, version_from_image
from kconform.platforms.kubernetes.settings import KubeSettings

K3S_API_PORT = 6443  # K3SContainer.KUBE_SECURE_PORT
K3S_CONTEXT = "default"  # the context name in k3s.yaml


def image(settings: KubeSettings) -> str:
    if settings.k3s_image:
        return settings.k3s_image
    if settings.kubernetes_version:
        return f"rancher/k3s:v{settings.kubernetes_version.lstrip('v')}-k3s1"
    raise MissingPrerequisite(
        "provider k3s needs a pinned image: pass --k3s-image rancher/k3s:<tag> or --kubernetes-version X.Y.Z"
    )


class K3sProvider:
    name = "k3s"

    def __init__(self, settings: KubeSettings) -> None:
        self.settings = settings
        self.kubeconfig_path = cache_dir() / "k3s" / f"{settings.cluster_name}-{settings.run_id}.yaml"
        self._container: Any = None

    def required_tools(self) -> tuple[str, ...]:
        return ()

    def needs_docker(self) -> bool:
        return True

    def kubeconfig_context(self) -> str:
        return K3S_CONTEXT

    def commands_for_create(self) -> list[list[str]]:
        # What K3SContainer.start() asks Docker for (testcontainers runs it through the Docker API).
        ports: list[str] = []
        for port in self.settings.node_ports:
            ports += ["-p", f"{port}:{port}"]
        return [
            [
                "docker",
                "run",
                "--privileged",
                "--tmpfs",
                "/run",
                "--tmpfs",
                "/var/run",
                "-v",
                "/sys/fs/cgroup:/sys/fs/cgroup:rw",
                "-p",
                str(K3S_API_PORT),
                *ports,
                image(self.settings),
                "server",
                "--disable",
                "traefik",
            ]
        ]

    def create(self) -> ClusterInfo:
        from testcontainers.community.k3s import K3SContainer  # imported late: pulls in the docker SDK

        container = K3SContainer(image=image(self.settings))
        for port in self.settings.node_ports:
            container.with_bind_ports(port, port)
        container.start()
        self._container = container
        self.kubeconfig_path.parent.mkdir(parents=True, exist_ok=True)
        self.kubeconfig_path.write_text(container.config_yaml())
        self.kubeconfig_path.chmod(0o600)
        return self.info(created=True)

    def info(self, created: bool = False) -> ClusterInfo:
        host = self._container.get_container_host_ip() if self._container else "127.0.0.1"
        return ClusterInfo(K3S_CONTEXT, str(self.kubeconfig_path), host, created=created)

    def exists(self) -> bool:
        return self._container is not None

    def delete(self) -> None:
        if self._container is not None:
            self._container.stop()
            self._container = None
        Path(self.kubeconfig_path).unlink(missing_ok=True)

    def fingerprint(self) -> Fingerprint:
        img = image(self.settings)
        return Fingerprint(
            self.name, version_from_image(img) or "unknown", img, self.settings.profile.strimzi
        )
