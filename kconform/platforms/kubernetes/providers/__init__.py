"""Cluster providers: kind (default), minikube, k3s, existing."""

from __future__ import annotations

from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo, ClusterProvider
from kconform.platforms.kubernetes.providers.existing import ExistingProvider
from kconform.platforms.kubernetes.providers.k3s import K3sProvider
from kconform.platforms.kubernetes.providers.kind import KindProvider
from kconform.platforms.kubernetes.providers.minikube import MinikubeProvider
from kconform.platforms.kubernetes.settings import KubeSettings

__all__ = ["ClusterInfo", "ClusterProvider", "provider_for"]


def provider_for(settings: KubeSettings) -> ClusterProvider:
    match settings.provider:
        case "kind":
            return KindProvider(settings)
        case "minikube":
            return MinikubeProvider(settings)
        case "k3s":
            return K3sProvider(settings)
        case _:
            return ExistingProvider(settings)
