"""The Strimzi resources scenarios apply: templates from manifests/, edited here and rendered for a profile.

Templates are authored once (in the newest API, ``kafka.strimzi.io/v1``) and ``render_for_profile`` turns
them into what the profile's CRDs serve. The builders below return plain dicts; platforms validate them
with ``kconform.schemas.SchemaSet`` before realising them, so nothing here needs the CRDs.
"""

from __future__ import annotations

import base64
import copy
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kconform import paths
from kconform.errors import InvalidCombination, ManifestError, UsageError
from kconform.java_properties import parse_properties, render_properties
from kconform.secrets import Hidden, HiddenData
from kconform.versions import KRAFT, KRAFT_DEDICATED, ZOOKEEPER, Profile, check_mode

Resource = dict[str, Any]

STRIMZI_GROUP = "kafka.strimzi.io"
RUN_LABEL = "kconform.io/run"  # every resource of a run carries it, so a run can be found and cleaned up
CLUSTER_LABEL = "strimzi.io/cluster"
KRAFT_ANNOTATION = "strimzi.io/kraft"
NODE_POOLS_ANNOTATION = "strimzi.io/node-pools"
NEXT_NODE_IDS_ANNOTATION = "strimzi.io/next-node-ids"

# The templates behind each mode; the pools pin node IDs (broker 0 in every mode, controllers from 100).
_KAFKA_TEMPLATE = {KRAFT: "strimzi/kafka.yaml", KRAFT_DEDICATED: "strimzi/kafka.yaml"}
_KAFKA_ZOOKEEPER_TEMPLATE = "strimzi/kafka-zookeeper.yaml"
_POOL_TEMPLATES = {
    KRAFT: ("strimzi/nodepool-dual-role.yaml",),
    KRAFT_DEDICATED: ("strimzi/nodepool-controller.yaml", "strimzi/nodepool-broker.yaml"),
    ZOOKEEPER: (),
}
FIRST_BROKER_ID = 0  # the node ID of the (single) broker in every mode
# Pool names are fixed, so one namespace holds one cluster (every test gets its own namespace anyway).
BROKER_POOL = {KRAFT: "dual-role", KRAFT_DEDICATED: "broker", ZOOKEEPER: "kafka"}  # "kafka": no pools

BRIDGE_CONFIG_KEY = "bridge.properties"
BRIDGE_CONFIG_DIR = "/etc/kafka-bridge-config"
BRIDGE_IMAGE = "quay.io/strimzi/kafka-bridge"

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


# ------------------------------------------------------------------------------------------------ loading


def load(relative_path: str) -> list[Resource]:
    """The documents of a manifest under manifests/ (a fresh deep copy on every call)."""
    path = _manifest_path(relative_path)
    return copy.deepcopy(_parse(str(path), path.stat().st_mtime_ns))


def load_one(relative_path: str) -> Resource:
    """The single document of a manifest; a manifest with several documents is an error."""
    documents = load(relative_path)
    if len(documents) != 1:
        raise ManifestError(
            f"manifests/{relative_path} holds {len(documents)} documents; expected exactly one"
        )
    return documents[0]


def load_text(relative_path: str) -> str:
    """A non-YAML file under manifests/ (the bridge's properties)."""
    return _manifest_path(relative_path).read_text(encoding="utf-8")


def _manifest_path(relative_path: str) -> Path:
    root = paths.MANIFESTS_DIR.resolve()
    path = (root / relative_path).resolve()
    if root not in path.parents or not path.is_file():
        raise UsageError(f"no manifest {relative_path!r} under {root}")
    return path


@functools.lru_cache(maxsize=64)
def _parse(path: str, _mtime_ns: int) -> list[Resource]:
    try:
        with Path(path).open(encoding="utf-8") as handle:
            documents = [doc for doc in yaml.safe_load_all(handle) if doc is not None]
    except yaml.YAMLError as err:
        raise ManifestError(f"{path} is not valid YAML: {err}") from err
    for index, doc in enumerate(documents):
        if not isinstance(doc, dict):
            raise ManifestError(f"{path}: document {index + 1} is a {type(doc).__name__}, not a mapping")
    return documents


