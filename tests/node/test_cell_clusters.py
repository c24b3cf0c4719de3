"""A cell's clusters on the real node, through the real plugin (pytester) on the kubernetes platform: a NotReady
cluster fails only its own tests, nothing is created for a deselected workflow or test, and every namespace
the run created is gone from the node when it ends (its namespace controller finishes what the API server
tier cannot).

The node runs no Strimzi operator (its images are on no registry here). `OperatorDouble` plays its part from
this process, through the API: it watches the run's Kafkas and writes the status Strimzi would. Everything
else is kconform's own: the plugin, the cell's pool, KubernetesPlatform, the real 1.2.0 CRDs. It proves the
harness, never conformance.
"""

from __future__ import annotations

import json
import textwrap
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import watch

from kconform import resources
from kconform.platforms.kubernetes import crd_install
from kconform.platforms.kubernetes.kube import Kube
from kconform.versions import PROFILES
from tests.node.cluster import Node
from tests.support import cell_scenarios, strimzi_doubles
from tests.support.cell_scenarios import SCENARIOS

pytestmark = pytest.mark.node
pytest_plugins = ["pytester"]

PROFILE = PROFILES["1.2.0"]
GROUP, VERSION = PROFILE.api_version.split("/")
WATCH_WINDOW_S = 2  # each watch request ends server-side after this; the loop then checks whether to stop
INNER_RUN_TIMEOUT_S = 300.0

# The inner session's conftest: the kubernetes platform on this node as connect.create_platform hands it out
# on provider `existing`, minus finding an installed operator (there is none; the double plays its part).
CONFTEST = textwrap.dedent(
    """
    import json, os, threading

    from kconform.platforms import kubernetes
    from kconform.platforms.kubernetes.kube import Kube
    from kconform.platforms.kubernetes.kube_platform import KubernetesPlatform
    from kconform.platforms.kubernetes.providers.cluster_provider import ClusterInfo
    from kconform.platforms.kubernetes.settings import KubeSettings
    from kconform.schemas import SchemaSet
    from kconform_fixtures import cluster as cluster_module

    LOCK = threading.Lock()
    # A pool applying the clusters one by one waits a minute for a first Ready that never comes, not ten.
    cluster_module.KAFKA_READY_TIMEOUT = 60.0


    def record(*event):
        with LOCK, open(os.environ["RECORD"], "a", encoding="utf-8") as out:
            out.write(json.dumps(list(event)) + "\\n")


    def create(config, prof, mode, worker):
        settings = KubeSettings.from_run_config(config, prof, mode)
        kube = Kube(context=settings.context)
        info = ClusterInfo(settings.context, os.environ["KUBECONFIG"], os.environ["NODE_IP"], created=False)
        return KubernetesPlatform(settings, kube, info, SchemaSet.from_crds(kube.crds()))


    kubernetes.PLATFORM.create = create
    """
)


class OperatorDouble:
    """A test double playing the Strimzi Cluster Operator's part on the node: it watches the Kafkas and
    namespaces carrying one run's label and, once `expected` Kafkas exist, writes each Kafka its status
    (strimzi_doubles.kafka_status: NotReady InvalidResourceException for a `broken-*` Kafka, Ready for any
    other). A pool applying the clusters one after another would never see its first Ready."""

    def __init__(self, kube: Kube, run_id: str, expected: int) -> None:
        self.expected = expected
        self.selector = f"{resources.RUN_LABEL}={run_id}"
        self.custom = k8s.CustomObjectsApi(kube.api_client)
        self.core = k8s.CoreV1Api(kube.api_client)
        self.lock = threading.Lock()
        self.kafkas: dict[tuple[str, str], int] = {}  # (namespace, name) -> generation
        self.written: set[tuple[str, str]] = set()
        self.namespaces_added: set[str] = set()
        self.namespaces_deleted: set[str] = set()
        self.errors: list[BaseException] = []
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self._follow, args=(self._kafkas, self._on_kafka), daemon=True),
            threading.Thread(target=self._follow, args=(self._namespaces, self._on_namespace), daemon=True),
        ]

    def __enter__(self) -> OperatorDouble:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=WATCH_WINDOW_S + 30)
        assert not any(t.is_alive() for t in self.threads), "a watch of the operator double did not stop"
        assert not self.errors, f"the operator double failed: {self.errors!r}"

    def _kafkas(self, **kwargs: Any) -> Any:
        return self.custom.list_cluster_custom_object(GROUP, VERSION, "kafkas", **kwargs)

    def _namespaces(self, **kwargs: Any) -> Any:
        return self.core.list_namespace(**kwargs)

    def _follow(self, lister: Callable[..., Any], handle: Callable[[str, dict[str, Any]], None]) -> None:
        """Every event of `lister`'s resources with the run label, one bounded watch request after another,
        each resuming where the last ended, until stopped."""
        follower = watch.Watch()
        try:
            last = False
            while not last:
                # One whole window begins after the stop: it hands over every event from before the stop.
                last = self.stopping.is_set()
                since = {"resource_version": follower.resource_version} if follower.resource_version else {}
                stream = follower.stream(
                    lister, label_selector=self.selector, timeout_seconds=WATCH_WINDOW_S, **since
                )
                for event in stream:
                    if event["type"] == "ERROR":  # e.g. 410 Gone: a watch that lost events proves nothing
                        raise RuntimeError(f"watch error: {event['raw_object']}")
                    handle(event["type"], event["raw_object"])
        except BaseException as err:  # reported by __exit__: a double that stops quietly proves nothing
            self.errors.append(err)

    def _on_namespace(self, kind: str, namespace: dict[str, Any]) -> None:
        with self.lock:
            if kind == "ADDED":
                self.namespaces_added.add(namespace["metadata"]["name"])
            elif kind == "DELETED":
                self.namespaces_deleted.add(namespace["metadata"]["name"])

    def _on_kafka(self, kind: str, kafka: dict[str, Any]) -> None:
        if kind != "ADDED":
            return
        meta = kafka["metadata"]
        with self.lock:
            self.kafkas[(meta["namespace"], meta["name"])] = meta["generation"]
            if len(self.kafkas) < self.expected:
                return
            due = {key: gen for key, gen in self.kafkas.items() if key not in self.written}
            self.written.update(due)
        for (namespace, name), generation in due.items():
            failure = "InvalidResourceException" if name.startswith("broken") else None
            try:
                self.custom.patch_namespaced_custom_object_status(
                    GROUP,
                    VERSION,
                    namespace,
                    "kafkas",
                    name,
                    {"status": strimzi_doubles.kafka_status(generation, failure)},
                )
            except k8s.ApiException as err:
                if err.status != 404:  # deleted before the last one came (a pool that waited in vain)
                    raise

    def variants(self) -> list[str]:
        """The cluster variants (good, broken, other) whose Kafka was created."""
        return sorted(name.split("-")[0] for _namespace, name in self.kafkas)


