"""SchemaSet against the real Strimzi 0.45.2 and 1.2.0 CRDs: broken manifests name the resource and field."""

from __future__ import annotations

import copy
import inspect
import json
import types
from pathlib import Path
from typing import Any

import pytest

from kconform.errors import ManifestError, MissingPrerequisite
from kconform.paths import default_crd_root
from kconform.schemas import SchemaSet
from kconform.versions import PROFILES

V1 = PROFILES["1.2.0"]
V1BETA2 = PROFILES["0.45.2"]


@pytest.fixture(scope="module")
def v1() -> SchemaSet:
    return SchemaSet.for_profile(V1)


@pytest.fixture(scope="module")
def v1beta2() -> SchemaSet:
    return SchemaSet.for_profile(V1BETA2)


def kafka(api_version: str = "kafka.strimzi.io/v1") -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": "Kafka",
        "metadata": {"name": "kc-schemas", "namespace": "ns-schemas"},
        "spec": {
            "kafka": {
                "version": V1.kafka_version,
                "listeners": [{"name": "tls", "port": 9093, "type": "internal", "tls": True}],
                "config": {"offsets.topic.replication.factor": 1},
            },
            "entityOperator": {"topicOperator": {}, "userOperator": {}},
        },
    }


def pool() -> dict[str, Any]:
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaNodePool",
        "metadata": {"name": "pool-a", "labels": {"strimzi.io/cluster": "kc-schemas"}},
        "spec": {"replicas": 1, "roles": ["broker"], "storage": {"type": "ephemeral"}},
    }


def user(api_version: str = "kafka.strimzi.io/v1", **rule: Any) -> dict[str, Any]:
    acl = {"resource": {"type": "topic", "name": "t", "patternType": "literal"}, **rule}
    return {
        "apiVersion": api_version,
        "kind": "KafkaUser",
        "metadata": {"name": "user-a", "labels": {"strimzi.io/cluster": "kc-schemas"}},
        "spec": {"authentication": {"type": "tls"}, "authorization": {"type": "simple", "acls": [acl]}},
    }


def message(schemas: SchemaSet, resource: dict[str, Any]) -> str:
    with pytest.raises(ManifestError) as caught:
        schemas.validate(resource)
    return str(caught.value)


def test_the_baselines_are_valid(v1: SchemaSet, v1beta2: SchemaSet) -> None:
    # Every broken case below differs from these in one place, so each failure is caused by that change.
    v1.validate(kafka())
    v1.validate(pool())
    v1.validate(user(operations=["Read"]))
    v1beta2.validate(kafka("kafka.strimzi.io/v1beta2"))
    assert v1.problems(kafka()) == []


def test_wrong_type_names_the_path_and_the_expected_type(v1: SchemaSet) -> None:
    broken = pool()
    broken["spec"]["replicas"] = "three"
    text = message(v1, broken)
    assert "KafkaNodePool/pool-a" in text
    assert "spec.replicas: expected integer, got string 'three'" in text
    assert "Strimzi 1.2.0" in text


def test_unknown_field_is_an_error_with_a_suggestion(v1: SchemaSet) -> None:
    broken = kafka()
    broken["spec"]["kafka"]["listners"] = broken["spec"]["kafka"].pop("listeners")
    text = message(v1, broken)
    assert "spec.kafka.listners: unknown field (did you mean 'listeners'?)" in text
    assert "spec.kafka.listeners: required field is missing" in text


def test_unknown_field_without_a_close_match_lists_the_allowed_ones(v1: SchemaSet) -> None:
    broken = pool()
    broken["spec"]["zzz"] = 1
    text = message(v1, broken)
    assert "spec.zzz: unknown field; allowed here:" in text
    assert "replicas" in text and "roles" in text


def test_unknown_top_level_field_is_an_error(v1: SchemaSet) -> None:
    broken = pool()
    broken["specs"] = {}
    assert "specs: unknown field (did you mean 'spec'?)" in message(v1, broken)


def test_fields_under_preserve_unknown_fields_are_free(v1: SchemaSet) -> None:
    free = kafka()
    free["spec"]["kafka"]["config"]["any.broker.setting"] = {"nested": ["values"]}
    v1.validate(free)


def test_missing_required_listener_field(v1: SchemaSet) -> None:
    broken = kafka()
    del broken["spec"]["kafka"]["listeners"][0]["tls"]
    text = message(v1, broken)
    assert text.endswith("spec.kafka.listeners[0].tls: required field is missing")