# ------------------------------------------------------------------------------------------ small helpers


def _check_label_value(what: str, value: str) -> str:
    if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
        raise UsageError(
            f"{what} {value!r} cannot be a label value: "
            "use at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends"
        )
    return value


def labelled(resource: Mapping[str, Any], run_id: str) -> Resource:
    """A copy of the resource carrying the run label (how a run's leftovers are found and removed)."""
    _check_label_value("run id", run_id)
    out = copy.deepcopy(dict(resource))
    out.setdefault("metadata", {}).setdefault("labels", {})[RUN_LABEL] = run_id
    return out


def _named(resource: Resource, name: str, namespace: str, cluster: str | None = None) -> Resource:
    metadata = resource.setdefault("metadata", {})
    metadata["name"] = name
    metadata["namespace"] = namespace
    if cluster is not None:
        metadata.setdefault("labels", {})[CLUSTER_LABEL] = cluster
    return resource


def _group(resource: Mapping[str, Any]) -> str:
    api_version = resource.get("apiVersion")
    return api_version.rpartition("/")[0] if isinstance(api_version, str) else ""


# --------------------------------------------------------------------------------------------- rendering


def render_for_profile(resource: Mapping[str, Any], profile: Profile) -> Resource:
    """The resource as the profile's CRDs expect it (a copy; non-Strimzi resources come back unchanged).

    - apiVersion becomes ``profile.api_version``;
    - on v1: ACL ``operation`` becomes ``operations``; ``spec.kafka.replicas/storage`` (ignored with node
      pools) and the KRaft/node-pool annotations (ignored since 0.48) are dropped; a ZooKeeper cluster is
      refused;
    - on profiles that need them (0.45.x) a KRaft Kafka gets ``strimzi.io/kraft`` and
      ``strimzi.io/node-pools: enabled``, a ZooKeeper one ``strimzi.io/kraft: disabled``.
    """
    out = copy.deepcopy(dict(resource))
    if _group(out) != STRIMZI_GROUP:
        return out
    out["apiVersion"] = profile.api_version
    kind = out.get("kind")
    if profile.crd_api == "v1":
        if kind == "KafkaUser":
            _acls_to_operations(out)
        elif kind == "Kafka":
            _kafka_to_v1(out, profile)
    if kind == "Kafka" and profile.kraft_annotations:
        annotations = out.setdefault("metadata", {}).setdefault("annotations", {})
        if "zookeeper" in (out.get("spec") or {}):
            annotations.setdefault(KRAFT_ANNOTATION, "disabled")
        else:
            annotations.setdefault(KRAFT_ANNOTATION, "enabled")
            annotations.setdefault(NODE_POOLS_ANNOTATION, "enabled")
    return out


def _acls_to_operations(user: Resource) -> None:
    authorization = (user.get("spec") or {}).get("authorization") or {}
    for rule in authorization.get("acls") or ():
        if isinstance(rule, dict) and "operation" in rule:
            single = rule.pop("operation")
            operations = list(rule.get("operations") or ())
            if single not in operations:
                operations.insert(0, single)
            rule["operations"] = operations


def _kafka_to_v1(kafka: Resource, profile: Profile) -> None:
    spec = kafka.get("spec") or {}
    metadata = kafka.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    if "zookeeper" in spec or annotations.get(KRAFT_ANNOTATION) == "disabled":
        raise InvalidCombination(
            f"Kafka {metadata.get('name')!r} uses ZooKeeper, which Strimzi {profile.strimzi} lacks; "
            "use a KRaft cluster with node pools (mode kraft or kraft-dedicated)"
        )
    kafka_spec = spec.get("kafka") or {}
    kafka_spec.pop("replicas", None)
    kafka_spec.pop("storage", None)
    for key in (KRAFT_ANNOTATION, NODE_POOLS_ANNOTATION):
        annotations.pop(key, None)
    if "annotations" in metadata and not annotations:
        del metadata["annotations"]


