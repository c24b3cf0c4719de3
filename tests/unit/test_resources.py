"""Builders, profile rendering and .properties handling in kconform.resources."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from kconform import resources
from kconform.errors import InvalidCombination, ManifestError, UsageError
from kconform.java_properties import parse_properties
from kconform.resources import BrokerOverride
from kconform.versions import KRAFT, KRAFT_DEDICATED, PROFILES, ZOOKEEPER

V1 = PROFILES["1.2.0"]
V1BETA2 = PROFILES["0.45.2"]
RUN = "run-resources-1"


def cluster(profile: Any, mode: str, **extra: Any) -> list[dict[str, Any]]:
    listeners = extra.pop("listeners", [resources.internal_listener("tls", 9093, True, "tls")])
    return resources.kafka_cluster(
        profile, mode, name="kc-r", namespace="ns-r", listeners=listeners, run_id=RUN, **extra
    )


def annotations_of(resource: dict[str, Any]) -> dict[str, str]:
    return dict(resource["metadata"].get("annotations") or {})


# ----------------------------------------------------------------------------------------------- load


def test_load_returns_a_fresh_copy_each_time() -> None:
    first = resources.load("strimzi/kafka-topic.yaml")
    first[0]["spec"]["partitions"] = 99
    second = resources.load("strimzi/kafka-topic.yaml")
    assert second[0]["spec"]["partitions"] == 1
    assert second[0]["kind"] == "KafkaTopic"


@pytest.mark.parametrize("path", ["strimzi/missing.yaml", "../pyproject.toml", "strimzi"])
def test_load_refuses_what_is_not_a_manifest(path: str) -> None:
    with pytest.raises(UsageError, match="no manifest"):
        resources.load(path)


def test_labelled_copies_and_labels() -> None:
    topic = resources.load_one("strimzi/kafka-topic.yaml")
    out = resources.labelled(topic, RUN)
    assert out["metadata"]["labels"][resources.RUN_LABEL] == RUN
    assert out["metadata"]["labels"]["strimzi.io/cluster"] == "kconform-cluster"
    assert resources.RUN_LABEL not in topic["metadata"]["labels"]


def test_labelled_refuses_a_run_id_that_is_no_label_value() -> None:
    with pytest.raises(UsageError, match="run id 'run/1' cannot be a label value"):
        resources.labelled({"metadata": {}}, "run/1")


# ---------------------------------------------------------------------------------------------- Kafka


def test_kraft_on_0_45_has_one_dual_role_pool_and_both_annotations() -> None:
    kafka, pool = cluster(V1BETA2, KRAFT)
    assert kafka["apiVersion"] == pool["apiVersion"] == "kafka.strimzi.io/v1beta2"
    assert annotations_of(kafka) == {"strimzi.io/kraft": "enabled", "strimzi.io/node-pools": "enabled"}
    assert "zookeeper" not in kafka["spec"]
    assert sorted(pool["spec"]["roles"]) == ["broker", "controller"]
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == "kc-r"
    assert annotations_of(pool)["strimzi.io/next-node-ids"] == "[0-99]"
    assert kafka["spec"]["kafka"]["version"] == "3.9.2"


def test_zookeeper_on_0_45_has_no_pools_and_sizes_itself() -> None:
    [kafka] = cluster(V1BETA2, ZOOKEEPER)
    assert annotations_of(kafka) == {"strimzi.io/kraft": "disabled"}
    spec = kafka["spec"]
    assert spec["kafka"]["replicas"] == 1
    assert spec["kafka"]["storage"] == {"type": "ephemeral"}
    assert spec["zookeeper"] == {
        "replicas": 1,
        "storage": {"type": "ephemeral"},
        "jvmOptions": {"-Xms": "128m", "-Xmx": "256m"},  # bounded heaps: tests/unit/test_bounded_heaps.py
    }


def test_zookeeper_is_refused_on_1_2() -> None:
    with pytest.raises(
        InvalidCombination, match=re.escape("mode 'zookeeper' is not valid for Strimzi 1.2.0")
    ):
        cluster(V1, ZOOKEEPER)


def test_kraft_dedicated_pins_brokers_to_zero_and_controllers_to_100() -> None:
    kafka, controller, broker = cluster(V1, KRAFT_DEDICATED)
    assert kafka["apiVersion"] == "kafka.strimzi.io/v1"
    assert annotations_of(kafka) == {}  # ignored since 0.48, so never written for 1.x
    assert controller["spec"]["roles"] == ["controller"]
    assert broker["spec"]["roles"] == ["broker"]
    assert annotations_of(controller)["strimzi.io/next-node-ids"] == "[100-199]"
    assert annotations_of(broker)["strimzi.io/next-node-ids"] == "[0-99]"
    assert resources.broker_pod_name("kc-r", KRAFT_DEDICATED) == "kc-r-broker-0"


def test_every_resource_is_named_namespaced_and_labelled() -> None:
    for resource in cluster(V1, KRAFT_DEDICATED):
        assert resource["metadata"]["namespace"] == "ns-r"
        assert resource["metadata"]["labels"][resources.RUN_LABEL] == RUN
        assert resource["spec"].get("replicas", 1) == 1


def test_single_replica_config_and_user_config_merge() -> None:
    [kafka, _] = cluster(V1, KRAFT, config={"auto.create.topics.enable": False, "min.insync.replicas": 1})
    config = kafka["spec"]["kafka"]["config"]
    assert config["offsets.topic.replication.factor"] == 1
    assert config["transaction.state.log.replication.factor"] == 1
    assert config["auto.create.topics.enable"] is False
    assert kafka["spec"]["kafka"]["version"] == V1.kafka_version
    bounded = {"jvmOptions": {"-Xms": "64m", "-Xmx": "256m"}}  # tests/unit/test_bounded_heaps.py
    assert kafka["spec"]["entityOperator"] == {"topicOperator": bounded, "userOperator": bounded}


def test_authorization_and_super_users() -> None:
    [kafka, _] = cluster(V1, KRAFT, authorization={"type": "simple"}, super_users=["CN=admin-r"])
    assert kafka["spec"]["kafka"]["authorization"] == {"type": "simple", "superUsers": ["CN=admin-r"]}
    with pytest.raises(UsageError, match="super_users need authorization"):
        cluster(V1, KRAFT, super_users=["CN=admin-r"])


def test_metadata_version_only_for_kraft() -> None:
    [kafka, _] = cluster(V1, KRAFT, metadata_version="4.3-IV0")
    assert kafka["spec"]["kafka"]["metadataVersion"] == "4.3-IV0"
    [kafka, _] = cluster(V1, KRAFT)
    assert "metadataVersion" not in kafka["spec"]["kafka"]
    with pytest.raises(UsageError, match="KRaft clusters only"):
        cluster(V1BETA2, ZOOKEEPER, metadata_version="3.9-IV0")


def test_listeners_are_copied_not_shared() -> None:
    listeners = [resources.internal_listener("plain", 9092, False, None)]
    [kafka, _] = cluster(V1, KRAFT, listeners=listeners)
    listeners[0]["port"] = 9999
    assert kafka["spec"]["kafka"]["listeners"] == [
        {"name": "plain", "port": 9092, "type": "internal", "tls": False}
    ]


@pytest.mark.parametrize(
    ("listeners", "expected"),
    [
        ([], "at least one listener"),
        (
            [
                resources.internal_listener("tls", 9093, True, None),
                resources.internal_listener("tls", 9094, True, None),
            ],
            "listener names must be unique; repeated: tls",
        ),
        (
            [
                resources.internal_listener("a", 9093, True, None),
                resources.internal_listener("b", 9093, True, None),
            ],
            "listener ports must be unique; repeated: 9093",
        ),
    ],
)
def test_bad_listener_sets_are_refused(listeners: list[dict[str, Any]], expected: str) -> None:
    with pytest.raises(UsageError, match=expected):
        cluster(V1, KRAFT, listeners=listeners)


# ------------------------------------------------------------------------------------------- listeners


def test_internal_listener() -> None:
    assert resources.internal_listener("scram", 9094, True, "scram-sha-512") == {
        "name": "scram",
        "port": 9094,
        "type": "internal",
        "tls": True,
        "authentication": {"type": "scram-sha-512"},
    }


def test_tls_authentication_needs_tls() -> None:
    with pytest.raises(UsageError, match="TLS client authentication needs tls=True"):
        resources.internal_listener("plain", 9092, False, "tls")


def test_nodeport_listener_with_overrides() -> None:
    listener = resources.nodeport_listener(
        "external",
        9094,
        True,
        "tls",
        bootstrap_node_port=32100,
        brokers=[BrokerOverride(0, node_port=32101, advertised_host="127.0.0.1", advertised_port=32101)],
        alternative_names=["localhost"],
    )
    assert listener["type"] == "nodeport"
    assert listener["configuration"] == {
        "bootstrap": {"nodePort": 32100, "alternativeNames": ["localhost"]},
        "brokers": [{"broker": 0, "nodePort": 32101, "advertisedHost": "127.0.0.1", "advertisedPort": 32101}],
    }
    bare = resources.nodeport_listener("external", 9094, False, None)
    assert "configuration" not in bare and "authentication" not in bare
    partial = resources.nodeport_listener(
        "external", 9094, False, None, brokers=[BrokerOverride(3, None, None, None)]
    )
    assert partial["configuration"] == {"brokers": [{"broker": 3}]}


# ---------------------------------------------------------------------------------------- users, topics


def test_acl_uses_operations_and_defaults() -> None:
    assert resources.acl("group", "g-1", ["Read"], pattern_type="prefix") == {
        "resource": {"type": "group", "name": "g-1", "patternType": "prefix"},
        "operations": ["Read"],
        "host": "*",
        "type": "allow",
    }
    assert resources.acl("cluster", "", ("IdempotentWrite",), type="deny")["resource"] == {"type": "cluster"}


@pytest.mark.parametrize("operations", ["Read", []])
def test_acl_needs_a_list_of_operations(operations: Any) -> None:
    with pytest.raises(UsageError, match=r"e.g. \['Read'\]"):
        resources.acl("topic", "t", operations)


def test_kafka_user_with_acls() -> None:
    rules = [resources.acl("topic", "t-1", ["Read", "Describe"]), resources.acl("group", "g-1", ["Read"])]
    user = resources.kafka_user(V1, name="u-1", namespace="ns-r", cluster="kc-r", acls=rules, run_id=RUN)
    assert user["apiVersion"] == "kafka.strimzi.io/v1"
    assert user["metadata"]["labels"] == {"strimzi.io/cluster": "kc-r", resources.RUN_LABEL: RUN}
    assert user["spec"] == {
        "authentication": {"type": "tls"},
        "authorization": {"type": "simple", "acls": rules},
    }


def test_kafka_user_without_acls_or_authentication() -> None:
    user = resources.kafka_user(
        V1BETA2, name="u-2", namespace="ns-r", cluster="kc-r", authentication=None, run_id=RUN
    )
    assert user["apiVersion"] == "kafka.strimzi.io/v1beta2"
    assert user["spec"] == {}
    scram = resources.kafka_user(
        V1, name="u-3", namespace="ns-r", cluster="kc-r", authentication="scram-sha-512", run_id=RUN
    )
    assert scram["spec"] == {"authentication": {"type": "scram-sha-512"}}


def test_kafka_topic() -> None:
    topic = resources.kafka_topic(
        V1,
        name="t-1",
        namespace="ns-r",
        cluster="kc-r",
        partitions=3,
        config={"retention.ms": 60000},
        run_id=RUN,
    )
    assert topic["spec"] == {"partitions": 3, "replicas": 1, "config": {"retention.ms": 60000}}
    assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "kc-r"


# -------------------------------------------------------------------------------------------- rendering


def test_render_converts_single_operation_on_v1_only() -> None:
    authored = {
        "apiVersion": "kafka.strimzi.io/v1beta2",
        "kind": "KafkaUser",
        "metadata": {"name": "u"},
        "spec": {
            "authorization": {
                "type": "simple",
                "acls": [{"resource": {"type": "topic"}, "operation": "Read"}],
            }
        },
    }
    before = copy.deepcopy(authored)
    on_v1 = resources.render_for_profile(authored, V1)
    assert on_v1["apiVersion"] == "kafka.strimzi.io/v1"
    assert on_v1["spec"]["authorization"]["acls"] == [{"resource": {"type": "topic"}, "operations": ["Read"]}]
    assert resources.render_for_profile(authored, V1BETA2) == before
    assert authored == before


def test_render_kafka_to_v1_drops_what_node_pools_replace() -> None:
    authored = resources.load_one("strimzi/kafka.yaml")
    authored["apiVersion"] = "kafka.strimzi.io/v1beta2"
    authored["metadata"]["annotations"] = {"strimzi.io/kraft": "enabled", "strimzi.io/node-pools": "enabled"}
    authored["spec"]["kafka"]["replicas"] = 3
    authored["spec"]["kafka"]["storage"] = {"type": "ephemeral"}
    rendered = resources.render_for_profile(authored, V1)
    assert "annotations" not in rendered["metadata"]
    assert "replicas" not in rendered["spec"]["kafka"] and "storage" not in rendered["spec"]["kafka"]


def test_render_refuses_zookeeper_on_v1() -> None:
    with pytest.raises(InvalidCombination, match=re.escape("uses ZooKeeper, which Strimzi 1.2.0 lacks")):
        resources.render_for_profile(resources.load_one("strimzi/kafka-zookeeper.yaml"), V1)


def test_render_keeps_explicit_annotations_and_leaves_other_kinds_alone() -> None:
    authored = resources.load_one("strimzi/kafka.yaml")
    authored["metadata"]["annotations"] = {"strimzi.io/kraft": "enabled", "team": "a"}
    rendered = resources.render_for_profile(authored, V1BETA2)
    assert annotations_of(rendered) == {
        "strimzi.io/kraft": "enabled",
        "strimzi.io/node-pools": "enabled",
        "team": "a",
    }
    config_map = resources.load_one("sidecar/bridge-configmap.yaml")
    assert resources.render_for_profile(config_map, V1) == config_map


# --------------------------------------------------------------------------------------- bridge sidecar


def sidecar() -> tuple[dict[str, Any], dict[str, Any]]:
    return resources.bridge_sidecar(
        name="sc-1",
        namespace="ns-r",
        cluster="kc-r",
        user="u-1",
        bridge_version="1.1.0",
        run_id=RUN,
        http_port=8088,
    )


def test_sidecar_pod_runs_the_bridge_next_to_the_app() -> None:
    pod, config_map = sidecar()
    assert (pod["kind"], pod["metadata"]["name"], pod["metadata"]["namespace"]) == ("Pod", "sc-1", "ns-r")
    containers = {c["name"]: c for c in pod["spec"]["containers"]}
    assert set(containers) == {"app", "bridge"}
    bridge = containers["bridge"]
    assert bridge["image"] == "quay.io/strimzi/kafka-bridge:1.1.0"
    assert bridge["command"] == [
        "/opt/strimzi/bin/kafka_bridge_run.sh",
        "--config-file=/etc/kafka-bridge-config/bridge.properties",
    ]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in bridge["env"]}
    assert refs == {
        "USER_CRT": {"name": "u-1", "key": "user.crt"},
        "USER_KEY": {"name": "u-1", "key": "user.key"},
        "CA_CRT": {"name": "kc-r-cluster-ca-cert", "key": "ca.crt"},
    }
    assert bridge["volumeMounts"][0]["mountPath"] == "/etc/kafka-bridge-config"
    assert pod["spec"]["volumes"] == [{"name": "bridge-config", "configMap": {"name": "sc-1-bridge-config"}}]
    assert config_map["metadata"]["name"] == "sc-1-bridge-config"
    for resource in (pod, config_map):
        assert resource["metadata"]["labels"][resources.RUN_LABEL] == RUN


def test_sidecar_bridge_properties_are_modern_and_localhost_only() -> None:
    _, config_map = sidecar()
    text = config_map["data"]["bridge.properties"]
    properties = parse_properties(text)
    assert properties["bridge.id"] == "sc-1"
    assert properties["http.host"] == "127.0.0.1"
    assert properties["http.port"] == "8088"
    assert properties["kafka.bootstrap.servers"] == "kc-r-kafka-bootstrap:9093"
    assert properties["kafka.security.protocol"] == "SSL"
    assert properties["kafka.config.providers"] == "env"
    provider = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
    assert properties["kafka.config.providers.env.class"] == provider
    assert properties["kafka.ssl.keystore.certificate.chain"] == "${env:USER_CRT}"
    assert properties["kafka.ssl.keystore.key"] == "${env:USER_KEY}"
    assert properties["kafka.ssl.truststore.certificates"] == "${env:CA_CRT}"
    assert "http.enabled" not in properties
    assert "BEGIN" not in text  # only references to the Secrets, never key material


# ----------------------------------------------------------------------------------------- properties


def test_load_one_insists_on_one_document(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "two.yaml").write_text("a: 1\n---\nb: 2\n", encoding="utf-8")
    monkeypatch.setattr(resources.paths, "MANIFESTS_DIR", tmp_path)
    with pytest.raises(ManifestError, match="holds 2 documents"):
        resources.load_one("two.yaml")
    (tmp_path / "bad.yaml").write_text("a: [1\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="not valid YAML"):
        resources.load("bad.yaml")
