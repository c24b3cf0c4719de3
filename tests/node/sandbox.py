"""The node's place on this machine: a network and mount namespace of its own, a veth pair to the host,
the host-wide sysctls the kubelet writes (saved and restored), and the cgroups its pods get.

A holder process (`unshare --net --mount`, then `sleep`) owns both namespaces; every node process enters them
with `nsenter --target <holder> --net --mount` (not `ip netns exec`, whose private /sys remount hides
/sys/fs/cgroup). In the network namespace kube-proxy's and the CNI plugins' iptables rules stay out of the
host's tables; it has no default route, so nothing in the node reaches past this machine. In the mount
namespace a tmpfs covers /run, /var/lib and /var/log, so the pod network namespaces containerd bind-mounts
under /run/netns, the shim sockets under /run/containerd, the CNI result cache under /var/lib/cni and the
kubelet's /var/log/containers links never touch the host's; every mount the node makes (overlay root file
systems, volumes) disappears with the namespace when its last process ends. The cgroups are the one thing shared with the host: they live under a root of their
own (CGROUP_ROOT_PREFIX + run id) and are removed at the end.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import random
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from kconform.errors import PlatformError
from kconform.platforms.local.processes import ManagedProcess, ProcessSupervisor, sweep_stale
from kconform.waits import wait_until

# Written by the kubelet at start (pkg/kubelet/cm/container_manager_linux.go setupKernelTunables, v1.35.4);
# they are host-wide, not per network namespace.
KUBELET_SYSCTLS = (
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
)
CGROUP_FS = Path("/sys/fs/cgroup")
CGROUP_ROOT_PREFIX = "kconform-node-"
_HOST_RANGE = ipaddress.IPv4Network("10.213.0.0/16")  # /30s for the veth pair; unused on this machine


def read_sysctls() -> dict[str, str]:
    return {name: (Path("/proc/sys") / name).read_text().strip() for name in KUBELET_SYSCTLS}


def write_sysctls(values: dict[str, str]) -> None:
    for name, value in values.items():
        path = Path("/proc/sys") / name
        if path.read_text().strip() != value:
            path.write_text(value + "\n")


def recover_stale(saved_sysctls: Path) -> list[str]:
    """Undo what a node whose session was killed (SIGKILL, a crash) left: its pods' processes and cgroups,
    its marked processes (containerd's shims outlive everything else), the host sysctls it changed (saved in
    `saved_sysctls` while a node runs). Call with the machine's node lock held: no node runs then."""
    found: list[str] = []
    roots = sorted({d.name for h in _hierarchies() for d in h.glob(f"{CGROUP_ROOT_PREFIX}*") if d.is_dir()})
    for root in roots:
        kill_cgroup_processes(root)
        found.append(f"cgroup root {root}")
    swept = sweep_stale(log=lambda line: None)
    if swept:
        found.append(f"processes {swept}")
    for root in roots:
        remove_cgroup_root(root)
    if saved_sysctls.is_file():
        write_sysctls(json.loads(saved_sysctls.read_text()))
        saved_sysctls.unlink()
        found.append("host sysctls restored")
    return found


