"""Every JVM of a scenario's Kafka cluster has a bounded heap (`jvmOptions`), in every cell, valid against the
profile's real CRDs, so that two clusters of a cell (the standard one and a workflow's own) fit a 7 GiB CI
runner. Without -Xmx Strimzi's containers size the heap from the node's memory, one share per JVM."""

from __future__ import annotations

import pytest

from kconform import resources
from kconform.schemas import SchemaSet
from kconform.versions import PROFILES, ZOOKEEPER, profile

CELLS = [(v, mode) for v, prof in PROFILES.items() for mode in prof.modes]
RUNNER_BYTES = 7 * 1024**3
# Besides the heap, a JVM takes metaspace, code cache, threads and direct buffers: a generous flat allowance
# per JVM, and the node's own share (kubelet, API server, etcd, the operator's 384 MiB limit, the client pod).
NON_HEAP_BYTES = 256 * 1024**2
NODE_BYTES = 2 * 1024**3


def _bytes(size: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    return int(size[:-1]) * units[size[-1].lower()] if size[-1].isalpha() else int(size)


def jvms(documents: list[dict[str, object]]) -> dict[str, dict[str, str]]:
    """Each JVM the operator would run for these documents, with the jvmOptions that apply to it."""
    kafka = next(d for d in documents if d["kind"] == "Kafka")
    spec = kafka["spec"]
    found: dict[str, dict[str, str]] = {}
    pools = [d for d in documents if d["kind"] == "KafkaNodePool"]
    for pool in pools:  # a node pool's own jvmOptions win over the Kafka's
        found[f"node pool {pool['metadata']['name']}"] = (
            pool["spec"].get("jvmOptions") or spec["kafka"].get("jvmOptions") or {}
        )
    if not pools:
        found["kafka"] = spec["kafka"].get("jvmOptions") or {}
    if "zookeeper" in spec:
        found["zookeeper"] = spec["zookeeper"].get("jvmOptions") or {}
    for operator in ("topicOperator", "userOperator"):
        found[operator] = spec["entityOperator"][operator].get("jvmOptions") or {}
    return found


@pytest.mark.parametrize(("version", "mode"), CELLS, ids=[f"{v}-{m}" for v, m in CELLS])
def test_every_jvm_of_a_cluster_is_bounded_and_two_clusters_fit_the_runner(version: str, mode: str) -> None:
    prof = profile(version)
    documents = resources.kafka_cluster(
        prof,
        mode,
        name="k",
        namespace="ns",
        run_id="r",
        listeners=[resources.internal_listener("tls", 9093, True, "tls")],
    )
    schemas = SchemaSet.for_profile(prof)
    for document in documents:
        assert schemas.problems(document) == [], document["kind"]
    found = jvms(documents)
    assert len(found) == (4 if mode == ZOOKEEPER or mode == "kraft-dedicated" else 3)
    for name, options in found.items():
        assert "-Xmx" in options and "-Xms" in options, name
        assert _bytes(options["-Xms"]) <= _bytes(options["-Xmx"]), name
    one_cluster = sum(_bytes(o["-Xmx"]) + NON_HEAP_BYTES for o in found.values())
    assert 2 * one_cluster + NODE_BYTES <= RUNNER_BYTES, (
        f"two clusters need {2 * one_cluster / 1024**3:.1f} GiB"
    )
