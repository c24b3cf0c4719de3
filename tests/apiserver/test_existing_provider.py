"""Provider `existing` against a real kube-apiserver: the Strimzi already installed is found and tested,
never installed over; namespaces kconform did not create are never touched (issue 8, points 10 and 11).

The operator Deployments are test doubles playing Strimzi's part (tests.support.strimzi_doubles); no kubelet
runs them. The CRDs are the profile's real ones.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kconform.errors import UsageError
from kconform.platforms.kubernetes import crd_install, installed, kube_preflight, ownership
from kconform.platforms.kubernetes.kube import Kube
from kconform.platforms.kubernetes.settings import INSTALLED, KubeSettings
from kconform.versions import PROFILES
from tests.apiserver.conftest import ServerPool
from tests.support.cli import environment, output_lines, path_without_kind, run_module
from tests.support.strimzi_doubles import kafka_init_binding, operator_deployment

pytestmark = pytest.mark.apiserver
SERVER = "existing-operator"  # a server of its own: other tests expect no operator on theirs


@pytest.fixture
def cluster(servers: ServerPool) -> Iterator[tuple[Kube, Any]]:
    kube = servers.kube(SERVER)
    if not kube.crds():
        crd_install.apply_crds(kube, crd_install.crd_documents(crd_install.crd_folder(PROFILES["1.2.0"])))
    yield kube, servers.get(SERVER)
    for deployment in kube.list_objects("apps/v1", "Deployment"):
        meta = deployment["metadata"]
        # Background: no garbage collector runs here to finish a foreground deletion.
        kube.apps.delete_namespaced_deployment(
            meta["name"], meta["namespace"], propagation_policy="Background"
        )


def bind_cluster_wide(kube: Kube, namespace: str) -> None:
    """The install's part for an operator watching every namespace: its ServiceAccount bound cluster-wide to
    ClusterRoles named as Strimzi's 020-, 023- and 031-ClusterRole, each holding (only) the right kconform
    asks about (installed.WATCH_ANY_NAMESPACE_RIGHTS)."""
    for verb, group, resource, role in installed.WATCH_ANY_NAMESPACE_RIGHTS:
        rule = {"apiGroups": [group], "resources": [resource], "verbs": [verb]}
        kube.apply(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": role},
                "rules": [rule],
            }
        )
        account = {"kind": "ServiceAccount", "name": "strimzi-cluster-operator", "namespace": namespace}
        kube.apply(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": f"{role}-{namespace}"},
                "subjects": [account],
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            }
        )


def _user_namespace(kube: Kube, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def _settings(running: Any, install: str = INSTALLED, strimzi: str = "1.2.0") -> KubeSettings:
    return KubeSettings(
        profile=PROFILES[strimzi],
        run_id="existing1",
        provider="existing",
        install=install,
        context=running.context,
        kubeconfig=str(running.kubeconfig),
    )


def test_installed_operator_chooses_the_profile(cluster: tuple[Kube, Any]) -> None:
    kube, running = cluster
    namespace = _user_namespace(kube, "users-strimzi")
    kube.apply(operator_deployment(namespace, "quay.io/strimzi/operator:1.2.0"))
    bind_cluster_wide(kube, namespace)
    assert kube_preflight.installed_profile(_settings(running)) == "1.2.0"
    checked = kube_preflight.preflight(_settings(running))
    assert checked.operator_namespace == namespace  # the operator is tested where it runs


def test_an_operator_watching_every_namespace_without_the_cluster_wide_bindings_is_refused(
    cluster: tuple[Kube, Any],
) -> None:
    """STRIMZI_NAMESPACE="*" alone is not enough: without its ClusterRoles bound cluster-wide the operator can
    see nothing in kconform's namespaces, and every Kafka would wait out its timeout. One line, exit 2."""
    kube, running = cluster
    namespace = _user_namespace(kube, "users-strimzi")
    kube.apply(operator_deployment(namespace, "quay.io/strimzi/operator:1.2.0"))
    with pytest.raises(UsageError) as caught:
        kube_preflight.preflight(_settings(running))
    message = str(caught.value)
    assert (
        "\n" not in message and f"{namespace}/strimzi-cluster-operator is not bound cluster-wide" in message
    )
    assert (
        "strimzi-cluster-operator-namespaced, strimzi-cluster-operator-watched, strimzi-entity-operator"
        in message
    )


def test_never_installs_over_an_installed_operator(cluster: tuple[Kube, Any]) -> None:
    kube, running = cluster
    kube.apply(operator_deployment(_user_namespace(kube, "users-strimzi"), "quay.io/strimzi/operator:1.2.0"))
    with pytest.raises(UsageError, match="drop --install"):
        kube_preflight.check_existing_strimzi(_settings(running, install="yaml"), kube)


