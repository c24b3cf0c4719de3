"""Workflow: SCRAM-SHA-512 listeners and users, and the listener-protocol pitfall of seed 003.

Source: seeds/003 (SASL/SCRAM authentication; a client speaking the wrong protocol to a SASL listener fails and
the broker logs "Unexpected Kafka request of type METADATA during SASL handshake"; the fix is a client
`security.protocol` matching the listener); Strimzi docs, "Configuring listeners to secure access to Kafka
brokers" (`authentication.type: scram-sha-512`, `tls: false` → SASL_PLAINTEXT, `tls: true` → SASL_SSL) and
"User authentication" (the user Secret's `password` and `sasl.jaas.config`, a password provided through
`spec.authentication.password.valueFrom.secretKeyRef`).

One cluster per cell with a SASL_PLAINTEXT listener (`scram`), a SASL_SSL listener (`scramtls`, hostname
verification on) and a mutual-TLS listener (`tls`); ACLs apply to the principal `User:<name>`.
"""

from __future__ import annotations

import secrets
import string

import allure
import pytest

from kconform import resources
from kconform.errors import AuthenticationFailed, AuthorizationFailed, ProtocolMismatch
from kconform.secrets import Hidden, text
from kconform_fixtures.scram import MTLS, PLAIN, TLS

pytestmark = pytest.mark.workflow("scram-listener")
# A refusal client stops at the first refused login the broker confirms (clients/kafka_refusals.py), as the
# Java client does; kafka-python alone would retry until this bound runs out, and the refusal is then named
# by a probe of the listener (clients/kafka_probes.py).
REFUSAL_TIMEOUT_S = 2.0
# Bound for the plaintext client: its own METADATA request must reach the broker, whose log line the test
# quotes; its connection lost after that request is what stops it.
PLAINTEXT_REFUSAL_TIMEOUT_S = 6.0
PASSWORD_CHANGE_TIMEOUT_S = 120.0
SCRAM_LISTENERS = [(PLAIN, "SASL_PLAINTEXT"), (TLS, "SASL_SSL")]


def a_password() -> Hidden:
    """A password the user chooses (letters and digits, so the secret scan of the reports can find it);
    Hidden: a failure's traceback prints arguments with repr, which must not show it."""
    return Hidden("".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24)))


def read_write(topic: str, group: str) -> list[dict]:
    return [
        resources.acl("topic", topic, ["Read", "Write", "Describe"]),
        resources.acl("group", group, ["Read"]),
    ]


def _produce_and_consume_on_both_listeners(scram_kafka, user: str, topic: str, group: str, **kw) -> None:
    for offset, (listener, protocol) in enumerate(SCRAM_LISTENERS):
        client = scram_kafka.client(user, listener, **kw)
        with allure.step(f"produce over {listener} ({protocol}) as User:{user} → acknowledged"):
            assert client.produce(topic, [f"via {listener}"]) == [{"partition": 0, "offset": offset}]
    with allure.step("consume both records in the granted group → both, in order"):
        records = scram_kafka.client(user, TLS, **kw).consume(topic, group=group, count=2)
        assert [r["value"] for r in records] == [f"via {name}" for name, _ in SCRAM_LISTENERS]


def test_generated_password_produces_and_consumes_on_both_listeners(scram_kafka, names):
    """A SCRAM user with the operator's password produces and consumes over SASL_PLAINTEXT and SASL_SSL."""
    user, topic, group = names("app"), names("orders"), names("grp")
    scram_kafka.kafka.apply_topic(topic)
    with allure.step("apply a scram-sha-512 KafkaUser with ACLs → Ready, status.username is the name"):
        ready = scram_kafka.apply_user(user, read_write(topic, group))
        assert ready["status"]["username"] == user
    with allure.step("its Secret holds Strimzi's password (32 letters/digits) and sasl.jaas.config"):
        secret = scram_kafka.user_secret(user)
        assert sorted(secret) == ["password", "sasl.jaas.config"]
        password = scram_kafka.password(user)
        # Booleans only: a failed assertion must not print a password into the reports.
        strimzi_shaped = len(password) == 32 and password.isalnum() and password[0].isalpha()
        assert strimzi_shaped, "the generated password is not 32 letters and digits starting with a letter"
        expected = (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{user}" password="{password}";'
        )
        jaas_matches = secrets.compare_digest(text(secret, "sasl.jaas.config"), expected)
        assert jaas_matches, "sasl.jaas.config is not ScramLoginModule with the user's name and password"
    _produce_and_consume_on_both_listeners(scram_kafka, user, topic, group)
    elsewhere = names("ungranted")
    scram_kafka.kafka.apply_topic(elsewhere)
    with allure.step("produce to a topic User:<name> has no ACL on → topic authorization error"):
        with pytest.raises(AuthorizationFailed) as refused:
            scram_kafka.client(user, PLAIN).produce(elsewhere, ["denied"], idempotent=False)
        assert refused.value.scope == "topic"


