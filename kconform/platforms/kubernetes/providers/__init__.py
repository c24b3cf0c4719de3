"""Cluster providers: kind (default), minikube, k3s, existing."""

from __future__ import annotations

from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo, ClusterProvider
from kconform.platforms.kubernetes.providers.existing import ExistingProvider
from kconform.platforms.kubernetes.providers.k3s import K3sProvider
from kconform.platforms.kubernetes.providers.kind import KindProvider
from kconform.platforms.kubernetes.providers.minikube import MinikubeProvider
from kconform.platforms.kubernetes.settings import KubeSettings

__all__ = ["PROVIDERS", "ClusterInfo", "ClusterProvider", "provider_for"]

# Every provider by its --provider name (the option's choices in kconform.options name the same ones).
PROVIDERS: dict[str, type[ClusterProvider]] = {
    provider.name: provider for provider in (KindProvider, MinikubeProvider, K3sProvider, ExistingProvider)
}


def provider_for(settings: KubeSettings) -> ClusterProvider:
    return PROVIDERS.get(settings.provider, ExistingProvider)(settings)