# ---------------------------------------------------------------------------------------------- listeners


@dataclass(frozen=True)
class BrokerOverride:
    """Per-broker settings of an external listener: what the broker advertises and its fixed node port."""

    broker: int  # the Kafka node ID (0 for the single broker in every mode)
    node_port: int | None = None
    advertised_host: str | None = None
    advertised_port: int | None = None


def internal_listener(name: str, port: int, tls: bool, authentication: str | None) -> dict[str, Any]:
    """An ``internal`` listener; authentication is ``tls``, ``scram-sha-512`` or None."""
    return _listener(name, port, "internal", tls, authentication)


def nodeport_listener(
    name: str,
    port: int,
    tls: bool,
    authentication: str | None,
    *,
    bootstrap_node_port: int | None = None,
    brokers: Sequence[BrokerOverride] = (),
    alternative_names: Sequence[str] = (),
) -> dict[str, Any]:
    """A ``nodeport`` listener; pin ports and advertised addresses so clients outside can follow metadata."""
    listener = _listener(name, port, "nodeport", tls, authentication)
    bootstrap: dict[str, Any] = {}
    if bootstrap_node_port is not None:
        bootstrap["nodePort"] = bootstrap_node_port
    if alternative_names:
        bootstrap["alternativeNames"] = list(alternative_names)
    configuration: dict[str, Any] = {}
    if bootstrap:
        configuration["bootstrap"] = bootstrap
    if brokers:
        configuration["brokers"] = [_broker_override(b) for b in brokers]
    if configuration:
        listener["configuration"] = configuration
    return listener


def _broker_override(override: BrokerOverride) -> dict[str, Any]:
    entry: dict[str, Any] = {"broker": override.broker}
    if override.node_port is not None:
        entry["nodePort"] = override.node_port
    if override.advertised_host is not None:
        entry["advertisedHost"] = override.advertised_host
    if override.advertised_port is not None:
        entry["advertisedPort"] = override.advertised_port
    return entry


def _listener(name: str, port: int, kind: str, tls: bool, authentication: str | None) -> dict[str, Any]:
    if authentication == "tls" and not tls:
        # Strimzi refuses this only at reconcile time; say so now.
        raise UsageError(f"listener {name!r}: TLS client authentication needs tls=True")
    listener: dict[str, Any] = {"name": name, "port": port, "type": kind, "tls": tls}
    if authentication is not None:
        listener["authentication"] = {"type": authentication}
    return listener


# ------------------------------------------------------------------------------------------------ Kafka


def kafka_cluster(
    profile: Profile,
    mode: str,
    *,
    name: str,
    namespace: str,
    listeners: list[dict[str, Any]],
    authorization: dict[str, Any] | None = None,
    super_users: Sequence[str] = (),
    config: Mapping[str, Any] | None = None,
    run_id: str,
    metadata_version: str | None = None,
) -> list[Resource]:
    """The Kafka CR and the KafkaNodePools ``mode`` needs, rendered for the profile.

    ``super_users`` are principals without the ``User:`` prefix (``CN=<user>`` for TLS users) and need
    ``authorization``. ``metadata_version`` (KRaft only) is left to the operator's default when None.
    """
    check_mode(profile, mode)
    if not listeners:
        raise UsageError("a Kafka cluster needs at least one listener")
    _check_unique_listeners(listeners)
    kafka = load_one(_KAFKA_ZOOKEEPER_TEMPLATE if mode == ZOOKEEPER else _KAFKA_TEMPLATE[mode])
    _named(kafka, name, namespace)
    kafka_spec = kafka["spec"]["kafka"]
    kafka_spec["version"] = profile.kafka_version
    kafka_spec["listeners"] = copy.deepcopy(list(listeners))
    if metadata_version is not None:
        if mode == ZOOKEEPER:
            raise UsageError("metadata_version applies to KRaft clusters only; leave it unset for ZooKeeper")
        kafka_spec["metadataVersion"] = metadata_version
    if super_users and authorization is None:
        raise UsageError("super_users need authorization (e.g. authorization={'type': 'simple'})")
    if authorization is not None:
        kafka_spec["authorization"] = copy.deepcopy(dict(authorization))
        if super_users:
            kafka_spec["authorization"]["superUsers"] = list(super_users)
    if config:
        kafka_spec.setdefault("config", {}).update(copy.deepcopy(dict(config)))
    resources = [kafka]
    for template in _POOL_TEMPLATES[mode]:
        pool = load_one(template)
        _named(pool, pool["metadata"]["name"], namespace, cluster=name)
        resources.append(pool)
    return [labelled(render_for_profile(resource, profile), run_id) for resource in resources]


