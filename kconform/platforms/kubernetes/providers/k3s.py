"""k3s in one Docker container through testcontainers' K3SContainer; node ports bound 1:1 on the host.

A k3s cluster is never reused: its container is removed at the end of the run (and by testcontainers' reaper
when the process dies), and a container that could not start is removed at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kconform import progress
from kconform.errors import MissingPrerequisite, PlatformError, UsageError
from kconform.paths import cache_dir
from kconform.platforms.kubernetes.fingerprint import Fingerprint
from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo, version_from_image
from kconform.platforms.kubernetes.settings import KubeSettings

K3S_API_PORT = 6443  # K3SContainer.KUBE_SECURE_PORT
K3S_CONTEXT = "default"  # the context name in k3s.yaml


def image(settings: KubeSettings) -> str:
    """KCONFORM_K3S_IMAGE, else the k3s build of --kubernetes, else of the profile's newest pinned Kubernetes.

    k3s publishes `v<kubernetes>+k3s<n>` as the Docker tag `v<kubernetes>-k3s<n>`; the first build (`k3s1`)
    of each Kubernetes patch release is taken.
    """
    if settings.k3s_image:
        return settings.k3s_image
    version = settings.kubernetes_version
    if version is None:
        images = settings.profile.kind_node_images
        version = images[-1].kubernetes if images else None
    if version is None:
        raise UsageError("provider k3s needs a Kubernetes version: pass --kubernetes X.Y.Z")
    return f"rancher/k3s:v{version.lstrip('v')}-k3s1"


def container_name(settings: KubeSettings) -> str:
    """Unique per run, so a user's own containers and other runs are never touched."""
    return f"{settings.cluster_name}-k3s-{settings.run_id}"


def check_testcontainers(settings: KubeSettings) -> None:
    """testcontainers must know how to reach a container from here, or K3SContainer fails on creation.

    Inside a container (a `/.dockerenv` file) it cannot tell a Docker engine running in this container
    from one on the host; it then asks a container that does not exist yet for its gateway.
    """
    from testcontainers.community.k3s import K3SContainer

    try:
        K3SContainer(image=image(settings))
    except Exception as err:
        raise MissingPrerequisite(
            f"testcontainers cannot tell how to reach Docker containers from here ({err}); set "
            "TESTCONTAINERS_CONNECTION_MODE=docker_host when the Docker engine runs in this container, "
            "or TC_HOST to the engine's address"
        ) from None


class K3sProvider:
    name = "k3s"
    tools: tuple[str, ...] = ()
    docker = True
    creates_cluster = True
    ephemeral = True

    def __init__(self, settings: KubeSettings) -> None:
        self.settings = settings
        self.kubeconfig_path = cache_dir() / "k3s" / f"{settings.cluster_name}-{settings.run_id}.yaml"
        self._container: Any = None

    def required_tools(self) -> tuple[str, ...]:
        return self.tools

    def needs_docker(self) -> bool:
        return self.docker

    def cluster_config(self) -> tuple[dict[str, Any], Path] | None:
        return None

    def check_environment(self) -> None:
        check_testcontainers(self.settings)

    def kept_note(self) -> str:
        return (
            f"--keep: the k3s container stays; remove it with `docker rm -f {container_name(self.settings)}`"
        )

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
                "--name",
                container_name(self.settings),
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

        container = K3SContainer(image=image(self.settings)).with_name(container_name(self.settings))
        for port in self.settings.node_ports:
            container.with_bind_ports(port, port)
        progress.report(f"starting k3s container {container_name(self.settings)} ({image(self.settings)})")
        self._container = container
        try:
            container.start()  # pulls the image, then waits for the node controller's first sync
        except Exception as err:  # the docker SDK and testcontainers raise many types; all mean "not created"
            self.delete()
            raise PlatformError(
                f"k3s container {container_name(self.settings)} ({image(self.settings)}) could not be "
                f"started: {type(err).__name__}: {err}"
            ) from err
        progress.report("k3s is up")
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
            container, self._container = self._container, None
            if container._container is not None:  # started (or created) before the failure
                container.stop()
        Path(self.kubeconfig_path).unlink(missing_ok=True)

    def fingerprint(self) -> Fingerprint:
        img = image(self.settings)
        return Fingerprint(
            self.name, version_from_image(img) or "unknown", img, self.settings.profile.strimzi
        )