@pytest.fixture(scope="module")
def kube_with_crds(kube: Kube) -> Kube:
    """The node serving the 1.2.0 CRDs (the cached release files, as the API server tier installs them)."""
    if not kube.crds(GROUP):
        crd_install.apply_crds(kube, crd_install.crd_documents(crd_install.crd_folder(PROFILE)))
    return kube


def _run(
    pytester: pytest.Pytester, node: Node, kube: Kube, *args: str, expected: int
) -> tuple[pytest.RunResult, list[list[Any]], OperatorDouble]:
    run_id = f"cells{uuid.uuid4().hex[:6]}"
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_scenarios=SCENARIOS)
    record = pytester.path / f"{run_id}.jsonl"
    env = {
        "RECORD": str(record),
        "KUBECONFIG": str(node.kubeconfig),
        "NODE_IP": node.node_ip,
        # As `kconform run` hands its pytest the run: the preflight (an installed operator) counts as done.
        "KCONFORM_RUN_ID": run_id,
        "KCONFORM_PREFLIGHT": run_id,
    }
    for name, value in env.items():
        pytester._monkeypatch.setenv(name, value)
    base = ["-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:randomly", "--platform", "kubernetes"]
    base += ["--provider", "existing", "--context", node.context, "--profile", PROFILE.strimzi]
    base += ["--mode", "kraft", "--reports", str(pytester.path / run_id)]
    with OperatorDouble(kube, run_id, expected) as operator:
        result = pytester.runpytest_subprocess(*base, *args, timeout=INNER_RUN_TIMEOUT_S)
    lines = record.read_text(encoding="utf-8").splitlines() if record.exists() else []
    return result, [json.loads(line) for line in lines], operator


def _assert_every_namespace_gone(operator: OperatorDouble, kube: Kube) -> None:
    """Each namespace the run created held one of its clusters, and is gone from the node."""
    assert operator.namespaces_added == {namespace for namespace, _name in operator.kafkas}
    assert operator.namespaces_deleted == operator.namespaces_added
    left = [ns for ns in operator.namespaces_added if kube.get("v1", "Namespace", None, ns) is not None]
    assert not left, f"namespaces left on the node: {left}"


def test_a_not_ready_cluster_fails_only_its_own_tests(
    pytester: pytest.Pytester, node: Node, kube_with_crds: Kube
) -> None:
    result, events, operator = _run(pytester, node, kube_with_crds, expected=3)
    result.assert_outcomes(passed=4, errors=2)
    result.stdout.fnmatch_lines(["*ERROR at setup of test_two*", "*ResourceFailed*InvalidResourceException*"])
    assert operator.variants() == ["broken", "good", "other"]
    assert sorted(event[1].split("[")[0] for event in events) == [
        "test_five",
        "test_four",
        "test_one",
        "test_six",
    ]
    reports = Path(pytester.path)
    conformance = next(reports.glob("cells*/conformance.json"))
    assert cell_scenarios.statuses(conformance) == cell_scenarios.STATUSES_WITH_BROKEN
    # The evidence read from the node (the Kafka's conditions) is in the failing tests' diagnostics only.
    folders = sorted((conformance.parent / "diagnostics").iterdir())
    assert len(folders) == 2 and all("test_two" in f.name or "test_three" in f.name for f in folders), folders
    for folder in folders:
        evidence = "\n".join(p.read_text(encoding="utf-8") for p in folder.iterdir())
        assert "InvalidResourceException" in evidence, folder
    _assert_every_namespace_gone(operator, kube_with_crds)


def test_nothing_is_created_for_deselected_workflows_or_tests(
    pytester: pytest.Pytester, node: Node, kube_with_crds: Kube
) -> None:
    result, events, operator = _run(
        pytester,
        node,
        kube_with_crds,
        "--workflow",
        "tls-listener",
        "-k",
        "not two and not three",
        expected=1,
    )
    result.assert_outcomes(passed=2)
    assert sorted(event[1].split("[")[0] for event in events) == ["test_four", "test_one"]
    assert operator.variants() == ["good"]
    assert len(operator.namespaces_added) == 1
    _assert_every_namespace_gone(operator, kube_with_crds)
