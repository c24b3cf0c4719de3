"""Everything kconform applies validates against the real CRDs of every profile it is meant for."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from kconform import resources
from kconform.errors import InvalidCombination
from kconform.paths import MANIFESTS_DIR
from kconform.resources import BrokerOverride
from kconform.schemas import SchemaSet
from kconform.versions import PROFILES, ZOOKEEPER, Profile, check_mode

RUN = "run-manifests-1"
PROFILE_MODES = [(profile, mode) for profile in PROFILES.values() for mode in profile.modes]
# A Strimzi manifest names the profiles it is meant for in a comment line of its own.
PROFILES_HEADER = re.compile(r"^#\s*kconform-profiles:\s*(?P<versions>.+)$", re.MULTILINE)


def schemas(profile: Profile) -> SchemaSet:
    return SchemaSet.for_profile(profile)


def every_listener() -> list[dict[str, Any]]:
    return [
        resources.internal_listener("plain", 9092, False, None),
        resources.internal_listener("tls", 9093, True, "tls"),
        resources.internal_listener("scram", 9095, True, "scram-sha-512"),
        resources.nodeport_listener(
            "external",
            9094,
            True,
            "tls",
            bootstrap_node_port=32100,
            brokers=[BrokerOverride(resources.FIRST_BROKER_ID, 32101, "127.0.0.1", 32101)],
            alternative_names=["localhost", "127.0.0.1"],
        ),
    ]


@pytest.mark.parametrize(("profile", "mode"), PROFILE_MODES, ids=lambda v: getattr(v, "strimzi", v))
def test_every_builder_output_validates(profile: Profile, mode: str) -> None:
    built = resources.kafka_cluster(
        profile,
        mode,
        name="kc-m",
        namespace="ns-m",
        listeners=every_listener(),
        authorization={"type": "simple"},
        super_users=["CN=admin-m"],
        config={"auto.create.topics.enable": False},
        run_id=RUN,
    )
    rules = [
        resources.acl("topic", "t-m", ["Read", "Describe", "DescribeConfigs"]),
        resources.acl("topic", "t-", ["Write"], pattern_type="prefix"),
        resources.acl("group", "g-m", ["Read"]),
        resources.acl("transactionalId", "tx-m", ["Write", "Describe"]),
        resources.acl("cluster", "", ["IdempotentWrite"], type="deny"),
    ]
    built.append(
        resources.kafka_user(profile, name="u-m", namespace="ns-m", cluster="kc-m", acls=rules, run_id=RUN)
    )
    built.append(
        resources.kafka_user(
            profile, name="s-m", namespace="ns-m", cluster="kc-m", authentication="scram-sha-512", run_id=RUN
        )
    )
    built.append(
        resources.kafka_topic(
            profile,
            name="t-m",
            namespace="ns-m",
            cluster="kc-m",
            partitions=3,
            config={"retention.ms": 1},
            run_id=RUN,
        )
    )
    built.extend(
        resources.bridge_sidecar(
            name="sc-m",
            namespace="ns-m",
            cluster="kc-m",
            user="u-m",
            bridge_version=profile.bridge_version,
            run_id=RUN,
        )
    )
    checked = schemas(profile)
    for resource in built:
        checked.validate(resource)
    strimzi_kinds = sorted(r["kind"] for r in built if checked.covers(r))
    expected_pools = {"kraft": 1, "kraft-dedicated": 2, ZOOKEEPER: 0}[mode]
    assert strimzi_kinds == sorted(
        ["Kafka", "KafkaTopic", "KafkaUser", "KafkaUser"] + ["KafkaNodePool"] * expected_pools
    )


def test_zookeeper_is_refused_on_1_2() -> None:
    profile = PROFILES["1.2.0"]
    with pytest.raises(InvalidCombination, match="choose one of: kraft, kraft-dedicated"):
        check_mode(profile, ZOOKEEPER)
    with pytest.raises(InvalidCombination):
        resources.kafka_cluster(
            profile, ZOOKEEPER, name="kc-m", namespace="ns-m", listeners=every_listener(), run_id=RUN
        )


def test_the_0_45_cluster_does_not_validate_against_1_2() -> None:
    # The profiles really differ: what is right for one is wrong for the other.
    kafka = resources.kafka_cluster(
        PROFILES["0.45.2"], "kraft", name="kc-m", namespace="ns-m", listeners=every_listener(), run_id=RUN
    )[0]
    assert "is not served by" in "\n".join(schemas(PROFILES["1.2.0"]).problems(kafka))


def manifest_files() -> list[Path]:
    return sorted(p for p in MANIFESTS_DIR.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def strimzi_documents(path: Path) -> list[dict[str, Any]]:
    documents = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if isinstance(d, dict)]
    return [d for d in documents if str(d.get("apiVersion", "")).startswith(f"{resources.STRIMZI_GROUP}/")]


STRIMZI_MANIFESTS = [p for p in manifest_files() if strimzi_documents(p)]


def test_the_strimzi_templates_are_found() -> None:
    names = {p.name for p in STRIMZI_MANIFESTS}
    assert {"kafka.yaml", "kafka-zookeeper.yaml", "nodepool-dual-role.yaml", "kafka-user.yaml"} <= names


@pytest.mark.parametrize("path", STRIMZI_MANIFESTS, ids=lambda p: str(p.relative_to(MANIFESTS_DIR)))
def test_every_strimzi_manifest_validates_for_its_profiles(path: Path) -> None:
    header = PROFILES_HEADER.search(path.read_text(encoding="utf-8"))
    assert header, f"{path} holds Strimzi resources but no '# kconform-profiles: <versions>' line"
    versions = header.group("versions").split()
    unknown = [v for v in versions if v not in PROFILES]
    assert not unknown, f"{path} names unknown profiles {unknown}; known: {list(PROFILES)}"
    for version in versions:
        profile = PROFILES[version]
        for document in strimzi_documents(path):
            schemas(profile).validate(resources.render_for_profile(document, profile))


def test_sidecar_manifests_pass_the_metadata_checks() -> None:
    profile = PROFILES["1.2.0"]
    for name in ("sidecar/bridge-pod.yaml", "sidecar/bridge-configmap.yaml"):
        for document in resources.load(name):
            assert not schemas(profile).covers(document)
            schemas(profile).validate(document)