def test_a_version_outside_the_table_is_one_line(cluster: tuple[Kube, Any]) -> None:
    kube, running = cluster
    kube.apply(operator_deployment(_user_namespace(kube, "users-strimzi"), "quay.io/strimzi/operator:0.49.1"))
    with pytest.raises(UsageError) as caught:
        kube_preflight.installed_profile(_settings(running))
    assert "Strimzi 0.49.1 is installed" in str(caught.value) and "\n" not in str(caught.value)


def test_an_operator_watching_only_its_namespace_is_refused(cluster: tuple[Kube, Any]) -> None:
    """kconform creates its own test namespaces; an operator that cannot see them would never reconcile."""
    kube, running = cluster
    kube.apply(
        operator_deployment(_user_namespace(kube, "users-strimzi"), "quay.io/strimzi/operator:1.2.0", None)
    )
    with pytest.raises(UsageError, match="watchAnyNamespace"):
        kube_preflight.preflight(_settings(running))


def test_a_namespace_kconform_did_not_create_is_never_taken(cluster: tuple[Kube, Any]) -> None:
    kube, _ = cluster
    users = _user_namespace(kube, "strimzi")
    with pytest.raises(UsageError, match="did not create"):
        ownership.ensure_namespace(kube, users, "run1", "Strimzi operator")
    labels = (kube.get("v1", "Namespace", None, users) or {})["metadata"].get("labels") or {}
    assert ownership.CREATED_BY_LABEL not in labels and "kconform.io/run" not in labels
    ours = f"kc-{uuid.uuid4().hex[:6]}"
    assert ownership.ensure_namespace(kube, ours, "run1", "test namespace") is True
    assert ownership.ensure_namespace(kube, ours, "run2", "test namespace") is False  # ours: reused


def test_clean_all_deletes_only_what_kconform_created(cluster: tuple[Kube, Any], tmp_path: Path) -> None:
    """The issue's case: an earlier kconform labelled the user's `strimzi` namespace with its run label."""
    kube, running = cluster
    run_id = f"clean{uuid.uuid4().hex[:6]}"
    labelled = f"users-{run_id}"
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": labelled, "labels": {"kconform.io/run": run_id}},
        }
    )
    ours = f"ours-{run_id}"
    ownership.ensure_namespace(kube, ours, run_id, "test namespace")
    done = _clean(running, tmp_path, "--all")
    assert ours in done.stdout and labelled not in done.stdout, done.stdout + done.stderr
    gone = kube.get("v1", "Namespace", None, ours)
    assert gone is None or gone["metadata"].get("deletionTimestamp")
    kept = kube.get("v1", "Namespace", None, labelled)
    assert kept is not None and not kept["metadata"].get("deletionTimestamp")


def test_an_operator_never_available_is_recorded_once(cluster: tuple[Kube, Any], tmp_path: Path) -> None:
    """Point 4/5: the operator never becomes Available (no kubelet runs it): the setup phase that ran out
    is named, tried once for the run, and every test of the cell is an error with that one reason."""
    kube, running = cluster
    namespace = _user_namespace(kube, "users-strimzi")
    kube.apply(operator_deployment(namespace, "quay.io/strimzi/operator:1.2.0"))
    bind_cluster_wide(kube, namespace)
    # 6 s for the operator phase instead of 600 s
    done = _run_existing(running, tmp_path, "--mode", "kraft", timeout=300, KCONFORM_SETUP_SCALE="0.01")
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-3000:]
    assert out.count("Strimzi operator Available ...") == 1  # one setup for the whole run
    assert "Traceback" not in out and len(out.splitlines()) <= 50, out
    from kconform.report import read_conformance

    record = read_conformance(tmp_path / "reports" / "conformance.json")
    assert record.results and {str(r.status) for r in record.results} == {"error"}
    assert all(
        "'Strimzi operator Available' ran out of its 6s budget" in (r.message or "") for r in record.results
    )


RELEASE_YAML_DOUBLE = """\
# Test double of Strimzi's strimzi-cluster-operator-1.2.0.yaml: the same kinds and names as the release's
# packaging/install/cluster-operator/ files (010 ServiceAccount, 020 ClusterRole and RoleBinding in namespace
# myproject, 060 Deployment); no kubelet runs the Deployment here.
apiVersion: v1
kind: ServiceAccount
metadata:
  name: strimzi-cluster-operator
  namespace: myproject
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: strimzi-cluster-operator-namespaced
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: strimzi-cluster-operator
  namespace: myproject
subjects:
- kind: ServiceAccount
  name: strimzi-cluster-operator
  namespace: myproject
roleRef:
  kind: ClusterRole
  name: strimzi-cluster-operator-namespaced
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: strimzi-cluster-operator
  namespace: myproject
spec:
  replicas: 1
  selector:
    matchLabels: {name: strimzi-cluster-operator, strimzi.io/kind: cluster-operator}
  template:
    metadata:
      labels: {name: strimzi-cluster-operator, strimzi.io/kind: cluster-operator}
    spec:
      serviceAccountName: strimzi-cluster-operator
      containers:
      - name: strimzi-cluster-operator
        image: quay.io/strimzi/operator:1.2.0
        env:
        - name: STRIMZI_NAMESPACE
          valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
"""


