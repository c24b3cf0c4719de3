"""minikube with the docker driver; NodePorts are reached at `minikube ip`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kconform import progress
from kconform.platforms.kubernetes import shell
from kconform.platforms.kubernetes.fingerprint import Fingerprint
from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo, version_from_image
from kconform.platforms.kubernetes.settings import KubeSettings

CREATE_TIMEOUT_S = 900.0


def kubernetes_version(settings: KubeSettings) -> str:
    """minikube wants a full version; default to the Kubernetes of the profile's newest pinned kind image."""
    if settings.kubernetes_version:
        return settings.kubernetes_version
    images = settings.profile.kind_node_images
    return (version_from_image(images[-1].image) if images else None) or "stable"


class MinikubeProvider:
    name = "minikube"
    tools: tuple[str, ...] = ("minikube",)
    docker = True
    creates_cluster = True
    ephemeral = False

    def __init__(self, settings: KubeSettings) -> None:
        self.settings = settings

    def required_tools(self) -> tuple[str, ...]:
        return self.tools

    def needs_docker(self) -> bool:
        return self.docker

    def cluster_config(self) -> tuple[dict[str, Any], Path] | None:
        return None

    def check_environment(self) -> None:
        """Nothing beyond its tools and the Docker engine."""

    def kept_note(self) -> str:
        return ""  # always kept: reused by the next run with the same fingerprint

    def kubeconfig_context(self) -> str:
        return self.settings.cluster_name  # minikube names the context after the profile

    def _version_flag(self) -> str:
        version = kubernetes_version(self.settings)
        return version if version == "stable" else f"v{version.lstrip('v')}"

    def commands_for_create(self) -> list[list[str]]:
        return [
            [
                "minikube",
                "start",
                "--profile",
                self.settings.cluster_name,
                "--driver",
                "docker",
                "--kubernetes-version",
                self._version_flag(),
                "--cpus",
                "2",
                "--memory",
                "6g",
                "--wait",
                "all",
            ]
        ]

    def _ip(self) -> str:
        return shell.run(["minikube", "ip", "--profile", self.settings.cluster_name], timeout=60).strip()

    def create(self) -> ClusterInfo:
        for argv in self.commands_for_create():
            shell.stream(
                argv,
                timeout=max(CREATE_TIMEOUT_S, self.settings.budget.create_cluster),
                on_line=lambda line: progress.report(f"minikube: {line.strip()}"),
            )
        return ClusterInfo(self.kubeconfig_context(), None, self._ip(), created=True)

    def info(self) -> ClusterInfo:
        return ClusterInfo(self.kubeconfig_context(), None, self._ip(), created=False)

    def exists(self) -> bool:
        listing = json.loads(
            shell.run(["minikube", "profile", "list", "--output", "json"], timeout=60) or "{}"
        )
        names = {p.get("Name") for p in listing.get("valid") or []}
        return self.settings.cluster_name in names

    def delete(self) -> None:
        shell.run(["minikube", "delete", "--profile", self.settings.cluster_name], timeout=300)

    def fingerprint(self) -> Fingerprint:
        version = kubernetes_version(self.settings)
        return Fingerprint(self.name, version, f"minikube-docker:{version}", self.settings.profile.strimzi)
