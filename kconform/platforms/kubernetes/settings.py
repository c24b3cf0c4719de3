"""What the kubernetes platform needs to know: one frozen settings object, validated on creation."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from kconform import options
from kconform.errors import UsageError
from kconform.platforms.kubernetes import images
from kconform.runconfig import RunConfig
from kconform.versions import KRAFT, Profile, check_mode

# helm / yaml: kconform installs the pinned Strimzi; installed: test the operator already on the cluster
# (the default, and the only choice without --install, on provider `existing`).
INSTALLED = "installed"
INSTALL_METHODS = ("helm", "yaml", INSTALLED)
DEFAULT_CLIENT_IMAGE = "python:3.11-slim"
NO = frozenset({"0", "false", "no"})
CLIENT_IMAGE_ENV = "KCONFORM_CLIENT_IMAGE"
PIP_INSTALL_ENV = "KCONFORM_CLIENT_PIP_INSTALL"
DEFAULT_CLUSTER_NAME = "kconform"
# Fixed NodePorts: kind maps each one to the same port on 127.0.0.1 (extraPortMappings need fixed ports),
# k3s binds them the same way. The first is a listener's bootstrap, the rest its brokers.
FIXED_NODE_PORTS: tuple[int, ...] = tuple(range(32100, 32108))


@dataclass(frozen=True)
class SetupBudget:
    """Seconds each setup phase may take, sized for a cold CI runner (2 CPUs, every image pulled once).

    Setup runs before the first test, outside pytest-timeout's per-test limit; a phase that runs out says
    which phase it was. `KCONFORM_SETUP_SCALE` multiplies every budget (e.g. 2 for a slow machine).
    """

    create_cluster: float = 900.0  # kind: node image pull (~1 GB) and control plane + 2 workers Ready
    install: float = 600.0  # CRDs applied, chart or release YAML installed
    operator_available: float = 600.0  # operator image pulled, Deployment Available
    # The namespaces an install's end deleted, gone (operator and Kafka pods stopped, each ~30 s grace):
    # awaited by the run that deleted them, and by the next run's preflight if they still go.
    deleted_namespaces: float = 180.0

    @classmethod
    def from_env(cls) -> SetupBudget:
        try:
            scale = float(options.setting("KCONFORM_SETUP_SCALE") or "1")
        except ValueError:
            raise UsageError("KCONFORM_SETUP_SCALE must be a number, e.g. 2") from None
        if scale <= 0:
            raise UsageError("KCONFORM_SETUP_SCALE must be greater than 0")
        base = cls()
        return cls(*(value * scale for value in dataclasses.astuple(base)))


@dataclass(frozen=True)
class KubeSettings:
    profile: Profile
    run_id: str
    provider: str = "kind"
    mode: str = KRAFT
    install: str = "helm"
    cluster_name: str = DEFAULT_CLUSTER_NAME  # env KCONFORM_CLUSTER_NAME
    context: str | None = None  # kubeconfig context (provider `existing`, or to override)
    kubeconfig: str | None = None
    kubernetes_version: str | None = None  # None: the profile's newest pinned node image
    operator_namespace: str = "strimzi"
    # The operator's Deployment: Strimzi's name when kconform installs it; the one found on provider existing
    # (an install other than Strimzi's YAML or chart, e.g. OLM, may name it otherwise).
    operator_deployment: str = "strimzi-cluster-operator"
    watch_namespaces: tuple[str, ...] = ()  # empty: the operator watches every namespace
    # --keep: a k3s container outlives the run (kind and minikube clusters always stay, for reuse).
    keep_cluster: bool = False
    client_image: str = DEFAULT_CLIENT_IMAGE  # the final reference (client_image_from below)
    image_registry: str | None = None  # --image-registry: every image kconform causes to be pulled
    k3s_image: str | None = None  # env KCONFORM_K3S_IMAGE; default from the profile's Kubernetes
    node_ports: tuple[int, ...] = field(default=FIXED_NODE_PORTS)
    budget: SetupBudget = field(default_factory=SetupBudget)
    external_host: str | None = None  # where this machine reaches node ports (provider existing)

    @classmethod
    def from_run_config(cls, config: RunConfig, profile: Profile, mode: str) -> KubeSettings:
        """The settings of one run's cluster, from the run's configuration (and KCONFORM_* variables)."""
        provider = config.provider or "kind"
        install = config.install or (INSTALLED if provider == "existing" else "helm")
        return cls(
            profile=profile,
            run_id=config.run_id,
            provider=provider,
            mode=mode,
            install=install,
            cluster_name=options.setting("KCONFORM_CLUSTER_NAME") or DEFAULT_CLUSTER_NAME,
            context=config.context,
            kubernetes_version=config.kubernetes,
            k3s_image=options.setting("KCONFORM_K3S_IMAGE"),
            budget=SetupBudget.from_env(),
            external_host=config.external_host,
            keep_cluster=config.keep,
            client_image=client_image_from(None, config.image_registry),
            image_registry=config.image_registry,
        )

    def __post_init__(self) -> None:
        if self.provider not in options.PROVIDERS:
            raise UsageError(
                f"unknown provider {self.provider!r}; choose one of: {', '.join(options.PROVIDERS)}"
            )
        if self.install not in INSTALL_METHODS:
            raise UsageError(f"unknown install method {self.install!r}; choose one of: helm, yaml")
        if self.install == INSTALLED and self.provider != "existing":
            raise UsageError(
                f"a {self.provider} cluster is created by kconform and has no Strimzi yet: "
                "use --install helm or --install yaml"
            )
        check_mode(self.profile, self.mode)
        if self.image_registry is not None:
            object.__setattr__(self, "image_registry", images.check_registry(self.image_registry))
        # A run settles the context before its settings are made (--context, else the kubeconfig's current
        # or only one: kubeconfig.chosen_context); settings made without one have no cluster to name.
        if self.provider == "existing" and not self.context:
            raise UsageError("provider 'existing' needs a kubeconfig context: pass --context NAME")
        if not self.cluster_name.replace("-", "").isalnum() or self.cluster_name != self.cluster_name.lower():
            raise UsageError(
                f"cluster name {self.cluster_name!r} must be lower-case letters, digits and '-' "
                "(KCONFORM_CLUSTER_NAME)"
            )

    def strimzi_images(self) -> dict[str, str]:
        return images.strimzi_images(self.profile, self.image_registry)

    @property
    def installs_strimzi(self) -> bool:
        return self.install != INSTALLED


def client_image_from(env: Mapping[str, str] | None, registry: str | None) -> str:
    """The client pod's image (KCONFORM_CLIENT_IMAGE, else python:3.11-slim) at the mirror, if one is given
    (like every image kconform causes to be pulled). kafka-python travels with kconform's client code (client_pod), so any image with a
    `python` 3 (tested with 3.11) works and nothing is installed at start; KCONFORM_CLIENT_PIP_INSTALL is obsolete: 0 is
    accepted (it asked for what is now always so), anything else refused in one line."""
    pip = options.setting(PIP_INSTALL_ENV, env)
    if pip is not None and pip.strip().lower() not in NO:
        raise UsageError(
            f"{PIP_INSTALL_ENV}={pip} is obsolete: kconform ships kafka-python into the client pod and never "
            f"pip-installs it; unset {PIP_INSTALL_ENV}"
        )
    image = options.setting(CLIENT_IMAGE_ENV, env) or DEFAULT_CLIENT_IMAGE
    return images.at_registry(image, images.check_registry(registry) if registry else None)
