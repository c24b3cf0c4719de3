"""Workflow: a TLS listener with client-certificate authentication.

Source: seeds/000 and 001 (the bridge user's certificate from its KafkaUser Secret and the cluster CA from
`<cluster>-cluster-ca-cert`); Strimzi docs, "Securing access to Kafka brokers" (listener `tls: true` with
`authentication.type: tls`) and "Configuring internal clients to trust the cluster CA".

A Kafka CR with an internal TLS listener that requires client certificates and a KafkaUser with `tls`
authentication; a client takes the bootstrap address from `status.listeners` and the trust material from the
Secrets, as a user would, and keeps TLS hostname verification on.
"""

from __future__ import annotations

import allure
import pytest

from kconform import resources
from kconform.clients.operations import Credentials
from kconform.errors import AuthenticationFailed
from kconform.platforms.local.pki import CertificateAuthority
from kconform.secrets import text

pytestmark = pytest.mark.workflow("tls-listener")
# A refusal client stops at the first refused handshake the broker confirms (clients/kafka_refusals.py), as
# the Java client does; kafka-python alone would retry until this bound runs out, and the refusal is then
# named by a probe of the listener (clients/kafka_probes.py).
REFUSAL_TIMEOUT_S = 2.0


def test_user_certificate_produces_and_consumes(kafka, cell, names):
    """A KafkaUser's certificate produces and consumes over the TLS listener, hostname verification on."""
    user, topic, group = names("app"), names("orders"), names("grp")
    with allure.step("apply a KafkaTopic and a tls KafkaUser allowed to use it → both Ready"):
        kafka.apply_topic(topic)
        kafka.apply_user(
            user,
            acls=[
                resources.acl("topic", topic, ["Read", "Write", "Describe"]),
                resources.acl("group", group, ["Read"]),
            ],
        )
    with allure.step("read the listener's bootstrap and CA from status and Secrets → present and consistent"):
        status = kafka.listener_status("tls")
        assert status["bootstrapServers"]
        assert status["certificates"][0].strip() == text(kafka.cluster_ca(), "ca.crt").strip()
        secret = kafka.user_secret(user)
        assert {"ca.crt", "user.crt", "user.key"} <= set(secret)
    client = kafka.client(user)
    assert client.credentials is not None and client.credentials.check_hostname
    with allure.step("produce a record with the user's certificate → acknowledged at offset 0"):
        offsets = client.produce(topic, ["hello over mTLS"], key="k1")
        assert offsets == [{"partition": 0, "offset": 0}]
    with allure.step("consume it back in the user's group → the same record"):
        records = client.consume(topic, group=group, count=1)
        assert [(r["key"], r["value"]) for r in records] == [("k1", "hello over mTLS")]


def test_client_without_certificate_is_refused(kafka, names):
    """A client that trusts the cluster CA but presents no certificate is refused during the handshake."""
    topic = names("orders")
    kafka.apply_topic(topic)
    anonymous = kafka.client(None, timeout_s=REFUSAL_TIMEOUT_S, stop_at_refusal=True)
    with allure.step("produce without a client certificate → the TLS handshake is refused"):
        with pytest.raises(AuthenticationFailed):
            anonymous.produce(topic, ["must not arrive"])


def test_client_trusting_another_ca_is_refused(kafka, names):
    """A client with a valid user certificate but trusting a different CA does not accept the broker."""
    user, topic = names("app"), names("orders")
    kafka.apply_topic(topic)
    kafka.apply_user(user, acls=[resources.acl("topic", topic, ["Write"])])
    secret = kafka.user_secret(user)
    stranger = CertificateAuthority.create("stranger-ca")
    credentials = Credentials(
        ca_crt=stranger.cert_pem, user_crt=text(secret, "user.crt"), user_key=text(secret, "user.key")
    )
    client = kafka.client(user, credentials=credentials, timeout_s=REFUSAL_TIMEOUT_S, stop_at_refusal=True)
    with allure.step("produce while trusting an unrelated CA → the broker's certificate is rejected"):
        with pytest.raises(AuthenticationFailed):
            client.produce(topic, ["must not arrive"])
