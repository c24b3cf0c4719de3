"""What kconform deleted and Kubernetes is still removing: awaited, bounded, before it counts as gone or there.

A run that installed Strimzi on an existing cluster deletes, at its end, the operator namespace it created
and the release's cluster RBAC. A namespace stays Terminating until its pods have stopped (the operator's
grace period is 30 s), and an object deleted in the foreground until the garbage collector has removed its
dependents. The run that deleted them waits for them (`await_gone`); a next run started at once finds them
still going, and its preflight waits for those too instead of taking them for a Strimzi someone runs there
(`before_install`). Only what carries kconform's marks is awaited: a namespace kconform created
(ownership), RBAC of a kconform install (leftovers.is_kconforms). Anything else is the user's and is
decided on as it is.
"""

from __future__ import annotations

from typing import Any

from kconform import progress
from kconform.errors import InfrastructureFailure, WaitTimeout
from kconform.platforms.kubernetes import installed, leftovers, ownership
from kconform.platforms.kubernetes.settings import KubeSettings
from kconform.waits import wait_until

POLL_S = 1.0
Ref = tuple[str, str, str]  # (apiVersion, kind, name) of a cluster-scoped object


def being_deleted(obj: dict[str, Any] | None) -> bool:
    return bool(((obj or {}).get("metadata") or {}).get("deletionTimestamp"))


def describe(refs: list[Ref]) -> str:
    return ", ".join(f"{kind} {name}" for _, kind, name in refs)


def await_gone(kube: Any, refs: list[Ref], timeout: float, why: str) -> None:
    """Until every object of `refs` is gone (404); WaitTimeout naming those left, with their state."""
    if not refs:
        return
    progress.report(f"waiting up to {timeout:.0f}s for {describe(refs)} to be gone ({why})")

    def left() -> list[Ref]:
        return [ref for ref in refs if kube.get(ref[0], ref[1], None, ref[2]) is not None]

    def diagnose() -> str:
        lines = []
        for api_version, kind, name in left():
            obj = kube.get(api_version, kind, None, name) or {}
            meta = obj.get("metadata") or {}
            conditions = (obj.get("status") or {}).get("conditions") or []
            held = [f"{c.get('type')}: {c.get('message')}" for c in conditions if c.get("status") == "True"]
            lines.append(
                f"{kind} {name}: finalizers {meta.get('finalizers') or []}; {'; '.join(held) or '-'}"
            )
        return "\n".join(lines)

    wait_until(
        lambda: not left(),
        describe=f"{describe(refs)} to be gone ({why})",
        timeout=timeout,
        interval=POLL_S,
        diagnose=diagnose,
    )


def at_run_end(kube: Any, refs: list[Ref], timeout: float) -> None:
    """What this run deleted, gone before the run ends (bounded), so that a next run started at once finds
    nothing of it. One still going after `timeout` is said (that next run's preflight waits for it); Ctrl-C
    stops the wait, not the end of the run."""
    try:
        await_gone(kube, refs, timeout, "deleted by this run; a next run needs them gone")
    except WaitTimeout as err:
        progress.report(f"{str(err).splitlines()[0]}; a next run waits for them before it starts")
    except KeyboardInterrupt:
        progress.report(f"not waiting for {describe(refs)} to be gone (interrupted)")


def _namespace(name: str) -> Ref:
    return ("v1", "Namespace", name)


def departing_installs(
    kube: Any, settings: KubeSettings, operators: list[installed.InstalledOperator]
) -> list[Ref]:
    """What an earlier kconform install left being deleted that this run would see or take: the namespaces
    kconform created that hold an operator found (or that this install would use), and the kconform-made
    cluster RBAC of the names this install applies."""
    namespaces = {o.namespace for o in operators}
    if settings.installs_strimzi:
        namespaces.add(settings.operator_namespace)
    refs = []
    for name in sorted(namespaces):
        found = kube.get("v1", "Namespace", None, name)
        if being_deleted(found) and ownership.is_owned(found):
            refs.append(_namespace(name))
    # An operator that stays is refused by the caller as it is: the install's release file (its RBAC names)
    # is read only when there is no such operator, so that refusal never waits on a download.
    staying = any(_namespace(o.namespace) not in refs for o in operators)
    if settings.installs_strimzi and not staying:
        for kind, name in leftovers.install_cluster_objects(settings):
            found = kube.get(leftovers.RBAC, kind, None, name)
            if being_deleted(found) and found is not None and leftovers.is_kconforms(found, kube):
                refs.append((leftovers.RBAC, kind, name))
    return refs


def before_install(kube: Any, settings: KubeSettings, operators: list[installed.InstalledOperator]) -> bool:
    """Wait (settings.budget.deleted_namespaces) for what an earlier kconform install left being deleted;
    True when there was something (the caller looks again). Still there at the end: InfrastructureFailure
    (the run is inconclusive, exit 3) naming it."""
    refs = departing_installs(kube, settings, operators)
    if not refs:
        return False
    timeout = settings.budget.deleted_namespaces
    try:
        await_gone(kube, refs, timeout, "a Strimzi install an earlier kconform run removed")
    except WaitTimeout as err:
        first = str(err).splitlines()
        held = f" ({first[1][:200]})" if len(first) > 1 else ""
        raise InfrastructureFailure(
            f"{describe(refs)}, deleted by an earlier kconform run, still being deleted after {timeout:.0f}s"
            f"{held}; kconform waits for it before it looks for Strimzi: see what holds it "
            "(`kubectl get namespace NAME -o yaml`, status.conditions) and run again"
        ) from None
    return True