def _install_files(tmp_path: Path, profile: str, release_yaml: bool = True) -> str:
    """Strimzi's release files where KCONFORM_STRIMZI_FILES points: the profile's real CRDs in one file and
    (with `release_yaml`) the release YAML double above; the folder to point at."""
    files = tmp_path / "files" / profile
    files.mkdir(parents=True)
    folder = crd_install.crd_folder(PROFILES[profile])
    (files / f"strimzi-crds-{profile}.yaml").write_text(
        "\n---\n".join(p.read_text() for p in sorted(folder.glob("*.yaml")))
    )
    if release_yaml:
        (files / f"strimzi-cluster-operator-{profile}.yaml").write_text(RELEASE_YAML_DOUBLE)
    return str(tmp_path / "files")


def _run_existing(
    running: Any, tmp_path: Path, *args: str, timeout: float = 120, context: bool = True, **env: str
) -> subprocess.CompletedProcess[str]:
    """`kconform run --platform kubernetes --provider existing` with `args` on `running`'s context through
    its kubeconfig (without `context`: no --context, the kubeconfig's current one), reports under `tmp_path`,
    `env` added to the environment."""
    argv = ["run", "--platform", "kubernetes", "--provider", "existing"]
    argv += [*(["--context", running.context] if context else []), *args]
    argv += ["--reports", str(tmp_path / "reports")]
    environ = environment(KUBECONFIG=str(running.kubeconfig))
    environ.update(env)
    return run_module("kconform", *argv, env=environ, timeout=timeout)


def _clean(running: Any, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`kconform clean` with `args` on `running`'s context, with no kind on PATH (no kind cluster to find) nor
    kconform's cached kind."""
    environ = environment(
        KUBECONFIG=str(running.kubeconfig), PATH=path_without_kind(), KCONFORM_CACHE=str(tmp_path / "cache")
    )
    return run_module("kconform", "clean", *args, "--context", running.context, env=environ)


def test_an_operator_installed_on_an_existing_cluster_is_removed_at_the_end(
    servers: ServerPool, tmp_path: Path
) -> None:
    """--install yaml on an existing cluster: installed into a namespace kconform creates, and at the end of
    the run the namespace and the release's cluster-wide RBAC go again; the user's namespaces stay. Without
    --context the cluster is the kubeconfig's current context, and setup names it."""
    kube = servers.kube("install-here")
    running = servers.get("install-here")
    if not kube.crds():
        crd_install.apply_crds(kube, crd_install.crd_documents(crd_install.crd_folder(PROFILES["1.2.0"])))
    users = _user_namespace(kube, "users")
    done = _run_existing(
        running,
        tmp_path,
        "--install",
        "yaml",
        "--profile",
        "1.2.0",
        "--mode",
        "kraft",
        timeout=300,
        context=False,
        KCONFORM_SETUP_SCALE="0.01",
        KCONFORM_STRIMZI_FILES=_install_files(tmp_path, "1.2.0"),
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-3000:]  # the operator never became Available: recorded once
    assert f"connect to the existing cluster of kubeconfig context {running.context!r}" in out
    assert "removing the Strimzi operator this run installed in strimzi" in out
    # No namespace controller here: the run's end waits for its namespace (budget scaled to 2 s), then says so.
    assert "waiting for Namespace strimzi to be gone" in out and "a next run waits for them" in out
    operator_ns = kube.get("v1", "Namespace", None, "strimzi")
    assert operator_ns is None or operator_ns["metadata"].get("deletionTimestamp")
    role = kube.get(
        "rbac.authorization.k8s.io/v1", "ClusterRole", None, "strimzi-cluster-operator-namespaced"
    )
    assert role is None or role["metadata"].get("deletionTimestamp")
    kept = kube.get("v1", "Namespace", None, users)
    assert kept is not None and not kept["metadata"].get("deletionTimestamp")


def test_installing_1x_over_crds_that_store_v1beta2_is_refused_before_any_test(
    servers: ServerPool, tmp_path: Path
) -> None:
    """A cluster that ran Strimzi 0.45.2 stores its resources as v1beta2 (its CRDs' storedVersions);
    --install of 1.2.0 there is one line saying what Strimzi's upgrade documentation asks first, exit 2."""
    kube = servers.kube("0.45.2")
    running = servers.get("0.45.2")
    if not kube.crds():
        crd_install.apply_crds(kube, crd_install.crd_documents(crd_install.crd_folder(PROFILES["0.45.2"])))
    done = _run_install_yaml(running, tmp_path)
    lines = output_lines(done)
    assert done.returncode == 2 and len(lines) == 1, lines
    assert "v1beta2" in lines[0] and "v1 API" in lines[0]
    assert kube.get("v1", "Namespace", None, "strimzi") is None  # nothing was created


def _run_install_yaml(running: Any, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`kconform run --provider existing --install yaml` with the profile's real CRDs and the release YAML
    double above as Strimzi's release files."""
    files = _install_files(tmp_path, "1.2.0")
    return _run_existing(
        running, tmp_path, "--install", "yaml", "--profile", "1.2.0", KCONFORM_STRIMZI_FILES=files
    )


def test_a_leftover_strimzi_cluster_role_stops_the_install_and_stays_untouched(
    servers: ServerPool, tmp_path: Path
) -> None:
    """A Strimzi uninstalled without its RBAC left ClusterRole strimzi-cluster-operator-namespaced (no operator
    runs): --install yaml would overwrite it and delete it at the end. One line, exit 2, the ClusterRole as it
    was (same resourceVersion), nothing created."""
    kube = servers.kube("leftover-rbac")
    running = servers.get("leftover-rbac")
    left = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "strimzi-cluster-operator-namespaced", "labels": {"app": "strimzi"}},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}],
    }
    kube.apply(left)
    before = kube.get(
        "rbac.authorization.k8s.io/v1", "ClusterRole", None, "strimzi-cluster-operator-namespaced"
    )
    assert before is not None
    done = _run_install_yaml(running, tmp_path)
    lines = output_lines(done)
    assert done.returncode == 2 and len(lines) == 1, lines
    assert "ClusterRole strimzi-cluster-operator-namespaced already exists" in lines[0]
    assert "drop --install" in lines[0]
    after = kube.get(
        "rbac.authorization.k8s.io/v1", "ClusterRole", None, "strimzi-cluster-operator-namespaced"
    )
    assert after is not None and not after["metadata"].get("deletionTimestamp")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert after["rules"] == left["rules"]
    assert kube.get("v1", "Namespace", None, "strimzi") is None  # nothing was created


