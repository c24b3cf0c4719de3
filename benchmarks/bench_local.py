"""Time to Ready on the local platform: a single-node KRaft broker with mTLS, and the bridge sidecar.

    python benchmarks/bench_local.py [--repeat 3]

Prints, per Strimzi profile, the time from applying the Kafka CR to Ready (processes started, TLS listener
answering the admin API), from applying a KafkaUser to Ready (certificate issued, ACLs in effect), and from
starting the sidecar pod to the bridge answering its readiness endpoint. Real processes; numbers vary with load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from kconform import resources
from kconform.platforms.local.local_platform import LocalPlatform
from kconform.versions import KRAFT, PROFILES


def measure(strimzi: str, with_bridge: bool) -> dict[str, float]:
    prof = PROFILES[strimzi]
    run_id = "bench" + uuid.uuid4().hex[:6]
    platform = LocalPlatform(prof, run_id=run_id, log_dir=Path(tempfile.mkdtemp()) / "logs")
    namespace, name = "bench", "bench"
    timings: dict[str, float] = {}
    try:
        documents = resources.kafka_cluster(
            prof,
            KRAFT,
            name=name,
            namespace=namespace,
            run_id=run_id,
            listeners=[resources.internal_listener("tls", 9093, tls=True, authentication="tls")],
            authorization={"type": "simple"},
        )
        start = time.monotonic()
        for document in documents:
            platform.apply(document)
        platform.wait_ready("Kafka", namespace, name, 300)
        timings["kafka_ready_s"] = time.monotonic() - start
        topic, user = "bench-topic", "bench-user"
        platform.apply(
            resources.kafka_topic(prof, name=topic, namespace=namespace, cluster=name, run_id=run_id)
        )
        platform.wait_ready("KafkaTopic", namespace, topic, 60)
        start = time.monotonic()
        platform.apply(
            resources.kafka_user(
                prof,
                name=user,
                namespace=namespace,
                cluster=name,
                run_id=run_id,
                acls=[
                    resources.acl("topic", topic, ["Read", "Write"]),
                    resources.acl("group", "g", ["Read"]),
                ],
            )
        )
        platform.wait_ready("KafkaUser", namespace, user, 60)
        timings["user_ready_s"] = time.monotonic() - start
        if with_bridge:
            pod, config_map = resources.bridge_sidecar(
                name="bench-app",
                namespace=namespace,
                cluster=name,
                user=user,
                bridge_version=prof.bridge_version,
                run_id=run_id,
            )
            start = time.monotonic()
            platform.start_sidecar(namespace, pod, config_map)
            timings["bridge_ready_s"] = time.monotonic() - start
    finally:
        platform.close()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-bridge", action="store_true", help="skip the bridge (no distribution here)")
    args = parser.parse_args()
    print(
        f"{'strimzi':8} {'kafka':6} {'what':16} {'median s':>9} {'min s':>7} {'max s':>7}  (n={args.repeat})"
    )
    for strimzi, prof in PROFILES.items():
        runs = [measure(strimzi, not args.no_bridge) for _ in range(args.repeat)]
        for key in runs[0]:
            values = [run[key] for run in runs]
            print(
                f"{strimzi:8} {prof.kafka_version:6} {key:16} {statistics.median(values):9.2f} "
                f"{min(values):7.2f} {max(values):7.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
