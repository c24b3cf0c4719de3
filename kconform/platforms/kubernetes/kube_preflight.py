"""Everything a kubernetes run needs, checked before any test runs: one line and exit 2 when missing.

Tools (docker, kind/minikube, helm), the kubeconfig context and the API server of an existing cluster,
Strimzi's install files (downloaded into the cache now, not halfway through a run), and on an existing
cluster the Strimzi already installed (found, its version mapped to a profile) or, with `--install`, that
nothing would be installed over the user's operator or CRDs. What a created cluster does later (image pulls,
node readiness) is infrastructure, not a usage error, and is left to setup.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from kconform.errors import MissingPrerequisite, PlatformError, UsageError
from kconform.platforms.kubernetes import (
    crd_install,
    departing,
    install,
    installed,
    leftovers,
    storage_class,
    strimzi_files,
    tools,
)
from kconform.platforms.kubernetes.providers import ClusterProvider, provider_for
from kconform.platforms.kubernetes.settings import KubeSettings

API_PROBE_TIMEOUT_S = 10.0


def check_tools(provider: ClusterProvider, settings: KubeSettings) -> None:
    if provider.needs_docker():
        tools.check_docker()
    for tool in provider.required_tools():
        tools.ensure_tool(tool)
    if settings.install == "helm":
        tools.ensure_tool("helm")
    provider.check_environment()


def connect_existing(settings: KubeSettings) -> Any:
    """A Kube on the user's context, its API server answering; else one line naming the fix."""
    from kconform.platforms.kubernetes.kube import Kube

    try:
        kube = Kube(context=settings.context, kubeconfig=settings.kubeconfig)
    except PlatformError as err:
        raise UsageError(
            f"kubeconfig context {settings.context!r} cannot be used ({str(err).splitlines()[0]}); "
            "list the contexts with `kubectl config get-contexts`"
        ) from None
    try:
        kube.version_api.get_code(_request_timeout=API_PROBE_TIMEOUT_S)
    except Exception as err:  # connection refused, TLS, DNS, 401: all mean "not usable as given"
        reason = str(getattr(err, "reason", None) or err).splitlines()[0][:200]
        kube.api_client.close()
        raise MissingPrerequisite(
            f"the API server of context {settings.context!r} does not answer ({reason}); "
            "start the cluster or fix --context"
        ) from None
    return kube


def install_files(settings: KubeSettings) -> None:
    """Download the release files an install applies (cached), so a failed download stops the run now."""
    if not settings.installs_strimzi:
        return
    for step in install.steps(settings, None):
        if step.url is not None:
            strimzi_files.fetch(settings.profile.strimzi, step.url)
    # Helm pulls the chart from its OCI registry itself; `helm show chart` proves it is reachable.
    if settings.install == "helm":
        from kconform.platforms.kubernetes import shell

        try:
            shell.run(
                ["helm", "show", "chart", install.CHART, "--version", settings.profile.strimzi], timeout=120
            )
        except PlatformError as err:
            tail = str(err).strip().splitlines()[-1][:200]
            raise MissingPrerequisite(
                f"cannot fetch the Strimzi {settings.profile.strimzi} Helm chart {install.CHART} ({tail}); "
                "check the network or use --install yaml"
            ) from None


def operators_staying(
    kube: Any, settings: KubeSettings
) -> tuple[list[dict[str, Any]], list[installed.InstalledOperator]]:
    """The Deployments and the Strimzi operators among them, once what an earlier kconform install left being
    deleted is gone (bounded; InfrastructureFailure when it is not): a run started right after another
    would otherwise take that operator for someone's Strimzi."""
    deployments = kube.list_objects("apps/v1", "Deployment")
    operators = installed.find_operators(deployments)
    if departing.before_install(kube, settings, operators):
        deployments = kube.list_objects("apps/v1", "Deployment")
        operators = installed.find_operators(deployments)
    return deployments, operators


def check_existing_strimzi(settings: KubeSettings, kube: Any) -> KubeSettings:
    """On an existing cluster: the settings for the installed operator, or a refusal to install over it."""
    deployments, operators = operators_staying(kube, settings)
    installed_crds = kube.crds()
    if settings.installs_strimzi:
        if operators:
            raise UsageError(
                f"Strimzi already runs on this cluster ({operators[0].describe()}); kconform never installs "
                "over it: drop --install to test that operator"
            )
        new_crds = install.parse_documents(
            strimzi_files.read(settings.profile.strimzi, install.crds_url(settings.profile.strimzi))
        )
        # Strimzi CRDs already there are reused, not refused: kconform never deletes a CRD (that would delete every
        # resource of its kind in the cluster), so applying the profile's same CRDs takes nothing from anyone;
        # CRDs of the other profile store a version these do not define (0.45.2 only v1beta2, 1.2.0 only v1, in
        # 040-Crd-kafka.yaml), so they are refused here rather than replaced.
        crd_install.check_crd_upgrade(installed_crds, new_crds)
        leftovers.check_no_leftovers(kube, settings)
        return settings
    prof = installed.profile_for(operators, installed_crds)
    if prof.strimzi != settings.profile.strimzi:
        raise UsageError(
            f"Strimzi {prof.strimzi} is installed ({operators[0].describe()}) but --profile "
            f"{settings.profile.strimzi} was asked for: pass --profile {prof.strimzi} or leave it out"
        )
    watched = installed.watched_namespaces(deployments, operators[0])
    if watched != "*":
        raise UsageError(
            f"the installed operator ({operators[0].describe()}) watches only {watched or 'its own namespace'}; "
            "kconform creates its own namespaces: set STRIMZI_NAMESPACE='*' (Helm: watchAnyNamespace=true)"
        )
    account = installed.service_account(deployments, operators[0])
    missing = installed.missing_cluster_roles(kube, operators[0], account)
    if missing:
        raise UsageError(
            f"the installed operator ({operators[0].describe()}) watches every namespace but its ServiceAccount "
            f"{operators[0].namespace}/{account} is not bound cluster-wide to ClusterRole {', '.join(missing)}: "
            "create those ClusterRoleBindings as Strimzi's docs say for watching all namespaces "
            "(Helm: watchAnyNamespace=true)"
        )
    return dataclasses.replace(
        settings, operator_namespace=operators[0].namespace, operator_deployment=operators[0].name
    )


def installed_profile(settings: KubeSettings) -> str:
    """The Strimzi version installed on an existing cluster (for choosing the run's profile)."""
    kube = connect_existing(settings)
    try:
        _, operators = operators_staying(kube, settings)
        return installed.profile_for(operators, kube.crds()).strimzi
    finally:
        kube.api_client.close()


def preflight(settings: KubeSettings, claiming_volumes: list[str] | None = None) -> KubeSettings:
    """Check everything before any test runs; the settings to run with (the operator found, if any).
    `claiming_volumes`: the selected workflows that claim PersistentVolumes (storage_class), on a cluster
    kconform does not create (one it creates has a default StorageClass)."""
    provider = provider_for(settings)
    check_tools(provider, settings)
    if provider.creates_cluster:
        install_files(settings)
        return settings
    kube = connect_existing(settings)
    try:
        install_files(settings)
        storage_class.check_default(kube, claiming_volumes or [])
        return check_existing_strimzi(settings, kube)
    finally:
        kube.api_client.close()
