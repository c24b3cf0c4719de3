"""Every image a kubernetes cell makes the cluster pull, and where it is pulled from (`--image-registry`).

Clusters without egress pull only from their own registry mirror. `--image-registry MIRROR` (env
KCONFORM_IMAGE_REGISTRY) replaces the registry of every image kconform causes to be pulled and keeps the
repository path, as Strimzi's Helm chart does with `defaultImageRegistry` (`quay.io/strimzi/kafka:T` becomes
`MIRROR/strimzi/kafka:T`; Docker Hub's implied `python:3.11-slim` becomes `MIRROR/library/python:3.11-slim`).
MIRROR may carry a path of its own (`registry.example/quay-proxy`).
"""

from __future__ import annotations

import re
from typing import Any

from kconform.errors import UsageError
from kconform.versions import Profile

DOCKER_HUB = "docker.io"
STRIMZI_REGISTRY = "quay.io"
STRIMZI_REPOSITORY = "strimzi"
# The operator Deployment's env values that are image references (packaging/install/cluster-operator/
# 060-Deployment-strimzi-cluster-operator.yaml at 0.45.2 and 1.2.0): every STRIMZI_*_IMAGE, every
# STRIMZI_*_IMAGES (lines `<kafka version>=<image>`), and the Maven builder of Kafka Connect builds.
_IMAGE_ENV = re.compile(r"^STRIMZI_\w+_IMAGES?$")
IMAGE_ENV_EXTRA = frozenset({"STRIMZI_DEFAULT_MAVEN_BUILDER"})
_REGISTRY = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]+)?(/[a-z0-9._-]+)*$")


def check_registry(registry: str) -> str:
    """The mirror as given, without a trailing '/', or one line saying what a registry looks like. Its host
    must read as a registry by the reference rule (`split`): a bare `mirror` would mean Docker Hub's
    `docker.io/mirror/...` to every container runtime."""
    cleaned = registry.strip().rstrip("/")
    host = cleaned.split("/", 1)[0]
    is_host = "." in host or ":" in host or host == "localhost"
    if "://" in cleaned or not _REGISTRY.match(cleaned) or not is_host:
        raise UsageError(
            f"--image-registry {registry!r} is not a registry host (a name with a '.' or a ':port', or "
            "localhost; an optional path), e.g. registry.example:5000 or registry.example/mirror"
        )
    return cleaned


def split(reference: str) -> tuple[str, str]:
    """(registry, repository path with tag or digest), by the Docker reference rule: the first component is
    a registry when it holds '.' or ':' or is `localhost`; else Docker Hub, where one component means
    `library/`."""
    first, sep, rest = reference.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return DOCKER_HUB, reference if sep else f"library/{reference}"


def at_registry(reference: str, registry: str | None) -> str:
    """`reference` pulled from `registry` (unchanged without one, or when it is already there)."""
    if not registry or reference.startswith(registry + "/"):
        return reference
    return f"{registry}/{split(reference)[1]}"


def is_image_env(name: str) -> bool:
    return bool(_IMAGE_ENV.match(name)) or name in IMAGE_ENV_EXTRA


def mirror_env_value(name: str, value: str, registry: str) -> str:
    """An image env value of the operator at the mirror: one reference, or `version=reference` lines."""
    if not name.endswith("_IMAGES"):
        return at_registry(value.strip(), registry)
    lines = []
    for line in value.splitlines():
        version, sep, reference = line.strip().partition("=")
        lines.append(f"{version}={at_registry(reference.strip(), registry)}" if sep else line)
    return "\n".join(lines) + ("\n" if value.endswith("\n") else "")


def mirror_release(documents: list[dict[str, Any]], registry: str | None) -> list[dict[str, Any]]:
    """The release YAML's Deployments with every image reference (container images and the operator's
    image env values) at `registry`; changed in place and returned."""
    if not registry:
        return documents
    for doc in documents:
        if doc.get("kind") != "Deployment":
            continue
        pod_spec = ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}
        for container in [*(pod_spec.get("initContainers") or []), *(pod_spec.get("containers") or [])]:
            if container.get("image"):
                container["image"] = at_registry(container["image"], registry)
            for env in container.get("env") or []:
                if is_image_env(str(env.get("name"))) and isinstance(env.get("value"), str):
                    env["value"] = mirror_env_value(env["name"], env["value"], registry)
    return documents


def mirror_pod(pod: dict[str, Any], registry: str | None) -> dict[str, Any]:
    """A Pod of kconform's (client, bridge sidecar) with its container images at `registry`; in place."""
    if not registry or pod.get("kind") != "Pod":
        return pod
    spec = pod.get("spec") or {}
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        if container.get("image"):
            container["image"] = at_registry(container["image"], registry)
    return pod


def strimzi_images(profile: Profile, registry: str | None) -> dict[str, str]:
    """The Strimzi images a cell runs, by the profile's versions and Strimzi's naming (the release YAML's
    Deployment and the Helm chart's defaults; tests/unit/platforms/kubernetes/test_kube_images.py checks them against the real
    release YAML): the operator (also the Topic and User Operators and the Kafka pods' init container), the
    Kafka image of the profile's Kafka version, and the bridge of the sidecar pod."""
    base = f"{STRIMZI_REGISTRY}/{STRIMZI_REPOSITORY}"
    found = {
        "operator": f"{base}/operator:{profile.strimzi}",
        "kafka": f"{base}/kafka:{profile.strimzi}-kafka-{profile.kafka_version}",
        "bridge": f"{base}/kafka-bridge:{profile.bridge_version}",
    }
    return {role: at_registry(reference, registry) for role, reference in found.items()}


def pod_images(pod: dict[str, Any]) -> list[str]:
    spec = pod.get("spec") or {}
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    return [str(c["image"]) for c in containers if c.get("image")]
