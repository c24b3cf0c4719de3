"""kind: a control-plane and two workers in Docker, node ports mapped to 127.0.0.1 at fixed ports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kconform import options, progress
from kconform.errors import PlatformError, UsageError
from kconform.paths import MANIFESTS_DIR, cache_dir
from kconform.platforms.kubernetes import shell
from kconform.platforms.kubernetes.fingerprint import Fingerprint
from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo, version_from_image
from kconform.platforms.kubernetes.settings import KubeSettings

TEMPLATE = MANIFESTS_DIR / "kind" / "cluster.yaml"
LISTEN_ADDRESS = "127.0.0.1"


NODE_IMAGE_ENV = "KCONFORM_KIND_NODE_IMAGE"


def node_image(settings: KubeSettings) -> str | None:
    """The pinned node image for the requested Kubernetes version (newest pinned one by default).

    KCONFORM_KIND_NODE_IMAGE replaces it (a mirror of the same image, or a test's unpullable image).
    """
    override = options.setting(NODE_IMAGE_ENV)
    if override:
        return override
    images = settings.profile.kind_node_images
    if settings.kubernetes_version is None:
        return images[-1].image if images else None
    for pinned in images:
        if pinned.kubernetes == settings.kubernetes_version or pinned.kubernetes.startswith(
            settings.kubernetes_version + "."
        ):
            return pinned.image
    choices = ", ".join(i.kubernetes for i in images) or "none pinned"
    raise UsageError(
        f"no kind node image pinned for Kubernetes {settings.kubernetes_version} with Strimzi "
        f"{settings.profile.strimzi}; choose one of: {choices}"
    )


def render_config(settings: KubeSettings) -> dict[str, Any]:
    """The kind Cluster config: the template's topology plus the node image and the fixed port mappings."""
    config: dict[str, Any] = yaml.safe_load(TEMPLATE.read_text())
    image = node_image(settings)
    mappings = [
        {"containerPort": port, "hostPort": port, "listenAddress": LISTEN_ADDRESS, "protocol": "TCP"}
        for port in settings.node_ports
    ]
    for node in config["nodes"]:
        if image:
            node["image"] = image
        # With externalTrafficPolicy Cluster any node forwards a NodePort, so the control plane suffices.
        if node["role"] == "control-plane":
            node["extraPortMappings"] = mappings
    return config


class KindProvider:
    name = "kind"
    tools: tuple[str, ...] = ("kind",)
    docker = True
    creates_cluster = True
    ephemeral = False

    def __init__(self, settings: KubeSettings, config_dir: Path | None = None) -> None:
        self.settings = settings
        self.config_path = (config_dir or cache_dir() / "kind") / f"{settings.cluster_name}.yaml"

    def required_tools(self) -> tuple[str, ...]:
        return self.tools

    def needs_docker(self) -> bool:
        return self.docker

    def cluster_config(self) -> tuple[dict[str, Any], Path] | None:
        return render_config(self.settings), self.config_path

    def check_environment(self) -> None:
        """Nothing beyond its tools and the Docker engine."""

    def kept_note(self) -> str:
        return ""  # always kept: reused by the next run with the same fingerprint

    def kubeconfig_context(self) -> str:
        return f"kind-{self.settings.cluster_name}"

    def commands_for_create(self) -> list[list[str]]:
        return [
            [
                "kind",
                "create",
                "cluster",
                "--name",
                self.settings.cluster_name,
                "--config",
                str(self.config_path),
                "--wait",
                "300s",
            ]
        ]

    def write_config(self) -> Path:
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(render_config(self.settings), sort_keys=False))
        return self.config_path

    def create(self) -> ClusterInfo:
        """Create the cluster, showing kind's progress lines (node image pull, control plane, workers).

        kind gives up on an image it cannot pull within seconds and removes its node containers when
        creation fails (`--retain` is not passed), so a failure leaves nothing behind.
        """
        self.write_config()
        seen: list[str] = []
        for argv in self.commands_for_create():

            def show(line: str) -> None:
                seen.append(line)
                progress.report(f"kind: {line.strip()}")

            try:
                shell.stream(argv, timeout=self.settings.budget.create_cluster, on_line=show)
            except PlatformError as err:
                self.config_path.unlink(missing_ok=True)  # no cluster: its config is not kept either
                # kind's own "ERROR: ..." line says what went wrong (e.g. the node image pull): lead with it.
                errors = [line.strip() for line in seen if line.strip().startswith("ERROR:")]
                reason = errors[-1] if errors else str(err).splitlines()[0]
                raise PlatformError(
                    f"kind could not create cluster {self.settings.cluster_name}: {reason}\n{err}"
                ) from err
        return ClusterInfo(self.kubeconfig_context(), None, LISTEN_ADDRESS, created=True)

    def info(self) -> ClusterInfo:
        return ClusterInfo(self.kubeconfig_context(), None, LISTEN_ADDRESS, created=False)

    def exists(self) -> bool:
        names = shell.run(["kind", "get", "clusters"], timeout=60).split()
        return self.settings.cluster_name in names

    def delete(self) -> None:
        shell.run(["kind", "delete", "cluster", "--name", self.settings.cluster_name], timeout=300)
        self.config_path.unlink(missing_ok=True)

    def fingerprint(self) -> Fingerprint:
        image = node_image(self.settings)
        return Fingerprint(
            provider=self.name,
            kubernetes=version_from_image(image) or "kind-default",
            node_image=image or "kind-default",
            strimzi=self.settings.profile.strimzi,
        )
