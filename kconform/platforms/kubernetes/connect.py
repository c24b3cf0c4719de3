"""Bring up (or reuse) the cluster, install the pinned Strimzi (or find the installed one), and hand back a
KubernetesPlatform.

Setup runs in phases, each with its own budget (`SetupBudget`), before the first test and outside any
per-test timeout. How a failure is classified:
- the cluster cannot be created (kind/k3s/minikube: image pull, node not ready, a phase out of time), or an
  image the operator needs cannot be pulled: InfrastructureFailure (the cell is inconclusive);
- the operator never becomes Available for another reason, or the API server rejects an install manifest:
  PlatformError / ManifestError (recorded once for the cell);
- usage errors and missing prerequisites are found before, by `preflight`.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from kconform import progress
from kconform.errors import InfrastructureFailure, PlatformError, WaitTimeout
from kconform.platforms.kubernetes import (
    crd_install,
    fingerprint,
    install,
    leftovers,
    ownership,
    shell,
    strimzi_files,
    tools,
)
from kconform.platforms.kubernetes.kube import Kube
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.platforms.kubernetes.kube_preflight import check_tools, connect_existing, preflight
from kconform.platforms.kubernetes.providers import ClusterInfo, ClusterProvider, provider_for
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.schemas import SchemaSet
from kconform.waits import wait_until

log = logging.getLogger(__name__)

# Reasons a kubelet gives for a container that waits on its image: infrastructure, not Strimzi.
IMAGE_PULL_REASONS = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"})

_ephemeral: list[ClusterProvider] = []  # clusters that cannot be reused (k3s): removed at the end
# Operators this run installed on an existing cluster, into a namespace it created: removed at the end.
_installed_here: list[tuple[Kube, KubeSettings, str | None, str | None]] = []


def check_prerequisites(provider: ClusterProvider, settings: KubeSettings) -> None:
    """Every missing tool or engine as one MissingPrerequisite line, before anything is created."""
    check_tools(provider, settings)


@contextlib.contextmanager
def setup_phase(name: str, budget_s: float, *, infrastructure: bool) -> Iterator[None]:
    """One setup phase: reported as it starts and ends; running out of time names the phase."""
    with progress.phase(name):
        try:
            yield
        except WaitTimeout as err:
            message = f"setup phase '{name}' ran out of its {budget_s:.0f}s budget: {err}"
            raise (InfrastructureFailure if infrastructure else PlatformError)(message) from err
        except InfrastructureFailure:
            raise
        except PlatformError as err:
            if not infrastructure:
                raise
            raise InfrastructureFailure(f"setup phase '{name}' failed: {err}") from err


def _stored_fingerprint(kube: Kube) -> fingerprint.Fingerprint | None:
    return fingerprint.Fingerprint.from_configmap(
        kube.get("v1", "ConfigMap", fingerprint.CONFIGMAP_NAMESPACE, fingerprint.CONFIGMAP_NAME)
    )


def _create(provider: ClusterProvider) -> ClusterInfo:
    """Create the cluster once; whatever fails is removed again, nothing half-made is left behind."""
    try:
        return provider.create()
    except BaseException:
        with contextlib.suppress(Exception):
            if provider.exists():
                provider.delete()
        raise


def ensure_cluster(provider: ClusterProvider, settings: KubeSettings) -> tuple[ClusterInfo, Kube]:
    wanted = provider.fingerprint()
    if settings.provider == "existing":
        info = provider.info()
        return info, Kube(context=info.context, kubeconfig=info.kubeconfig)
    if provider.exists():
        info = provider.info()
        kube = Kube(context=info.context, kubeconfig=info.kubeconfig)
        stored = _stored_fingerprint(kube)
        if fingerprint.decide(True, stored, wanted) is fingerprint.Reuse.REUSE:
            progress.report(f"reusing {provider.name} cluster {settings.cluster_name} (same fingerprint)")
            return info, kube
        progress.report(
            f"recreating {provider.name} cluster {settings.cluster_name}: {fingerprint.mismatch(stored, wanted)}"
        )
        kube.api_client.close()
        provider.delete()
    info = _create(provider)
    if settings.provider == "k3s" and not settings.keep_cluster:
        _ephemeral.append(provider)
    elif settings.provider == "k3s":
        from kconform.platforms.kubernetes.providers.k3s import container_name

        progress.report(
            f"--keep: the k3s container stays; remove it with `docker rm -f {container_name(settings)}`"
        )
    kube = Kube(context=info.context, kubeconfig=info.kubeconfig)
    kube.apply(wanted.to_configmap())
    return info, kube


def install_strimzi(kube: Kube, settings: KubeSettings, context: str | None, kubeconfig: str | None) -> None:
    """CRDs, then the chart or the release YAML, into an operator namespace kconform owns.

    On an existing cluster what this run installed is removed at the end of the run (`uninstall_installed`),
    except the CRDs: deleting a CRD deletes every resource of its kind in the cluster.
    """
    created = ownership.ensure_namespace(
        kube,
        settings.operator_namespace,
        settings.run_id,
        "Strimzi operator",
        cluster_is_kconforms=settings.provider != "existing",
    )
    if created and settings.provider == "existing":
        _installed_here.append((kube, settings, context, kubeconfig))
    helm = str(tools.ensure_tool("helm")) if settings.install == "helm" else "helm"
    for step in install.steps(settings, context, helm):
        progress.report(step.describe)
        if step.argv is not None:
            argv = [*step.argv, "--kubeconfig", kubeconfig] if kubeconfig else step.argv
            try:
                shell.run(argv, timeout=settings.budget.install)
            except PlatformError as err:
                refusal = leftovers.helm_refusal(str(err))
                if refusal is not None:
                    raise refusal from None
                raise
            continue
        assert step.url is not None
        documents = install.parse_documents(strimzi_files.read(settings.profile.strimzi, step.url))
        if step.url == install.crds_url(settings.profile.strimzi):
            # Refused when the cluster still stores a version these CRDs drop; applied, then Established.
            crd_install.apply_crds(kube, documents, timeout=settings.budget.install)
            continue
        if step.url == install.operator_yaml_url(settings.profile.strimzi):
            documents = install.release_documents(documents, settings)
        for document in documents:
            kube.apply(document)


def _waiting_reasons(pods: list[dict[str, Any]]) -> list[str]:
    reasons = []
    for pod in pods:
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            waiting = (status.get("state") or {}).get("waiting") or {}
            if waiting.get("reason"):
                reasons.append(
                    f"{status.get('image')}: {waiting['reason']} {waiting.get('message') or ''}".strip()
                )
    return reasons


def wait_operator(kube: Kube, namespace: str, timeout: float, deployment: str = install.DEPLOYMENT) -> None:
    """Until the operator Deployment is Available; an image that cannot be pulled stops the wait at once."""
    last_reported: list[str] = []

    def available() -> bool:
        pods = kube.pods(namespace, install.OPERATOR_SELECTOR)
        reasons = _waiting_reasons(pods)
        pulls = [r for r in reasons if r.split(": ", 1)[-1].split(" ", 1)[0] in IMAGE_PULL_REASONS]
        if pulls:
            raise InfrastructureFailure(f"the Strimzi operator image cannot be pulled: {pulls[0]}")
        state = (
            ", ".join(reasons)
            or ", ".join(str((p.get("status") or {}).get("phase")) for p in pods)
            or "no pod yet"
        )
        if [state] != last_reported:
            last_reported[:] = [state]
            progress.report(f"operator {namespace}/{deployment}: {state}")
        return install.deployment_available(kube.get("apps/v1", "Deployment", namespace, deployment))

    def diagnose() -> str:
        lines = []
        for pod in kube.pods(namespace, install.OPERATOR_SELECTOR):
            name = pod["metadata"]["name"]
            lines.append(f"pod {name}: {(pod.get('status') or {}).get('phase')}")
            try:
                lines.append(kube.pod_log(namespace, name, tail=30))
            except PlatformError as err:
                lines.append(f"(no log: {err})")
        events = kube.events(namespace)[-10:]
        lines += [f"event {e.get('reason')}: {e.get('message')}" for e in events]
        return "\n".join(lines)

    wait_until(
        available,
        describe=f"Deployment {namespace}/{deployment} to be Available",
        timeout=timeout,
        interval=3.0,
        diagnose=diagnose,
    )


def create_platform(settings: KubeSettings) -> KubernetesPlatform:
    """A ready platform. Usage errors surface from `preflight` (run here too, cheap when already done);
    setup failures are classified as the module docstring says."""
    settings = preflight(settings)
    provider = provider_for(settings)
    budget = settings.budget
    what = (
        "connect to the existing cluster"
        if settings.provider == "existing"
        else f"create the {provider.name} cluster"
    )
    with setup_phase(what, budget.create_cluster, infrastructure=True):
        info, kube = ensure_cluster(provider, settings)
        kube.server_version()
    if settings.installs_strimzi:
        with setup_phase(
            f"install Strimzi {settings.profile.strimzi} ({settings.install})",
            budget.install,
            infrastructure=False,
        ):
            install_strimzi(kube, settings, info.context, info.kubeconfig)
    else:
        progress.report(
            f"testing the installed Strimzi {settings.profile.strimzi} in namespace {settings.operator_namespace}"
        )
    with setup_phase("Strimzi operator Available", budget.operator_available, infrastructure=False):
        wait_operator(
            kube, settings.operator_namespace, budget.operator_available, settings.operator_deployment
        )
    schemas = SchemaSet.from_crds(kube.crds(), origin="the installed CRDs")
    return KubernetesPlatform(settings, kube, info, schemas)


def release_ephemeral() -> None:
    """Remove the clusters that cannot be reused (k3s containers); kind and minikube stay for reuse."""
    while _ephemeral:
        provider = _ephemeral.pop()
        with contextlib.suppress(Exception):
            progress.report(f"removing {provider.name} cluster")
            provider.delete()


def uninstall_installed() -> None:
    """Remove the operator this run installed on an existing cluster: the Helm release (its cluster-wide
    RBAC with it) or the release YAML's cluster-scoped RBAC, then the operator namespace kconform created."""
    while _installed_here:
        kube, settings, context, kubeconfig = _installed_here.pop()
        progress.report(f"removing the Strimzi operator this run installed in {settings.operator_namespace}")
        with contextlib.suppress(Exception):
            if settings.install == "helm":
                argv = [
                    "helm",
                    "uninstall",
                    install.RELEASE,
                    "--namespace",
                    settings.operator_namespace,
                    "--wait",
                ]
                argv += ["--kube-context", context] if context else []
                argv += ["--kubeconfig", kubeconfig] if kubeconfig else []
                shell.run(argv, timeout=settings.budget.install)
            else:
                documents = install.parse_documents(
                    strimzi_files.read(
                        settings.profile.strimzi, install.operator_yaml_url(settings.profile.strimzi)
                    )
                )
                for document in install.release_documents(documents, settings):
                    if document.get("kind") not in ("ClusterRole", "ClusterRoleBinding"):
                        continue
                    api_version, kind, name = (
                        document["apiVersion"],
                        document["kind"],
                        document["metadata"]["name"],
                    )
                    current = kube.get(api_version, kind, None, name)
                    if current is not None and leftovers.is_kconforms(current, kube):  # never someone else's
                        kube.delete(api_version, kind, None, name)
        with contextlib.suppress(Exception):
            if ownership.is_owned(kube.get("v1", "Namespace", None, settings.operator_namespace)):
                kube.delete("v1", "Namespace", None, settings.operator_namespace)


atexit.register(release_ephemeral)
__all__ = [
    "check_prerequisites",
    "connect_existing",
    "create_platform",
    "ensure_cluster",
    "release_ephemeral",
]