def test_provided_password_produces_and_consumes_on_both_listeners(scram_kafka, names):
    """A SCRAM user whose password comes from the user's own Secret (secretKeyRef) works on both listeners."""
    user, topic, group = names("own"), names("orders"), names("grp")
    chosen = a_password()
    scram_kafka.kafka.apply_topic(topic)
    with allure.step("apply a Secret with the password and a KafkaUser referring to it → Ready"):
        scram_kafka.apply_user(user, read_write(topic, group), password=chosen)
    with allure.step("the user Secret carries the provided password"):
        copied = secrets.compare_digest(scram_kafka.password(user), chosen)
        assert copied, "the user Secret's password is not the one the user provided"
    _produce_and_consume_on_both_listeners(scram_kafka, user, topic, group, password=chosen)


def test_wrong_password_is_refused(scram_kafka, names):
    """A SCRAM user presenting a wrong password is refused with the authentication error, on both listeners."""
    user, topic = names("app"), names("orders")
    scram_kafka.kafka.apply_topic(topic)
    scram_kafka.apply_user(user, [resources.acl("topic", topic, ["Write"])])
    for listener, protocol in SCRAM_LISTENERS:
        client = scram_kafka.client(
            user, listener, password=a_password(), timeout_s=REFUSAL_TIMEOUT_S, stop_at_refusal=True
        )
        with allure.step(
            f"produce over {listener} ({protocol}) with a wrong password → authentication error"
        ):
            with pytest.raises(AuthenticationFailed) as refused:
                client.produce(topic, ["must not arrive"])
            assert "SCRAM-SHA-512" in str(refused.value) and user in str(refused.value)


def test_plaintext_client_on_sasl_listener_is_explained(scram_kafka, names):
    """A client speaking PLAINTEXT to the SASL listener fails; the error names both protocols (seed 003)."""
    topic = names("orders")
    scram_kafka.kafka.apply_topic(topic)
    client = scram_kafka.client(None, PLAIN, timeout_s=PLAINTEXT_REFUSAL_TIMEOUT_S, stop_at_refusal=True)
    with allure.step(
        "produce with security.protocol PLAINTEXT to the SASL_PLAINTEXT listener → refused, explained"
    ):
        with pytest.raises(ProtocolMismatch) as mismatch:
            client.produce(topic, ["must not arrive"])
    message = str(mismatch.value)
    assert "the client spoke PLAINTEXT" in message and "expects SASL_PLAINTEXT" in message
    assert "SCRAM-SHA-512" in message
    with allure.step("the harness quotes the broker's log line for it"):
        assert "Unexpected Kafka request of type METADATA during SASL handshake" in message


def test_certificate_user_is_refused_on_scram_listener(scram_kafka, names):
    """A TLS-certificate KafkaUser works on the mutual-TLS listener and is refused on the SASL_SSL listener."""
    user, topic = names("certuser"), names("orders")
    kafka = scram_kafka.kafka
    kafka.apply_topic(topic)
    kafka.apply_user(user, acls=[resources.acl("topic", topic, ["Write"])])
    with allure.step("produce with the user's certificate over the mutual-TLS listener → acknowledged"):
        kafka.client(user, MTLS).produce(topic, ["with a certificate"])
    certificate = kafka.credentials(user)
    assert certificate.user_crt and not certificate.sasl
    client = scram_kafka.client(
        None, TLS, credentials=certificate, timeout_s=REFUSAL_TIMEOUT_S, stop_at_refusal=True
    )
    with allure.step(
        "the same certificate on the SASL_SSL listener → refused: it expects SCRAM, not a certificate"
    ):
        with pytest.raises(ProtocolMismatch) as refused:
            client.produce(topic, ["must not arrive"])
        assert "the client spoke SSL" in str(refused.value) and "expects SASL_SSL" in str(refused.value)


def test_password_change_takes_effect_without_broker_restart(scram_kafka, names):
    """A new value in the referenced Secret: the old password fails, the new one works, no broker restarts."""
    user, topic = names("rotate"), names("orders")
    old, new = a_password(), a_password()
    scram_kafka.kafka.apply_topic(topic)
    scram_kafka.apply_user(user, [resources.acl("topic", topic, ["Write", "Describe"])], password=old)
    brokers_before = scram_kafka.broker_incarnations()
    with allure.step("produce with the first password → acknowledged"):
        scram_kafka.client(user, PLAIN, password=old).produce(topic, ["before the change"])
    with allure.step(
        "put a new password in the user's Secret and reconcile the KafkaUser → user Secret updated"
    ):
        scram_kafka.change_password(user, new)
    with allure.step("the new password works on both listeners (awaited: credentials propagate to brokers)"):
        for listener, _ in SCRAM_LISTENERS:
            assert scram_kafka.works(user, listener, topic, password=new, timeout=PASSWORD_CHANGE_TIMEOUT_S)
    with allure.step("the old password → authentication error"):
        stale = scram_kafka.client(
            user, PLAIN, password=old, timeout_s=REFUSAL_TIMEOUT_S, stop_at_refusal=True
        )
        with pytest.raises(AuthenticationFailed):
            stale.produce(topic, ["with the old password"])
    with allure.step("no broker restarted"):
        assert scram_kafka.broker_incarnations() == brokers_before
