"""An existing cluster named by a kubeconfig context: used as it is, never created or deleted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kconform.errors import UsageError
from kconform.platforms.kubernetes.fingerprint import Fingerprint
from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo
from kconform.platforms.kubernetes.settings import KubeSettings


class ExistingProvider:
    name = "existing"
    tools: tuple[str, ...] = ()
    docker = False
    creates_cluster = False
    ephemeral = False

    def __init__(self, settings: KubeSettings, external_host: str | None = None) -> None:
        self.settings = settings
        # Where this machine reaches node ports: --external-host; empty means the platform takes a node's
        # address by Strimzi's rule (external.external_host_from_nodes).
        self.external_host = external_host or settings.external_host or ""

    def required_tools(self) -> tuple[str, ...]:
        return self.tools

    def needs_docker(self) -> bool:
        return self.docker

    def cluster_config(self) -> tuple[dict[str, Any], Path] | None:
        return None

    def check_environment(self) -> None:
        """Its context and API server are checked by the preflight (connect_existing)."""

    def kept_note(self) -> str:
        return ""  # never created, never removed

    def kubeconfig_context(self) -> str | None:
        return self.settings.context

    def commands_for_create(self) -> list[list[str]]:
        return []

    def create(self) -> ClusterInfo:
        raise UsageError(
            f"provider 'existing' never creates a cluster; check that context {self.settings.context!r} "
            "exists in your kubeconfig (kubectl config get-contexts)"
        )

    def info(self) -> ClusterInfo:
        return ClusterInfo(self.settings.context, self.settings.kubeconfig, self.external_host, created=False)

    def exists(self) -> bool:
        return True

    def delete(self) -> None:
        """Never delete a cluster kconform did not create."""

    def fingerprint(self) -> Fingerprint:
        return Fingerprint(self.name, "existing", "existing", self.settings.profile.strimzi)
