"""Every manifest the scenarios apply, for both profiles and every mode, applied by the kubernetes platform
(its own validator first, then server-side apply with fieldValidation=Strict) and accepted by the API server;
a manifest the API server refuses (422/400: schema, unknown field, CEL rule) becomes a ManifestError naming
the field."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from kconform import resources
from kconform.errors import ManifestError
from kconform.platforms.kubernetes import client_pod
from kconform.platforms.kubernetes.kube import Kube
from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
from kconform.versions import PROFILES, Profile
from kconform_fixtures.cluster import standard_cluster
from tests.apiserver.conftest import ServerPool, kube_with_crds, make_platform

pytestmark = pytest.mark.apiserver
CELLS = [(p, m) for p in PROFILES.values() for m in p.modes]


def _external_listeners() -> list[dict[str, Any]]:
    """Both listeners of scenarios/test_external_access.py: no overrides (Hostname), and overrides."""
    default = resources.nodeport_listener(
        "external",
        9094,
        tls=True,
        authentication="tls",
        bootstrap_node_port=32100,
        brokers=[resources.BrokerOverride(0, node_port=32101)],
    )
    default["configuration"]["preferredNodePortAddressType"] = "Hostname"
    overridden = resources.nodeport_listener(
        "external",
        9094,
        tls=True,
        authentication="tls",
        bootstrap_node_port=32100,
        brokers=[
            resources.BrokerOverride(0, node_port=32101, advertised_host="127.0.0.1", advertised_port=32101)
        ],
        alternative_names=["127.0.0.1"],
    )
    return [default, overridden]


def scenario_documents(profile: Profile, mode: str, namespace: str, run_id: str) -> list[dict[str, Any]]:
    """What the scenarios apply in one cell, built by the same kconform.resources calls they make."""
    docs = standard_cluster(
        profile, mode, name="cluster", namespace=namespace, run_id=run_id, admin_user="admin"
    )
    for index, listener in enumerate(_external_listeners()):
        docs += resources.kafka_cluster(
            profile,
            mode,
            name=f"external-{index}",
            namespace=namespace,
            run_id=run_id,
            listeners=[resources.internal_listener("tls", 9093, tls=True, authentication="tls"), listener],
            authorization={"type": "simple"},
        )
    acls = [
        resources.acl("topic", "my-topic", ["Read", "Write", "Describe"]),
        resources.acl("group", "my-group", ["Read"]),
        resources.acl("topic", "my-", ["Write"], pattern_type="prefix"),
        resources.acl("cluster", "", ["IdempotentWrite"]),
    ]
    for name, authentication, user_acls in (
        ("bridge", "tls", acls),
        ("no-rights", "tls", []),
        ("scram", "scram-sha-512", acls[:2]),
    ):
        docs.append(
            resources.kafka_user(
                profile,
                name=name,
                namespace=namespace,
                cluster="cluster",
                authentication=authentication,
                acls=user_acls,
                run_id=run_id,
            )
        )
    docs.append(
        resources.kafka_topic(
            profile, name="my-topic", namespace=namespace, cluster="cluster", partitions=3, run_id=run_id
        )
    )
    pod, config_map = resources.bridge_sidecar(
        name="app",
        namespace=namespace,
        cluster="cluster",
        user="bridge",
        bridge_version=profile.bridge_version,
        run_id=run_id,
    )
    docs += [config_map, pod]
    labels = {resources.RUN_LABEL: run_id}
    docs += [
        client_pod.code_configmap(namespace, labels),
        client_pod.pod(namespace, labels, "python:3.11-slim"),
    ]
    return docs


@pytest.fixture
def cell_platform(request: pytest.FixtureRequest, servers: ServerPool) -> KubernetesPlatform:
    profile, mode = request.param
    return make_platform(servers, profile, mode, f"m{uuid.uuid4().hex[:8]}")


@pytest.mark.parametrize("cell_platform", CELLS, ids=[f"{p.strimzi}-{m}" for p, m in CELLS], indirect=True)
def test_every_scenario_manifest_is_accepted_server_side(cell_platform: KubernetesPlatform) -> None:
    platform = cell_platform
    namespace = f"manifests-{platform.settings.run_id}"
    platform.create_namespace(namespace)
    documents = scenario_documents(
        platform.profile, platform.settings.mode, namespace, platform.settings.run_id
    )
    for document in documents:
        platform.apply(document)
    for document in documents:
        stored = platform.kube.get(
            document["apiVersion"], document["kind"], namespace, document["metadata"]["name"]
        )
        assert stored is not None, document["metadata"]["name"]
        assert stored["metadata"]["labels"][resources.RUN_LABEL] == platform.settings.run_id
        if document["kind"] in ("Kafka", "KafkaUser", "KafkaTopic", "KafkaNodePool"):
            # Server-side apply stored the spec as sent: no field was pruned as unknown.
            assert _without_defaults(stored["spec"], document["spec"]) == document["spec"]


def _without_defaults(stored: Any, sent: Any) -> Any:
    """`stored` reduced to the keys of `sent` (the API server may add schema defaults)."""
    if isinstance(stored, dict) and isinstance(sent, dict):
        return {k: _without_defaults(stored.get(k), v) for k, v in sent.items()}
    if isinstance(stored, list) and isinstance(sent, list) and len(stored) == len(sent):
        return [_without_defaults(a, b) for a, b in zip(stored, sent, strict=True)]
    return stored


def _user(profile: Profile, namespace: str) -> dict[str, Any]:
    return resources.kafka_user(
        profile, name="broken", namespace=namespace, cluster="cluster", acls=[], run_id="broken"
    )


def _refusal(apply: Callable[[dict[str, Any]], object], manifest: dict[str, Any]) -> str:
    """The message of the ManifestError `apply` raises for `manifest` (the test fails if it raises none)."""
    with pytest.raises(ManifestError) as refused:
        apply(manifest)
    return str(refused.value)


@pytest.fixture
def broken_ns(profile_kube: Kube) -> str:
    namespace = f"broken-{uuid.uuid4().hex[:8]}"
    profile_kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    return namespace


def test_an_unknown_field_is_a_manifest_error_naming_it(
    profile: Profile, profile_kube: Kube, broken_ns: str
) -> None:
    """Straight to the API server (no kconform validation in front): strict field validation refuses it."""
    user = _user(profile, broken_ns)
    user["spec"]["authentcation"] = {"type": "tls"}
    assert "spec.authentcation" in _refusal(profile_kube.apply, user)


def test_a_wrong_type_is_a_manifest_error_naming_the_field(
    profile: Profile, profile_kube: Kube, broken_ns: str
) -> None:
    topic = resources.kafka_topic(profile, name="t", namespace=broken_ns, cluster="cluster", run_id="broken")
    topic["spec"]["partitions"] = "three"
    assert "spec.partitions" in _refusal(profile_kube.apply, topic)


def test_an_enum_violation_is_a_manifest_error_naming_the_field(
    profile: Profile, profile_kube: Kube, broken_ns: str
) -> None:
    user = _user(profile, broken_ns)
    user["spec"]["authentication"] = {"type": "kerberos"}
    assert "spec.authentication.type" in _refusal(profile_kube.apply, user)


def test_a_cel_rule_is_a_manifest_error_naming_the_field(servers: ServerPool) -> None:
    """1.2.0's KafkaUser CRD: renewalDays must be less than validityDays (an x-kubernetes-validations rule
    only the API server evaluates; kconform's own validator does not)."""
    profile = PROFILES["1.2.0"]
    kube = kube_with_crds(servers, profile)
    namespace = f"cel-{uuid.uuid4().hex[:8]}"
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    user = _user(profile, namespace)
    user["spec"]["authentication"] = {"type": "tls", "validityDays": 30, "renewalDays": 30}
    message = _refusal(kube.apply, user)
    assert "spec.authentication" in message and "renewalDays" in message and "validityDays" in message
    user["spec"]["authentication"]["renewalDays"] = 29
    kube.apply(user)


def test_the_platform_validates_before_the_api_server_sees_it(servers: ServerPool) -> None:
    profile = PROFILES["1.2.0"]
    platform = make_platform(servers, profile, "kraft", f"v{uuid.uuid4().hex[:8]}")
    namespace = f"pre-{platform.settings.run_id}"
    platform.create_namespace(namespace)
    user = _user(profile, namespace)
    user["spec"]["authorization"] = {"type": "simple", "acls": [{"resource": {"type": "topic"}}]}
    message = _refusal(platform.apply, user)
    assert "the installed CRDs" in message and "spec.authorization.acls[0].operations" in message
    assert platform.get("KafkaUser", namespace, "broken") is None
