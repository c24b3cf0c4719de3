"""`kconform clean`: remove what runs left behind (namespaces, kind clusters, local processes)."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from kconform import options
from kconform.errors import KconformError, UsageError
from kconform.platforms.kubernetes import install, kafka_init, ownership, shell, tools, topic_finalizers
from kconform.waits import wait_until

KIND_PREFIX = "kconform"
TOPICS_GONE_TIMEOUT_S = 60.0


def register(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser("clean", help="delete what a run left behind")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--run-id", default=None, help="only this run's namespaces")
    which.add_argument(
        "--all", action="store_true", help="every kconform namespace, kind cluster and process"
    )
    options.add_arguments(parser, "clean")  # --context: the cluster whose namespaces are cleaned
    return parser


def _kind_found() -> bool:
    """kind on PATH or in kconform's tool cache (registered so `shell` runs it); never downloaded here."""
    try:
        tools.ensure_tool("kind", downloads={})
    except KconformError:
        return False
    return True


def kind_clusters_to_delete(names: list[str]) -> list[str]:
    return [n for n in names if n == KIND_PREFIX or n.startswith(KIND_PREFIX + "-")]


def _namespaces(context: str | None, run_id: str | None) -> list[str]:
    """Delete the namespaces kconform created (its creation marker), of one run or of all runs.

    A namespace that only carries the run label (e.g. one that existed before a run) is not kconform's.
    """
    from kconform.platforms.kubernetes.kube import Kube

    kube = Kube(context=context)
    deleted = []
    for ns in kube.list_objects("v1", "Namespace", label_selector=ownership.selector(run_id)):
        if not ownership.is_owned(ns):
            continue  # the selector already says so; checked again because deleting is not undoable
        name = ns["metadata"]["name"]
        kube.delete("v1", "Namespace", None, name)
        deleted.append(name)
    _cluster_rbac(kube, deleted, run_id)
    release_topics(kube, deleted)
    try:  # Strimzi's, of kconform's Kafkas: left behind when no operator saw those Kafkas go
        bindings = kafka_init.delete_for(kube, deleted)
        print("Strimzi kafka-init ClusterRoleBindings deleted:", ", ".join(bindings) or "none")
    except KconformError as err:  # e.g. no right to list ClusterRoleBindings on a shared cluster
        print(f"Strimzi kafka-init ClusterRoleBindings: not checked ({str(err).splitlines()[0]})")
    return deleted


def _cluster_rbac(kube: Any, namespaces: list[str], run_id: str | None) -> None:
    """The ClusterRoles and ClusterRoleBindings an --install yaml applied for an operator namespace deleted now,
    or (with --run-id) for that run: labelled kconform's (install.release_documents), never anyone else's."""
    selectors = [install.bindings_selector(namespace) for namespace in namespaces]
    if run_id:
        selectors.append(install.run_selector(run_id))
    try:
        deleted = sorted(
            {name for selector in selectors for name in install.delete_cluster_rbac(kube, selector)}
        )
    except KconformError as err:  # e.g. no right to list cluster RBAC on a shared cluster
        print(f"cluster roles and bindings: not checked ({str(err).splitlines()[0]})")
        return
    print("cluster roles and bindings deleted:", ", ".join(deleted) or "none")


def release_topics(kube: Any, namespaces: list[str], timeout: float = TOPICS_GONE_TIMEOUT_S) -> None:
    """Let the deleted namespaces go: their KafkaTopics keep the Topic Operator's finalizer once the Entity
    Operator, deleted with them, is gone (topic_finalizers), which would leave them Terminating forever."""
    try:
        version = topic_finalizers.served_version(kube.crds()) if namespaces else None
    except KconformError as err:
        print(f"KafkaTopics: not checked ({str(err).splitlines()[0]})")
        return
    if version is None:
        return

    def topics_gone() -> bool:
        left = False
        for namespace in namespaces:
            topic_finalizers.release(kube, version, namespace)
            left = left or bool(kube.list_objects(version, topic_finalizers.KIND, namespace))
        return not left

    try:
        wait_until(
            topics_gone,
            describe=f"the KafkaTopics of {', '.join(namespaces)} to be gone",
            timeout=timeout,
            interval=1.0,
        )
    except KconformError as err:  # a timeout too: the namespaces are deleted; say what may still hold them
        print(f"KafkaTopics: {str(err).splitlines()[0]}")


def _local_processes(run_id: str | None) -> str:
    # The command module may know both platforms; the platform packages never import each other.
    try:
        processes = importlib.import_module("kconform.platforms.local.processes")
    except ImportError:
        return "local platform process sweep not available"
    sweep = getattr(processes, "sweep_stale", None)
    if sweep is None:
        return "local platform process sweep not available"
    return f"local processes swept: {sweep()}"


def run(args: argparse.Namespace) -> int:
    if args.run_id is not None and not args.run_id.strip():
        raise UsageError("--run-id needs a value")
    problems = 0
    try:
        context = options.resolve(options.given(args, "clean"))["context"]
        print("namespaces deleted:", ", ".join(_namespaces(context, args.run_id)) or "none")
    except KconformError as err:
        print(f"namespaces: skipped ({str(err).splitlines()[0]})")
    if args.all:
        if _kind_found():
            try:
                names = shell.run(["kind", "get", "clusters"], timeout=60).split()
                for name in kind_clusters_to_delete(names):
                    shell.run(["kind", "delete", "cluster", "--name", name], timeout=300)
                    print(f"kind cluster deleted: {name}")
            except KconformError as err:
                problems += 1
                print(f"kind: {str(err).splitlines()[0]}")
        print(_local_processes(args.run_id))
    return 1 if problems else 0