def _run(argv: list[str], what: str) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    if proc.returncode != 0:
        raise PlatformError(f"{what} failed: {' '.join(argv)}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def _free_link_network() -> ipaddress.IPv4Network:
    """A /30 in _HOST_RANGE that no address or route of the host uses."""
    used = _run(["ip", "-4", "-o", "addr"], "listing addresses") + _run(
        ["ip", "-4", "route"], "listing routes"
    )
    taken = [
        ipaddress.IPv4Network(word, strict=False)
        for word in used.split()
        if "/" in word and word[0].isdigit()
    ]
    subnets: list[ipaddress.IPv4Network] = list(_HOST_RANGE.subnets(new_prefix=30))
    random.shuffle(subnets)  # several nodes (worktrees, retries) on one machine pick different ones
    for subnet in subnets:
        if not any(subnet.overlaps(t) for t in taken):
            return subnet
    raise PlatformError(f"no free /30 left in {_HOST_RANGE} for the node's veth pair")


def _hierarchies() -> list[Path]:
    """The cgroup v2 tree's root, or every mounted v1 hierarchy (this machine has v1 only)."""
    if (CGROUP_FS / "cgroup.controllers").is_file():
        return [CGROUP_FS]
    return [h for h in CGROUP_FS.iterdir() if (h / "cgroup.procs").is_file()] if CGROUP_FS.is_dir() else []


def cgroup_dirs(root: str) -> list[Path]:
    """Every directory of this cgroup root in every hierarchy, deepest first."""
    found: list[Path] = []
    for hierarchy in _hierarchies():
        top = hierarchy / root
        if top.is_dir():
            found.extend(Path(d) for d, _, _ in os.walk(top))
    return sorted(set(found), key=lambda p: len(p.parts), reverse=True)


def cgroup_pids(root: str) -> set[int]:
    pids: set[int] = set()
    for folder in cgroup_dirs(root):
        with contextlib.suppress(OSError):
            pids.update(int(line) for line in (folder / "cgroup.procs").read_text().split())
    return pids


def kill_cgroup_processes(root: str, timeout: float = 30) -> None:
    """SIGKILL every process in the cgroups under `root` (containers and sandboxes) until none is left."""

    def empty() -> bool:
        pids = cgroup_pids(root)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return not pids

    wait_until(
        empty,
        describe=f"every process in the cgroups under /{root} to die",
        timeout=timeout,
        interval=0.2,
        diagnose=lambda: f"left: {sorted(cgroup_pids(root))}",
    )


def remove_cgroup_root(root: str, timeout: float = 15) -> None:
    def removed() -> bool:
        for folder in cgroup_dirs(root):
            with contextlib.suppress(FileNotFoundError, OSError):
                folder.rmdir()
        return not cgroup_dirs(root)

    wait_until(
        removed,
        describe=f"the cgroups under /{root} to be removed",
        timeout=timeout,
        interval=0.2,
        diagnose=lambda: f"left: {[str(d) for d in cgroup_dirs(root)[:5]]}",
    )


@dataclass
class Sandbox:
    """The namespaces (held by `holder`), the veth pair, the saved sysctls and the cgroup root of one node."""

    run_id: str
    holder: ManagedProcess
    host_link: str
    host_ip: str
    node_ip: str
    cgroup_root: str
    saved_sysctls: dict[str, str]
    released: list[str] = field(default_factory=list)

    def enter(self) -> list[str]:
        """The argv prefix that runs a command inside the node's namespaces."""
        return ["nsenter", f"--target={self.holder.pid}", "--net", "--mount", "--"]

    def run(self, argv: list[str], what: str) -> str:
        return _run(self.enter() + argv, what)

    def kill_pods(self) -> None:
        kill_cgroup_processes(self.cgroup_root)

    def create_cgroups(self) -> None:
        """The cgroup root in every hierarchy (the kubelet refuses a --cgroup-root that does not exist)."""
        for hierarchy in _hierarchies():
            top = hierarchy / self.cgroup_root
            top.mkdir(exist_ok=True)
            # A v1 cpuset child starts empty: no task could join it until it has the parent's cpus and mems.
            for name in ("cpuset.cpus", "cpuset.mems"):
                if (hierarchy / name).is_file() and not (top / name).read_text().strip():
                    (top / name).write_text((hierarchy / name).read_text())

    def remove_cgroups(self) -> None:
        remove_cgroup_root(self.cgroup_root)

    def link_gone(self) -> bool:
        return not Path(f"/sys/class/net/{self.host_link}").exists()


def create(supervisor: ProcessSupervisor, run_id: str) -> Sandbox:
    """The holder process, then the veth pair; sysctls are saved before anything can change them."""
    saved = read_sysctls()
    holder = supervisor.start(
        "namespace-holder",
        [
            "unshare",
            "--net",
            "--mount",
            "--propagation=private",
            "--",
            "sh",
            "-c",
            # tmpfs over the host's runtime and state folders: see the module docstring.
            "mount -t tmpfs -o mode=755 kconform-node-run /run && "
            "mount -t tmpfs -o mode=755 kconform-node-varlib /var/lib && "
            "mount -t tmpfs -o mode=755 kconform-node-varlog /var/log && "
            "touch /run/ready && exec sleep infinity",
        ],
    )

    def namespaces_ready() -> bool:
        holder.ensure_alive()
        probe = ["nsenter", f"--target={holder.pid}", "--mount", "test", "-f", "/run/ready"]
        return (
            subprocess.run(probe, check=False).returncode == 0
        )  # the file is in the holder's mount namespace

    wait_until(
        namespaces_ready,
        describe="the node's namespaces to be set up",
        timeout=15,
        interval=0.1,
        diagnose=holder.tail,
    )
    network = _free_link_network()
    host_ip, node_ip = (str(a) for a in list(network.hosts())[:2])
    suffix = run_id[-8:]
    host_link = f"kch{suffix}"[:15]
    sandbox = Sandbox(run_id, holder, host_link, host_ip, node_ip, f"{CGROUP_ROOT_PREFIX}{run_id}", saved)
    _run(
        ["ip", "link", "add", host_link, "type", "veth", "peer", "name", "kc0", "netns", str(holder.pid)],
        "creating the node's veth pair",
    )
    _run(["ip", "addr", "add", f"{host_ip}/30", "dev", host_link], "addressing the host's end of the veth")
    _run(["ip", "link", "set", host_link, "up"], "bringing up the host's end of the veth")
    for argv in (
        ["ip", "addr", "add", f"{node_ip}/30", "dev", "kc0"],
        ["ip", "link", "set", "kc0", "up"],
        ["ip", "link", "set", "lo", "up"],
        # Per network namespace: routing between pods and services, and iptables on bridged pod traffic.
        ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=1"],
    ):
        sandbox.run(argv, "setting up the node's network")
    return sandbox
