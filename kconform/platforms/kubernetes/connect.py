"""Bring up (or reuse) the cluster, install the pinned Strimzi, and hand back a KubernetesPlatform."""

from __future__ import annotations

import logging
import urllib.request

from kconform.errors import MissingPrerequisite, PlatformError
from kconform.platforms.kubernetes import fingerprint, install, runplan, shell, tools
from kconform.platforms.kubernetes.kube import Kube
from kconform.platforms.kubernetes.platform import KubernetesPlatform
from kconform.platforms.kubernetes.providers import ClusterInfo, ClusterProvider, provider_for
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.schemas import SchemaSet
from kconform.waits import wait_until

log = logging.getLogger(__name__)
OPERATOR_TIMEOUT_S = 600.0
HELM_TIMEOUT_S = 600.0


def check_prerequisites(provider: ClusterProvider, settings: KubeSettings) -> None:
    """Every missing tool or engine as one MissingPrerequisite line, before anything is created."""
    if provider.needs_docker():
        tools.check_docker()
    for tool in provider.required_tools():
        tools.ensure_tool(tool)


def _stored_fingerprint(kube: Kube) -> fingerprint.Fingerprint | None:
    return fingerprint.Fingerprint.from_configmap(
        kube.get("v1", "ConfigMap", fingerprint.CONFIGMAP_NAMESPACE, fingerprint.CONFIGMAP_NAME)
    )


def ensure_cluster(provider: ClusterProvider, settings: KubeSettings) -> tuple[ClusterInfo, Kube]:
    wanted = provider.fingerprint()
    exists = provider.exists()
    if exists:
        info = provider.info()
        kube = Kube(context=info.context, kubeconfig=info.kubeconfig)
        stored = _stored_fingerprint(kube) if settings.provider != "existing" else wanted
        decision = fingerprint.decide(True, stored, wanted)
        if decision is fingerprint.Reuse.REUSE:
            return info, kube
        log.info("recreating cluster %s: %s", settings.cluster_name, fingerprint.mismatch(stored, wanted))
        provider.delete()
    info = provider.create()
    kube = Kube(context=info.context, kubeconfig=info.kubeconfig)
    kube.apply(wanted.to_configmap())
    return info, kube


def _fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 - pinned release URLs
            return str(response.read().decode("utf-8"))
    except OSError as err:
        raise MissingPrerequisite(f"cannot download {url} ({err}); check the network") from err


def install_strimzi(kube: Kube, settings: KubeSettings, context: str | None, kubeconfig: str | None) -> None:
    kube.apply(runplan.namespace_manifest(settings.operator_namespace, settings.run_id))
    helm = str(tools.ensure_tool("helm")) if settings.install == "helm" else "helm"
    for step in install.steps(settings, context, helm):
        if step.argv is not None:
            argv = [*step.argv, "--kubeconfig", kubeconfig] if kubeconfig else step.argv
            shell.run(argv, timeout=HELM_TIMEOUT_S)
            continue
        assert step.url is not None
        documents = install.parse_documents(_fetch(step.url))
        if step.url == install.operator_yaml_url(settings.profile.strimzi):
            documents = install.release_documents(documents, settings)
        for document in documents:
            kube.apply(document)
    wait_operator(kube, settings.operator_namespace)


def wait_operator(kube: Kube, namespace: str) -> None:
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
        lambda: install.deployment_available(
            kube.get("apps/v1", "Deployment", namespace, install.DEPLOYMENT)
        ),
        describe=f"Deployment {namespace}/{install.DEPLOYMENT} to be Available",
        timeout=OPERATOR_TIMEOUT_S,
        interval=3.0,
        diagnose=diagnose,
    )


def create_platform(settings: KubeSettings) -> KubernetesPlatform:
    """A ready platform, or MissingPrerequisite with one line saying what is missing and how to fix it."""
    provider = provider_for(settings)
    check_prerequisites(provider, settings)
    try:
        info, kube = ensure_cluster(provider, settings)
        kube.server_version()
    except PlatformError as err:
        first = str(err).splitlines()[0]
        raise MissingPrerequisite(
            f"no reachable Kubernetes cluster ({first}); create one with --provider kind or fix --context"
        ) from err
    install_strimzi(kube, settings, info.context, info.kubeconfig)
    schemas = SchemaSet.from_crds(kube.crds(), origin="the installed CRDs")
    return KubernetesPlatform(settings, kube, info, schemas)
