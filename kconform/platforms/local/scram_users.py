"""SCRAM-SHA-512 KafkaUsers, realised the way Strimzi's User Operator does it.

Sources (strimzi-kafka-operator, tags 0.45.2 and 1.2.0):
- `user-operator/.../model/KafkaUserModel.java`: the user Secret holds `password` and `sasl.jaas.config`
  (`org.apache.kafka.common.security.scram.ScramLoginModule required username="<name>" password="<pw>";`);
  a password given in `spec.authentication.password.valueFrom.secretKeyRef` is copied into the user Secret,
  otherwise an existing Secret's password is reused, otherwise one is generated; the principal is
  `User:<name>` and `status.username` is `<name>`.
- `operator-common/.../model/PasswordGenerator.java` with `STRIMZI_SCRAM_SHA_PASSWORD_LENGTH` (32,
  `UserOperatorConfig.java`): the first character a letter, the rest letters and digits.
- `user-operator/.../operator/ScramCredentialsOperator.java`: credentials are upserted through the Kafka Admin
  API (AlterUserScramCredentials, SCRAM-SHA-512, 4096 iterations) on every reconcile.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from typing import Any

from kafka.admin import (
    KafkaAdminClient,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)

from kconform.errors import PlatformError, ResourceFailed
from kconform.secrets import Hidden, HiddenData

SCRAM = "scram-sha-512"  # spec.authentication.type of listeners and KafkaUsers
PASSWORD_LENGTH = 32
FIRST_CHARACTERS = string.ascii_letters
CHARACTERS = string.ascii_letters + string.digits
ITERATIONS = 4096
KEY_PASSWORD = "password"  # noqa: S105 - the Secret key's name
KEY_JAAS = "sasl.jaas.config"


def generate_password(length: int = PASSWORD_LENGTH) -> Hidden:
    """A password as Strimzi's PasswordGenerator makes one: a letter, then letters and digits."""
    rest = "".join(secrets.choice(CHARACTERS) for _ in range(length - 1))
    return Hidden(secrets.choice(FIRST_CHARACTERS) + rest)


def jaas_config(username: str, password: str) -> Hidden:
    return Hidden(
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{username}" password="{password}";'
    )


def user_secret_data(username: str, password: str) -> HiddenData:
    return HiddenData({KEY_PASSWORD: Hidden(password), KEY_JAAS: jaas_config(username, password)})


def password_ref(user: Mapping[str, Any]) -> tuple[str, str] | None:
    """(Secret name, key) of `spec.authentication.password.valueFrom.secretKeyRef`, or None."""
    password = (user["spec"].get("authentication") or {}).get("password")
    if password is None:
        return None
    ref = (password.get("valueFrom") or {}).get("secretKeyRef") or {}
    if not ref.get("name") or not ref.get("key"):
        # KafkaUserModel.validateDesiredPassword
        raise ResourceFailed(
            f"KafkaUser {user['metadata']['name']}: Resource requests custom SCRAM-SHA-512 password but "
            "doesn't specify the secret name and/or key"
        )
    return str(ref["name"]), str(ref["key"])


def desired_password(
    user: Mapping[str, Any],
    existing: Mapping[str, bytes | str] | None,
    read_secret: Any,
) -> str:
    """KafkaUserModel.maybeGeneratePassword: the referenced Secret's value, else the existing, else new."""
    name = user["metadata"]["name"]
    ref = password_ref(user)
    if ref is not None:
        secret_name, key = ref
        try:
            data = read_secret(secret_name)
        except PlatformError as err:
            # KafkaUserOperator.getRequiredSecret: the Secret is read from the KafkaUser's own namespace.
            namespace = user["metadata"].get("namespace")
            raise ResourceFailed(
                f"KafkaUser {name}: Secret {secret_name} in namespace {namespace} not found"
            ) from err
        value = data.get(key)
        if value is None:
            raise ResourceFailed(
                f"KafkaUser {name}: Secret {secret_name} does not contain the key {key} with requested "
                "user password."
            )
        text = Hidden(value.decode("utf-8") if isinstance(value, bytes) else value)
        if not text:
            raise ResourceFailed(f"KafkaUser {name}: The requested user password is empty.")
        return text
    kept = existing.get(KEY_PASSWORD) if existing else None
    if kept:
        return Hidden(kept.decode("utf-8") if isinstance(kept, bytes) else kept)
    return generate_password()


def upsert(admin: KafkaAdminClient, username: str, password: str) -> None:
    upsertion = UserScramCredentialUpsertion(
        username, ScramMechanism.SCRAM_SHA_512, password, iterations=ITERATIONS
    )
    failed = {user: err for user, err in admin.alter_user_scram_credentials([upsertion]).items() if err}
    if failed:
        # The User Operator reports a refused upsert as the KafkaUser's NotReady condition; so does this.
        raise ResourceFailed(
            f"KafkaUser {username}: setting its SCRAM-SHA-512 credentials failed: {failed[username]}"
        )


def delete(admin: KafkaAdminClient, username: str) -> None:
    deletion = UserScramCredentialDeletion(username, ScramMechanism.SCRAM_SHA_512)
    admin.alter_user_scram_credentials([deletion])  # a user without credentials answers an error: fine


def in_effect(admin: KafkaAdminClient, username: str) -> bool:
    """True once the broker describes a SCRAM-SHA-512 credential for the user."""
    described = admin.describe_user_scram_credentials([username]).get(username) or {}
    return any(
        info["mechanism"] == ScramMechanism.SCRAM_SHA_512 for info in described.get("credential_infos", [])
    )