def test_clean_removes_strimzis_kafka_init_binding_of_kconforms_namespace_only(
    cluster: tuple[Kube, Any], tmp_path: Path
) -> None:
    """Strimzi's kafka-init ClusterRoleBinding (shape of cluster-operator KafkaCluster.generateClusterRoleBinding
    at 0.45.2 and 1.2.0, created here as the operator would, since no operator runs) of a Kafka in a namespace
    kconform created is removed by `clean`; the same binding of a Kafka in a user's namespace stays."""
    kube, running = cluster
    run_id = f"init{uuid.uuid4().hex[:6]}"
    ours = f"ours-{run_id}"
    ownership.ensure_namespace(kube, ours, run_id, "test namespace")
    users = _user_namespace(kube, "users")

    kube.apply(kafka_init_binding(ours, "c1"))
    kube.apply(kafka_init_binding(users, "c1"))
    done = _clean(running, tmp_path, "--run-id", run_id)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"strimzi-{ours}-c1-kafka-init" in done.stdout, done.stdout + done.stderr
    rbac = "rbac.authorization.k8s.io/v1"
    gone = kube.get(rbac, "ClusterRoleBinding", None, f"strimzi-{ours}-c1-kafka-init")
    assert gone is None or gone["metadata"].get("deletionTimestamp")
    kept = kube.get(rbac, "ClusterRoleBinding", None, f"strimzi-{users}-c1-kafka-init")
    assert kept is not None and not kept["metadata"].get("deletionTimestamp")


def test_helm_install_over_a_leftover_strimzi_cluster_role_is_refused_by_the_preflight(
    servers: ServerPool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--install helm: Helm would refuse to adopt the ClusterRole only halfway through its install; the preflight
    names it first (the chart's 033-ClusterRole strimzi-kafka-client), and leaves it as it was."""
    kube = servers.kube("leftover-helm")
    running = servers.get("leftover-helm")
    monkeypatch.setenv("KCONFORM_STRIMZI_FILES", _install_files(tmp_path, "1.2.0", release_yaml=False))
    kube.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "strimzi-kafka-client", "labels": {"app": "strimzi"}},
            "rules": [],
        }
    )
    before = kube.get("rbac.authorization.k8s.io/v1", "ClusterRole", None, "strimzi-kafka-client")
    with pytest.raises(UsageError) as caught:
        kube_preflight.check_existing_strimzi(_settings(running, install="helm"), kube)
    assert "strimzi-kafka-client already exists" in str(caught.value) and "\n" not in str(caught.value)
    after = kube.get("rbac.authorization.k8s.io/v1", "ClusterRole", None, "strimzi-kafka-client")
    assert before and after and after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