def test_bad_enum_in_acl_operations_suggests_the_right_one(v1: SchemaSet, v1beta2: SchemaSet) -> None:
    text = message(v1, user(operations=["Read", "Wrte"]))
    assert "KafkaUser/user-a" in text
    assert "spec.authorization.acls[0].operations[1]: 'Wrte' is not one of:" in text
    assert "(did you mean 'Write'?)" in text
    text = message(v1beta2, user("kafka.strimzi.io/v1beta2", operations=["Wrte"]))
    assert "spec.authorization.acls[0].operations[0]: 'Wrte'" in text


@pytest.mark.parametrize("name", ["plain-tls", "externallong"])  # a dash; 12 characters
def test_listener_names_must_be_short_and_plain(v1: SchemaSet, name: str) -> None:
    broken = kafka()
    broken["spec"]["kafka"]["listeners"][0]["name"] = name
    text = message(v1, broken)
    assert f"spec.kafka.listeners[0].name: '{name}' does not match ^[a-z0-9]{{1,11}}$" in text
    assert "lowercase letters and digits only, 1 to 11 characters" in text


def test_listener_port_below_the_minimum(v1: SchemaSet) -> None:
    broken = kafka()
    broken["spec"]["kafka"]["listeners"][0]["port"] = 9000
    assert "spec.kafka.listeners[0].port: 9000 is less than the minimum 9092" in message(v1, broken)


def test_v1beta2_resource_is_refused_by_the_1_2_crds(v1: SchemaSet) -> None:
    text = message(v1, kafka("kafka.strimzi.io/v1beta2"))
    assert "Kafka/kc-schemas in namespace ns-schemas" in text
    assert "apiVersion: kafka.strimzi.io/v1beta2 is not served by the kafkas.kafka.strimzi.io CRD" in text
    assert "served: kafka.strimzi.io/v1)" in text
    assert "render_for_profile" in text


def test_v1_resource_is_refused_by_the_0_45_crds(v1beta2: SchemaSet) -> None:
    text = message(v1beta2, user(operations=["Read"]))
    assert "served: kafka.strimzi.io/v1beta2, kafka.strimzi.io/v1beta1, kafka.strimzi.io/v1alpha1" in text


def test_single_operation_is_valid_on_v1beta2_only(v1: SchemaSet, v1beta2: SchemaSet) -> None:
    v1beta2.validate(user("kafka.strimzi.io/v1beta2", operation="Read"))
    text = message(v1, user(operation="Read"))
    assert "spec.authorization.acls[0].operation: unknown field (did you mean 'operations'?)" in text
    assert "spec.authorization.acls[0].operations: required field is missing" in text


def test_zookeeper_fields_are_unknown_on_v1(v1: SchemaSet, v1beta2: SchemaSet) -> None:
    zk = kafka("kafka.strimzi.io/v1beta2")
    zk["spec"]["kafka"]["replicas"] = 1
    zk["spec"]["kafka"]["storage"] = {"type": "ephemeral"}
    zk["spec"]["zookeeper"] = {"replicas": 1, "storage": {"type": "ephemeral"}}
    v1beta2.validate(zk)
    zk["apiVersion"] = "kafka.strimzi.io/v1"
    text = message(v1, zk)
    for path in ("spec.kafka.replicas", "spec.kafka.storage", "spec.zookeeper"):
        assert f"{path}: unknown field" in text


def test_every_problem_is_reported_on_its_own_line(v1: SchemaSet) -> None:
    broken = kafka()
    listener = broken["spec"]["kafka"]["listeners"][0]
    listener.update(name="bad-name", port="9093", type="internl")
    text = message(v1, broken)
    assert "(3 problems):" in text
    lines = text.splitlines()[1:]
    assert len(lines) == 3
    assert all(line.startswith("  - spec.kafka.listeners[0].") for line in lines)
    assert "(did you mean 'internal'?)" in text


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({}, "metadata.name: required field is missing"),
        ({"name": "Kc_1"}, "metadata.name: 'Kc_1' is not a valid DNS-1123 name"),
        ({"name": "kc", "namespace": "Bad.NS"}, "metadata.namespace: 'Bad.NS' is not a valid DNS-1123 label"),
        ({"name": "kc", "labels": {"app": "x" * 64}}, "metadata.labels.app: 'xxxx"),
        (
            {"name": "kc", "annotations": {"strimzi.io/next-node-ids": [0, 1]}},
            'metadata.annotations["strimzi.io/next-node-ids"]: expected string, got array (quote it in YAML)',
        ),
    ],
)
def test_metadata_is_checked(v1: SchemaSet, metadata: dict[str, Any], expected: str) -> None:
    broken = pool()
    broken["metadata"] = metadata
    assert expected in message(v1, broken)


