"""What the kubernetes platform needs to know: one frozen settings object, validated on creation."""

from __future__ import annotations

from dataclasses import dataclass, field

from kconform.config import RunConfig
from kconform.errors import UsageError
from kconform.versions import KRAFT, PROVIDERS, Profile, check_mode

INSTALL_METHODS = ("helm", "yaml")
DEFAULT_CLIENT_IMAGE = "python:3.11-slim"
# Fixed NodePorts: kind maps each one to the same port on 127.0.0.1 (extraPortMappings need fixed ports),
# k3s binds them the same way. The first is a listener's bootstrap, the rest its brokers.
FIXED_NODE_PORTS: tuple[int, ...] = tuple(range(32100, 32108))


@dataclass(frozen=True)
class KubeSettings:
    profile: Profile
    run_id: str
    provider: str = "kind"
    mode: str = KRAFT
    install: str = "helm"
    cluster_name: str = "kconform"
    context: str | None = None  # kubeconfig context (provider `existing`, or to override)
    kubeconfig: str | None = None
    kubernetes_version: str | None = None  # None: the profile's newest pinned node image
    operator_namespace: str = "strimzi"
    watch_namespaces: tuple[str, ...] = ()  # empty: the operator watches every namespace
    keep_cluster: bool = False
    client_image: str = DEFAULT_CLIENT_IMAGE
    client_pip_install: bool = True  # False for an air-gapped image that already has kafka-python
    k3s_image: str | None = None
    node_ports: tuple[int, ...] = field(default=FIXED_NODE_PORTS)
    external_host: str | None = None  # where this machine reaches node ports (provider existing)

    @classmethod
    def from_run_config(cls, config: RunConfig, profile: Profile, mode: str) -> KubeSettings:
        """The settings of one run's cluster, from the run's configuration."""
        return cls(
            profile=profile,
            run_id=config.run_id,
            provider=config.provider or "kind",
            mode=mode,
            install=config.install,
            context=config.context,
            kubernetes_version=config.kubernetes,
            keep_cluster=config.keep,
            external_host=config.external_host,
        )

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise UsageError(f"unknown provider {self.provider!r}; choose one of: {', '.join(PROVIDERS)}")
        if self.install not in INSTALL_METHODS:
            raise UsageError(f"unknown install method {self.install!r}; choose one of: helm, yaml")
        check_mode(self.profile, self.mode)
        if self.provider == "existing" and not self.context:
            raise UsageError("provider 'existing' needs a kubeconfig context: pass --context NAME")
