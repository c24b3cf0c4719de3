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
from dataclasses import dataclass
from typing import Any

from kconform import progress
from kconform.errors import InfrastructureFailure, PlatformError, WaitTimeout
from kconform.platforms.kubernetes import (
    crd_install,
    departing,
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


@dataclass(eq=False)
class SetupUndo:
    """What one setup made that only this run uses, undone when its platform closes (or at once when the
    setup fails): a cluster that cannot be reused (an ephemeral provider's, e.g. k3s), and an operator
    installed on the user's cluster into a namespace this run created. With --keep nothing is recorded.
    A cluster recorded here is also removed when the process exits without closing its platform."""

    ephemeral: ClusterProvider | None = None
    installed: tuple[Kube, KubeSettings, str | None, str | None] | None = None

    def remove_at_end(self, provider: ClusterProvider) -> None:
        self.ephemeral = provider
        atexit.register(self.release_cluster)

    def release_cluster(self) -> None:
        """Remove the cluster that cannot be reused; a reusable one (kind, minikube) stays."""
        provider, self.ephemeral = self.ephemeral, None
        atexit.unregister(self.release_cluster)
        if provider is not None:
            with contextlib.suppress(Exception):
                progress.report(f"removing {provider.name} cluster")
                provider.delete()

    def __call__(self) -> None:
        """Undo everything recorded: the operator first (while connected), then the cluster."""
        installed, self.installed = self.installed, None
        if installed is not None:
            uninstall(*installed)
        self.release_cluster()


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


def ensure_cluster(
    provider: ClusterProvider, settings: KubeSettings, undo: SetupUndo | None = None
) -> tuple[ClusterInfo, Kube]:
    """The cluster to run on: the user's as it is, a reused one with the same fingerprint, or a new one (an
    ephemeral provider's is recorded in `undo`, unless --keep)."""
    wanted = provider.fingerprint()
    if not provider.creates_cluster:
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
    if provider.ephemeral and not settings.keep_cluster:
        (undo if undo is not None else SetupUndo()).remove_at_end(provider)
    elif provider.ephemeral:
        progress.report(provider.kept_note())
    kube = Kube(context=info.context, kubeconfig=info.kubeconfig)
    kube.apply(wanted.to_configmap())
    return info, kube


def install_strimzi(
    kube: Kube,
    settings: KubeSettings,
    context: str | None,
    kubeconfig: str | None,
    undo: SetupUndo | None = None,
    *,
    cluster_is_kconforms: bool = True,
) -> None:
    """CRDs, then the chart or the release YAML, into an operator namespace kconform owns.

    On the user's cluster (not `cluster_is_kconforms`) what this run installed is recorded in `undo`, and
    removed when the platform closes (`uninstall`), except the CRDs: deleting a CRD deletes every resource
    of its kind in the cluster.
    """
    created = ownership.ensure_namespace(
        kube,
        settings.operator_namespace,
        settings.run_id,
        "Strimzi operator",
        cluster_is_kconforms=cluster_is_kconforms,
    )
    if created and not cluster_is_kconforms and undo is not None and not settings.keep_cluster:
        undo.installed = (kube, settings, context, kubeconfig)
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
    undo = SetupUndo()
    try:
        info, kube, schemas = _set_up(provider, settings, undo)
    except BaseException:
        undo()  # each setup has its finish: what this one made goes now, its failure is not retried
        raise
    return KubernetesPlatform(settings, kube, info, schemas, finish=undo)


def _set_up(
    provider: ClusterProvider, settings: KubeSettings, undo: SetupUndo
) -> tuple[ClusterInfo, Kube, SchemaSet]:
    budget = settings.budget
    what = (
        f"create the {provider.name} cluster"
        if provider.creates_cluster
        else f"connect to the existing cluster of kubeconfig context {settings.context!r}"
    )
    with setup_phase(what, budget.create_cluster, infrastructure=True):
        info, kube = ensure_cluster(provider, settings, undo)
        kube.server_version()
    if settings.installs_strimzi:
        with setup_phase(
            f"install Strimzi {settings.profile.strimzi} ({settings.install})",
            budget.install,
            infrastructure=False,
        ):
            install_strimzi(
                kube,
                settings,
                info.context,
                info.kubeconfig,
                undo,
                cluster_is_kconforms=provider.creates_cluster,
            )
    else:
        progress.report(
            f"testing the installed Strimzi {settings.profile.strimzi} in namespace {settings.operator_namespace}"
        )
    with setup_phase("Strimzi operator Available", budget.operator_available, infrastructure=False):
        wait_operator(
            kube, settings.operator_namespace, budget.operator_available, settings.operator_deployment
        )
    return info, kube, SchemaSet.from_crds(kube.crds(), origin="the installed CRDs")


def uninstall(kube: Kube, settings: KubeSettings, context: str | None, kubeconfig: str | None) -> None:
    """Remove the operator this run installed on an existing cluster: the Helm release (its cluster-wide
    RBAC with it) or the release YAML's cluster-scoped RBAC, then the operator namespace kconform created."""
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
            departing.at_run_end(
                kube, [("v1", "Namespace", settings.operator_namespace)], settings.budget.deleted_namespaces
            )


__all__ = [
    "SetupUndo",
    "check_prerequisites",
    "connect_existing",
    "create_platform",
    "ensure_cluster",
]
