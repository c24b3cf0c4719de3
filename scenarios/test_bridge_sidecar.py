"""Workflow: the Strimzi HTTP bridge as a sidecar container.

Source: seeds/000 and 001 (DOIK: "HTTP Bridge as a Kubernetes Sidecar"), after Strimzi's blog "Using HTTP
Bridge as a Kubernetes sidecar" (2021-08-18), modernised: the official Kafka EnvVarConfigProvider, PEM key and
trust material from the KafkaUser and cluster CA Secrets through environment variables, `http.host=127.0.0.1`
so only the pod's own containers reach it, and `operations` ACLs. The application container talks to Kafka only
through HTTP on localhost. Also the seed's two surprises: `GET /topics/<t>` needs DescribeConfigs, and the
bridge cannot be reached from outside the pod.
"""

from __future__ import annotations

import allure
import pytest

from kconform import resources
from kconform.clients.bridge_client import BridgeClient
from kconform.errors import BridgeError

pytestmark = [pytest.mark.workflow("bridge-sidecar"), pytest.mark.bridge]


def seed_acls(topic: str, group: str, *extra: str) -> list[dict]:
    return [
        resources.acl("topic", topic, ["Read", "Write", *extra]),
        resources.acl("group", group, ["Read"]),
    ]


@pytest.fixture
def sidecar(kafka, names, bridge_sidecar) -> tuple[BridgeClient, object, str, str, str]:
    """The seed's pod: a bridge user with the seed's ACLs, its topic, and the pod running the bridge."""
    user, topic, group = names("bridge"), names("my-topic"), names("my-group")
    kafka.apply_topic(topic)
    kafka.apply_user(user, acls=seed_acls(topic, group))
    started = bridge_sidecar(user)
    return started.client, started.running, user, topic, group


def test_json_record_round_trip(sidecar, cell):
    """Produce over HTTP, then create a consumer, subscribe, poll, commit and delete: the record comes back intact."""
    bridge, _running, _user, topic, group = sidecar
    record = {"key": "order-1", "value": {"id": 1, "items": ["book", "pen"], "total": 12.5}}
    with allure.step("GET / → the bridge reports the profile's bridge version; /healthy and /ready answer"):
        assert bridge.info()["bridge_version"] == cell.profile.bridge_version
        # Bridge <1.0 answers them with 204 on the API port, >=1.0 with 200 on the management port.
        assert bridge.healthy() and bridge.ready()
    with allure.step("POST /topics/<t> with a JSON record → 200 with an offset"):
        offsets = bridge.produce(topic, [record])
        assert offsets and "error_code" not in offsets[0] and offsets[0]["offset"] == 0
    with allure.step("POST /consumers/<g> → a consumer instance"):
        bridge.create_consumer(group, "consumer-1", fmt="json")
    try:
        with allure.step("subscribe and poll → the same key and value"):
            bridge.subscribe(group, "consumer-1", [topic])
            polled = bridge.poll_until(group, "consumer-1", count=1, timeout_s=60)
            assert [(r["key"], r["value"]) for r in polled] == [(record["key"], record["value"])]
        with allure.step("commit the polled record's offset → accepted"):
            # Explicit offsets: bridge 0.31.x refuses an empty commit body, 1.x accepts both forms.
            last = polled[-1]
            bridge.commit(
                group,
                "consumer-1",
                [{"topic": topic, "partition": last["partition"], "offset": last["offset"] + 1}],
            )
    finally:
        with allure.step("DELETE the consumer → removed"):
            bridge.delete_consumer(group, "consumer-1")


def test_topic_details_need_describe_configs(sidecar, kafka):
    """GET /topics/<t> fails with "Topic authorization failed" until the user is granted DescribeConfigs."""
    bridge, _running, user, topic, group = sidecar
    with allure.step("GET /topics/<t> without DescribeConfigs → 500 Topic authorization failed"):
        with pytest.raises(BridgeError) as refused:
            bridge.get_topic(topic)
        assert "Topic authorization failed" in refused.value.bridge_message
    with allure.step("grant DescribeConfigs on the topic → the KafkaUser is Ready again"):
        kafka.apply_user(user, acls=seed_acls(topic, group, "DescribeConfigs"))
    with allure.step("GET /topics/<t> again → the topic's partitions and configs"):
        details = bridge.get_topic(topic)
        assert details["name"] == topic and details["partitions"]


def test_bridge_is_not_reachable_from_outside_the_pod(sidecar, kafka):
    """The bridge listens on the pod's loopback only: from outside the pod the connection is refused."""
    bridge, running, *_ = sidecar
    with allure.step("from the application container (localhost) → answers"):
        assert bridge.info()["bridge_version"]
    assert running.outside_urls, "the platform named no address outside the pod to try"
    for url in running.outside_urls:
        with allure.step(f"from outside the pod ({url}) → connection refused"):
            error = kafka.platform.try_from_outside(kafka.namespace, url)
            assert error is not None and "refused" in error.lower(), error
