"""Which kubeconfig context a run on the user's own cluster uses, and why: one line when it cannot tell.

`--context` wins. Without it, the kubeconfig's `current-context` is used, as kubectl would, or its only
context when it names none. A kubeconfig with several contexts and no current one is refused: which cluster
to test is the user's choice, never a guess. The files are those the Kubernetes client reads (KUBECONFIG, a
list of files, else ~/.kube/config), merged by kubectl's rules: the first file that sets `current-context`
wins, and so does the first context of a name.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from kconform.errors import UsageError

NAMES_SHOWN = 5  # contexts named in a refusal; a long kubeconfig is summed up after these


def default_location() -> str:
    """Where the Kubernetes client (and so kconform's Kube) reads the kubeconfig from without a path."""
    from kubernetes.config import kube_config

    return str(kube_config.KUBE_CONFIG_DEFAULT_LOCATION)


def _documents(location: str) -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for part in location.split(os.pathsep):
        path = Path(part).expanduser() if part else None
        if path is None or not path.is_file():
            continue
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as err:
            reason = str(err).splitlines()[0][:160]
            raise UsageError(
                f"kubeconfig {path} cannot be read ({reason}); fix it or point KUBECONFIG elsewhere"
            ) from None
        found.append((path, document if isinstance(document, dict) else {}))
    return found


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown if len(names) <= NAMES_SHOWN else f"{shown} and {len(names) - NAMES_SHOWN} more"


def chosen_context(context: str | None, kubeconfig: str | None = None) -> str:
    """The context to use; UsageError naming the fix when no single context is meant."""
    if context:
        return context
    location = kubeconfig or default_location()
    documents = _documents(location)
    where = ", ".join(str(path) for path, _ in documents) or location
    if not documents:
        raise UsageError(
            f"no kubeconfig at {location}: provider existing tests the cluster of a kubeconfig context; "
            "set KUBECONFIG to your kubeconfig, or use --provider kind"
        )
    names: list[str] = []
    current: str | None = None
    for _, document in documents:
        for entry in document.get("contexts") or []:
            name = entry.get("name") if isinstance(entry, dict) else None
            if name and name not in names:
                names.append(str(name))
        if current is None and document.get("current-context"):
            current = str(document["current-context"])
    if current is not None:
        if current not in names:
            raise UsageError(
                f"the current-context {current!r} of kubeconfig {where} names no context there "
                f"(contexts: {_names(names) or 'none'}): pass --context NAME, or `kubectl config use-context NAME`"
            )
        return current
    if len(names) == 1:
        return names[0]
    if not names:
        raise UsageError(
            f"kubeconfig {where} has no context: add your cluster's context to it, or use --provider kind"
        )
    raise UsageError(
        f"kubeconfig {where} has {len(names)} contexts ({_names(names)}) and no current-context; kconform "
        "does not guess which cluster to test: pass --context NAME (or `kubectl config use-context NAME`)"
    )
