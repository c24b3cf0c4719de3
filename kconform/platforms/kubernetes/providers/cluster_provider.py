"""The cluster provider interface: create, find, reuse and delete the Kubernetes cluster a run uses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from kconform.platforms.kubernetes.fingerprint import Fingerprint
from kconform.platforms.kubernetes.settings import KubeSettings


@dataclass(frozen=True)
class ClusterInfo:
    """How to reach a cluster once it exists."""

    context: str | None  # kubeconfig context; None with a provider-written kubeconfig's current context
    kubeconfig: str | None  # path of a kubeconfig file; None for the user's default
    external_host: str  # where node ports are reachable from this machine
    created: bool  # False when an existing cluster was reused


class ClusterProvider(Protocol):
    name: str
    settings: KubeSettings
    tools: tuple[str, ...]  # executables it runs (docker is checked separately)
    docker: bool  # needs the Docker engine
    creates_cluster: bool  # False: uses the user's cluster as it is (a kubeconfig context), finds its Strimzi
    ephemeral: bool  # its cluster cannot be reused: removed at the end of the run unless --keep

    def __init__(self, settings: KubeSettings) -> None: ...

    def cluster_config(self) -> tuple[dict[str, Any], Path] | None:
        """The config file `create` writes (shown by `kconform plan`) and where, if it writes one."""
        ...

    def check_environment(self) -> None:
        """What it needs beyond its tools and the Docker engine (MissingPrerequisite, one line)."""
        ...

    def kept_note(self) -> str:
        """With --keep, how to remove an ephemeral cluster by hand."""
        ...

    def required_tools(self) -> tuple[str, ...]:
        """Executables this provider runs (docker is checked separately)."""
        ...

    def needs_docker(self) -> bool: ...

    def commands_for_create(self) -> list[list[str]]:
        """The exact argv lists `create` runs, in order (shown by `kconform plan`)."""
        ...

    def create(self) -> ClusterInfo: ...

    def exists(self) -> bool: ...

    def delete(self) -> None: ...

    def kubeconfig_context(self) -> str | None: ...

    def fingerprint(self) -> Fingerprint: ...

    def info(self) -> ClusterInfo:
        """How to reach the (already existing) cluster."""
        ...


def version_from_image(image: str | None) -> str | None:
    """`kindest/node:v1.35.0@sha256:...` or `rancher/k3s:v1.31.4-k3s1` -> `1.35.0` / `1.31.4`."""
    if not image or ":" not in image:
        return None
    tag = image.split("@", 1)[0].rsplit(":", 1)[1]
    return tag.lstrip("v").split("-", 1)[0] or None