def test_missing_kind_and_api_version(v1: SchemaSet) -> None:
    text = message(v1, {"metadata": {"name": "x"}})
    assert "kind: required field is missing" in text
    assert "apiVersion: required field is missing" in text


def test_unknown_strimzi_kind_lists_the_known_ones(v1: SchemaSet) -> None:
    broken = pool()
    broken["kind"] = "KafkaNodepool"
    text = message(v1, broken)
    assert "kind: 'KafkaNodepool' is not a kind of kafka.strimzi.io" in text
    assert "KafkaNodePool" in text


def test_builtin_kinds_get_metadata_checks_only(v1: SchemaSet) -> None:
    config_map: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm-a"}}
    v1.validate(config_map)
    assert not v1.covers(config_map)
    config_map["metadata"]["name"] = "CM_A"
    assert "ConfigMap/CM_A" in message(v1, config_map)


def test_int_or_string_fields(v1: SchemaSet) -> None:
    sized = kafka()
    limits = {"cpu": "500m", "memory": 268435456}
    sized["spec"]["entityOperator"]["topicOperator"] = {"resources": {"limits": limits}}
    v1.validate(sized)
    limits["cpu"] = True
    text = message(v1, sized)
    assert "spec.entityOperator.topicOperator.resources.limits.cpu: expected an integer or a string" in text


def test_one_of_branches_are_explained(v1: SchemaSet) -> None:
    templated = kafka()
    env = {"name": "X", "value": "1", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}
    templated["spec"]["kafka"]["template"] = {"kafkaContainer": {"env": [env]}}
    text = message(v1, templated)
    assert "spec.kafka.template.kafkaContainer.env[0]: set exactly one of: value, valueFrom" in text
    del env["value"]
    v1.validate(templated)


def test_secret_looking_values_are_not_echoed(v1beta2: SchemaSet) -> None:
    broken = kafka("kafka.strimzi.io/v1beta2")
    broken["spec"]["kafka"]["listeners"][0]["authentication"] = {"type": "oauth", "clientSecret": "hunter2"}
    text = message(v1beta2, broken)
    assert "spec.kafka.listeners[0].authentication.clientSecret: expected object" in text
    assert "hunter2" not in text
    assert "<redacted>" in text


def test_for_profile_is_cached(v1: SchemaSet) -> None:
    assert SchemaSet.for_profile(V1) is v1


def test_for_profile_without_crds_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KCONFORM_CRD_DIR", str(tmp_path))
    with pytest.raises(MissingPrerequisite, match="KCONFORM_CRD_DIR") as caught:
        SchemaSet.for_profile(V1)
    assert str(tmp_path / "1.2.0") in str(caught.value)


def test_from_dir_without_crds(tmp_path: Path) -> None:
    (tmp_path / "note.yaml").write_text("kind: ConfigMap\n", encoding="utf-8")
    with pytest.raises(MissingPrerequisite, match="no CustomResourceDefinition"):
        SchemaSet.from_dir(tmp_path)


def _crd_documents(name: str) -> list[dict[str, Any]]:
    import yaml

    root = default_crd_root()
    assert root is not None
    text = (root / "1.2.0" / name).read_text(encoding="utf-8")
    return [doc for doc in yaml.safe_load_all(text) if doc]


def test_from_crds_with_installed_crd_dicts() -> None:
    schemas = SchemaSet.from_crds(_crd_documents("043-Crd-kafkatopic.yaml"))
    topic = {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaTopic",
        "metadata": {"name": "t-a"},
        "spec": {"partitions": 0},
    }
    assert "spec.partitions: 0 is less than the minimum 1" in message(schemas, topic)
    assert "the installed CRDs" in message(schemas, topic)


def test_from_crds_with_kubernetes_client_models() -> None:
    from kubernetes.client import ApiClient

    [crd] = _crd_documents("044-Crd-kafkauser.yaml")
    deserialize: Any = ApiClient().deserialize
    if "content_type" in inspect.signature(deserialize).parameters:  # newer clients take the text
        model = deserialize(json.dumps(crd), "V1CustomResourceDefinition", "application/json")
    else:  # older clients take the REST response object
        model = deserialize(types.SimpleNamespace(data=json.dumps(crd)), "V1CustomResourceDefinition")
    assert type(model).__name__ == "V1CustomResourceDefinition"
    schemas = SchemaSet.from_crds([model])
    schemas.validate(user(operations=["Read"]))
    assert "'Wrte' is not one of" in message(schemas, user(operations=["Wrte"]))


def test_validation_does_not_modify_the_resource(v1: SchemaSet) -> None:
    resource = kafka()
    before = copy.deepcopy(resource)
    v1.validate(resource)
    assert resource == before
