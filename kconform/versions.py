"""The compatibility table: one Profile per pinned Strimzi version.

The CI matrix, the CLI's validation of a requested combination and the manifest renderer all read this
table; nothing else in the project hard-codes a Strimzi, Kafka, bridge or Kubernetes version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kconform.errors import InvalidCombination

# Metadata modes. On 0.45.x the axis is KRaft vs ZooKeeper; on 1.x (KRaft only) it is dual-role
# nodes vs dedicated controller nodes.
KRAFT = "kraft"  # KRaft, one dual-role (controller+broker) node pool
KRAFT_DEDICATED = "kraft-dedicated"  # KRaft, a controller pool and a broker pool
ZOOKEEPER = "zookeeper"  # ZooKeeper-based cluster, no node pools

ALL_MODES = (KRAFT, KRAFT_DEDICATED, ZOOKEEPER)


@dataclass(frozen=True)
class KindNodeImage:
    """A kind node image pinned by digest, for one Kubernetes version."""

    kubernetes: str
    image: str  # kindest/node:v1.x.y@sha256:...


@dataclass(frozen=True)
class Profile:
    """Everything kconform needs to know about one pinned Strimzi version."""

    strimzi: str
    api_version: str  # apiVersion of every kafka.strimzi.io resource rendered for this profile
    kafka_versions: tuple[str, ...]  # supported by the operator; the last one is the default
    modes: tuple[str, ...]
    kraft_annotations: bool  # Kafka CR needs strimzi.io/kraft and strimzi.io/node-pools annotations
    acl_operation_field: str  # "operations" (list) is valid on every profile we pin
    bridge_version: str
    bridge_java: int  # minimum Java major version the bridge runs on
    kafka_java: int  # minimum Java major version the broker runs on
    min_kubernetes: str
    max_kubernetes: str
    kind_node_images: tuple[KindNodeImage, ...] = field(default=())  # oldest and newest tested

    @property
    def kafka_version(self) -> str:
        return self.kafka_versions[-1]

    @property
    def crd_api(self) -> str:
        return self.api_version.split("/", 1)[1]

    def maven_coordinates(self, kafka_version: str | None = None) -> tuple[str, ...]:
        """The Maven artifacts the local platform resolves (with their dependencies) to run a broker."""
        return (f"org.apache.kafka:kafka_2.13:{kafka_version or self.kafka_version}",)


PROFILES: dict[str, Profile] = {
    "0.45.2": Profile(
        strimzi="0.45.2",
        api_version="kafka.strimzi.io/v1beta2",
        kafka_versions=("3.8.0", "3.8.1", "3.9.0", "3.9.1", "3.9.2"),
        modes=(KRAFT, ZOOKEEPER),
        kraft_annotations=True,
        acl_operation_field="operations",
        bridge_version="0.31.2",
        bridge_java=17,
        kafka_java=17,
        min_kubernetes="1.25",
        max_kubernetes="1.32",
        # Built for kind v0.31.0 (kconform.matrix.KIND_VERSION); digests from its release notes.
        kind_node_images=(
            KindNodeImage(
                kubernetes="1.31.14",
                image="kindest/node:v1.31.14@sha256:6f86cf509dbb42767b6e79debc3f2c32e4ee01386f0489b3b2be24b0a55aac2b",
            ),
            KindNodeImage(
                kubernetes="1.32.11",
                image="kindest/node:v1.32.11@sha256:5fc52d52a7b9574015299724bd68f183702956aa4a2116ae75a63cb574b35af8",
            ),
        ),
    ),
    "1.2.0": Profile(
        strimzi="1.2.0",
        api_version="kafka.strimzi.io/v1",
        kafka_versions=("4.2.0", "4.2.1", "4.3.0", "4.3.1"),
        modes=(KRAFT, KRAFT_DEDICATED),
        kraft_annotations=False,
        acl_operation_field="operations",
        bridge_version="1.1.0",
        bridge_java=21,
        kafka_java=17,
        min_kubernetes="1.30",
        max_kubernetes="1.36",
        # Built for kind v0.31.0 (kconform.matrix.KIND_VERSION); digests from its release notes.
        kind_node_images=(
            KindNodeImage(
                kubernetes="1.31.14",
                image="kindest/node:v1.31.14@sha256:6f86cf509dbb42767b6e79debc3f2c32e4ee01386f0489b3b2be24b0a55aac2b",
            ),
            KindNodeImage(
                kubernetes="1.35.0",
                image="kindest/node:v1.35.0@sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f",
            ),
        ),
    ),
}

DEFAULT_PROFILE = "1.2.0"


def profile(version: str) -> Profile:
    """The profile for a Strimzi version, or one line listing the valid choices."""
    try:
        return PROFILES[version]
    except KeyError:
        raise InvalidCombination(
            f"unknown Strimzi version {version!r}; choose one of: {', '.join(PROFILES)}"
        ) from None


def check_mode(prof: Profile, mode: str) -> str:
    """Refuse a metadata mode the profile does not support (e.g. ZooKeeper on 1.x)."""
    if mode not in prof.modes:
        raise InvalidCombination(
            f"mode {mode!r} is not valid for Strimzi {prof.strimzi}; choose one of: {', '.join(prof.modes)}"
        )
    return mode


def check_kafka_version(prof: Profile, kafka_version: str) -> str:
    if kafka_version not in prof.kafka_versions:
        raise InvalidCombination(
            f"Kafka {kafka_version} is not supported by Strimzi {prof.strimzi}; "
            f"choose one of: {', '.join(prof.kafka_versions)}"
        )
    return kafka_version
