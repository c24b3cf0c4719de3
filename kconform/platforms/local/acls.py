"""KafkaUser `spec.authorization.acls` as Kafka ACL bindings: what the User Operator does, done locally."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    KafkaAdminClient,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
)

from kconform.errors import PlatformError, UsageError

_RESOURCE_TYPES = {
    "topic": ResourceType.TOPIC,
    "group": ResourceType.GROUP,
    "cluster": ResourceType.CLUSTER,
    "transactionalId": ResourceType.TRANSACTIONAL_ID,
}
_OPERATIONS = {
    "Read": ACLOperation.READ,
    "Write": ACLOperation.WRITE,
    "Create": ACLOperation.CREATE,
    "Delete": ACLOperation.DELETE,
    "Alter": ACLOperation.ALTER,
    "Describe": ACLOperation.DESCRIBE,
    "ClusterAction": ACLOperation.CLUSTER_ACTION,
    "AlterConfigs": ACLOperation.ALTER_CONFIGS,
    "DescribeConfigs": ACLOperation.DESCRIBE_CONFIGS,
    "IdempotentWrite": ACLOperation.IDEMPOTENT_WRITE,
    "All": ACLOperation.ALL,
}


def principal_for(user: Mapping[str, Any]) -> str:
    """Kafka principal of a KafkaUser: `User:CN=<name>` for certificates, `User:<name>` for SCRAM."""
    name = user["metadata"]["name"]
    auth = (user.get("spec", {}).get("authentication") or {}).get("type")
    return f"User:CN={name}" if auth in ("tls", "tls-external") else f"User:{name}"


def bindings(user: Mapping[str, Any]) -> set[ACL]:
    """Every ACL binding a KafkaUser asks for (both `operations` and the older single `operation`)."""
    authorization = user.get("spec", {}).get("authorization") or {}
    if not authorization:
        return set()
    if authorization.get("type") != "simple":
        raise UsageError(
            f"KafkaUser {user['metadata']['name']}: authorization type {authorization.get('type')!r} is not "
            "realised by the local platform; use simple"
        )
    principal = principal_for(user)
    result: set[ACL] = set()
    for rule in authorization.get("acls") or []:
        resource = rule["resource"]
        rtype = _RESOURCE_TYPES[resource["type"]]
        name = "kafka-cluster" if rtype == ResourceType.CLUSTER else resource.get("name", "*")
        pattern = (
            ACLResourcePatternType.PREFIXED
            if resource.get("patternType") == "prefix"
            else ACLResourcePatternType.LITERAL
        )
        permission = ACLPermissionType.DENY if rule.get("type") == "deny" else ACLPermissionType.ALLOW
        operations: Sequence[str] = rule.get("operations") or (
            [rule["operation"]] if "operation" in rule else []
        )
        for op in operations:
            result.add(
                ACL(
                    principal=principal,
                    host=rule.get("host", "*"),
                    operation=_OPERATIONS[op],
                    permission_type=permission,
                    resource_pattern=ResourcePattern(rtype, name, pattern),
                )
            )
    return result


def _principal_filter(principal: str) -> ACLFilter:
    return ACLFilter(
        principal=principal,
        host=None,
        operation=ACLOperation.ANY,
        permission_type=ACLPermissionType.ANY,
        resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY),
    )


def current(admin: KafkaAdminClient, principal: str) -> set[ACL]:
    found, error = admin.describe_acls(_principal_filter(principal))
    if error is not None and int(getattr(error, "errno", 0) or 0):
        raise PlatformError(f"describing ACLs of {principal} failed: {error}")
    return set(found)


def reconcile(admin: KafkaAdminClient, principal: str, wanted: set[ACL]) -> None:
    """Make the broker's ACLs for `principal` exactly `wanted`: add the missing, delete the extra."""
    have = current(admin, principal)
    missing = wanted - have
    extra = have - wanted
    if missing:
        outcome = admin.create_acls(list(missing))
        if outcome.get("failed"):
            raise PlatformError(f"creating ACLs for {principal} failed: {outcome['failed']}")
    if extra:
        filters = [
            ACLFilter(acl.principal, acl.host, acl.operation, acl.permission_type, acl.resource_pattern)
            for acl in extra
        ]
        admin.delete_acls(filters)


def in_effect(admin: KafkaAdminClient, principal: str, wanted: set[ACL]) -> bool:
    """True once the authorizer reports exactly the wanted bindings for the principal."""
    return current(admin, principal) == wanted