def broker_pod_name(cluster: str, mode: str, node_id: int = FIRST_BROKER_ID) -> str:
    """The Pod Strimzi runs a broker in: ``<cluster>-<pool>-<node id>`` (pool ``kafka`` without pools)."""
    return f"{cluster}-{BROKER_POOL[mode]}-{node_id}"


def _check_unique_listeners(listeners: Sequence[Mapping[str, Any]]) -> None:
    for key in ("name", "port"):
        seen = [listener.get(key) for listener in listeners]
        duplicates = sorted({str(value) for value in seen if seen.count(value) > 1})
        if duplicates:
            raise UsageError(f"listener {key}s must be unique; repeated: {', '.join(duplicates)}")


# ------------------------------------------------------------------------------------------ users, topics


def acl(
    resource_type: str,
    name: str,
    operations: Sequence[str],
    pattern_type: str = "literal",
    host: str = "*",
    type: str = "allow",
) -> dict[str, Any]:
    """One simple-authorization ACL rule (always the ``operations`` list form)."""
    if isinstance(operations, str) or not operations:
        raise UsageError(f"ACL operations must be a non-empty list, e.g. ['Read']; got {operations!r}")
    resource: dict[str, Any] = {"type": resource_type}
    if resource_type != "cluster":  # the cluster resource has no name
        resource["name"] = name
        resource["patternType"] = pattern_type
    return {"resource": resource, "operations": list(operations), "host": host, "type": type}


SCRAM_SHA_512 = "scram-sha-512"


@dataclass(frozen=True)
class PasswordRef:
    """`spec.authentication.password.valueFrom.secretKeyRef` of a scram-sha-512 KafkaUser."""

    secret: str
    key: str = "password"


def kafka_user(
    profile: Profile,
    *,
    name: str,
    namespace: str,
    cluster: str,
    authentication: str | None = "tls",
    acls: Sequence[dict[str, Any]] = (),
    run_id: str,
    password: PasswordRef | None = None,
    annotations: Mapping[str, str] | None = None,
) -> Resource:
    """A KafkaUser of ``cluster``; with no ACLs it has no authorization section (and so no rights).

    ``authentication`` is ``tls``, ``scram-sha-512`` or None; a scram-sha-512 user takes its password from
    ``password`` (a Secret the user owns) instead of the one the User Operator generates."""
    user = load_one("strimzi/kafka-user.yaml")
    _named(user, name, namespace, cluster=cluster)
    if annotations:
        user["metadata"].setdefault("annotations", {}).update(annotations)
    spec = user["spec"]
    if password is not None and authentication != SCRAM_SHA_512:
        raise UsageError(f"KafkaUser {name}: a provided password needs authentication {SCRAM_SHA_512}")
    if authentication is None:
        spec.pop("authentication", None)
    else:
        spec["authentication"] = {"type": authentication}
    if password is not None:
        spec["authentication"]["password"] = {
            "valueFrom": {"secretKeyRef": {"name": password.secret, "key": password.key}}
        }
    if acls:
        spec["authorization"] = {"type": "simple", "acls": copy.deepcopy(list(acls))}
    else:
        spec.pop("authorization", None)
    return labelled(render_for_profile(user, profile), run_id)


def password_secret(*, name: str, namespace: str, key: str, password: str, run_id: str) -> Resource:
    """The user's own Secret holding a scram-sha-512 KafkaUser's password (``data``, base64 as stored).

    It carries no Strimzi label on purpose: the User Operator reads it by name in the KafkaUser's namespace,
    and a Secret labelled ``strimzi.io/kind=KafkaUser`` + ``strimzi.io/cluster`` would be taken for the user
    Secret of a KafkaUser named like it — one that does not exist, so the operator would delete it."""
    encoded = base64.b64encode(password.encode("utf-8")).decode("ascii")
    data = HiddenData({key: Hidden(encoded)})  # a repr (e.g. in a traceback) never shows the value
    secret: Resource = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "data": data}
    return labelled(_named(secret, name, namespace), run_id)


def kafka_topic(
    profile: Profile,
    *,
    name: str,
    namespace: str,
    cluster: str,
    partitions: int = 1,
    replicas: int = 1,
    config: Mapping[str, Any] | None = None,
    run_id: str,
) -> Resource:
    """A KafkaTopic of ``cluster`` (the topic's name is the resource's name)."""
    topic = load_one("strimzi/kafka-topic.yaml")
    _named(topic, name, namespace, cluster=cluster)
    topic["spec"]["partitions"] = partitions
    topic["spec"]["replicas"] = replicas
    if config:
        topic["spec"]["config"] = copy.deepcopy(dict(config))
    return labelled(render_for_profile(topic, profile), run_id)


# ------------------------------------------------------------------------------------- the bridge sidecar


def bridge_sidecar(
    *,
    name: str,
    namespace: str,
    cluster: str,
    user: str,
    bridge_version: str,
    run_id: str,
    http_port: int = 8080,
) -> tuple[Resource, Resource]:
    """The seed's sidecar: a Pod (application + bridge on 127.0.0.1) and the ConfigMap with its config."""
    config_map = load_one("sidecar/bridge-configmap.yaml")
    config_name = f"{name}-bridge-config"
    _named(config_map, config_name, namespace)
    properties = parse_properties(load_text("sidecar/bridge.properties"))
    properties.update(
        {
            "bridge.id": name,
            "http.port": str(http_port),
            "kafka.bootstrap.servers": f"{cluster}-kafka-bootstrap:9093",
        }
    )
    config_map["data"] = {BRIDGE_CONFIG_KEY: render_properties(properties)}

    pod = load_one("sidecar/bridge-pod.yaml")
    _named(pod, name, namespace)
    pod["metadata"].setdefault("labels", {})["app.kubernetes.io/name"] = _check_label_value(
        "sidecar name", name
    )
    bridge = _container(pod, "bridge")
    bridge["image"] = f"{BRIDGE_IMAGE}:{bridge_version}"
    bridge["command"] = [
        "/opt/strimzi/bin/kafka_bridge_run.sh",
        f"--config-file={BRIDGE_CONFIG_DIR}/{BRIDGE_CONFIG_KEY}",
    ]
    secrets = {"USER_CRT": (user, "user.crt"), "USER_KEY": (user, "user.key")}
    secrets["CA_CRT"] = (f"{cluster}-cluster-ca-cert", "ca.crt")
    bridge["env"] = [
        {"name": env, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
        for env, (secret, key) in secrets.items()
    ]
    bridge["volumeMounts"] = [{"name": "bridge-config", "mountPath": BRIDGE_CONFIG_DIR, "readOnly": True}]
    pod["spec"]["volumes"] = [{"name": "bridge-config", "configMap": {"name": config_name}}]
    return labelled(pod, run_id), labelled(config_map, run_id)


def _container(pod: Resource, name: str) -> dict[str, Any]:
    for container in pod["spec"]["containers"]:
        if container.get("name") == name:
            return container
    raise ManifestError(f"Pod template {pod['metadata'].get('name')!r} has no container named {name!r}")
