"""A real single-node Kubernetes v1.35.4 on this machine, in namespaces of its own (tests/node/sandbox.py).

Started in this order, each waited for: containerd (Debian's, with its own root, state and socket; the
images of tests/node/images.py imported), etcd and kube-apiserver (the apiserver tier's binaries),
kube-controller-manager, kube-scheduler, the kubelet (cgroup v1 allowed, cgroupfs driver, its own cgroup
root), kube-proxy (iptables mode) and CoreDNS (a process on the node serving the `kube-dns` Service). Pods get
addresses from Debian's CNI bridge plugin. Each component authenticates with a static token under the user
Kubernetes' bootstrap RBAC expects; the kubelet accepts the API server anonymously (it listens only inside
the node's network namespace and on the veth).

`stop()` undoes everything in reverse: the kubelet first (so nothing restarts), every pod process killed by
its cgroup, the other processes, containerd's shims (found by the run marker each inherits), the namespace
holder (the namespaces, mounts and veth go with it), the cgroups; then the host sysctls are restored and
`leftovers()` says what, if anything, is still there.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock

from kconform.errors import PlatformError
from kconform.platforms.local.processes import (
    ManagedProcess,
    ProcessSupervisor,
    find_run_processes,
)
from kconform.waits import wait_until
from tests.apiserver import build as apiserver_build
from tests.node import build, configs, images, pki, sandbox
from tests.node.configs import (
    API_PORT,
    API_SERVICE_IP,
    CLUSTER_DOMAIN,
    CONTEXT,
    NODE_NAME,
    SERVICE_CIDR,
)
from tests.node.sandbox import Sandbox

LOG = logging.getLogger("kconform.node")
READY_TIMEOUT_S = 120.0
_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _write(path: Path, text: str, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


@dataclass
class Node:
    """A running node; `kubeconfig` (context CONTEXT) reaches its API server as a system:masters user."""

    run_id: str
    workdir: Path
    log_dir: Path
    sandbox: Sandbox
    supervisor: ProcessSupervisor
    creds: pki.Pki
    processes: dict[str, ManagedProcess] = field(default_factory=dict)
    kubeconfig: Path = Path()
    stopped: bool = False

    @property
    def node_ip(self) -> str:
        return self.sandbox.node_ip

    @property
    def host_ip(self) -> str:
        """The host's end of the veth: what pods reach this machine's own listeners at."""
        return self.sandbox.host_ip

    @property
    def server(self) -> str:
        return f"https://{self.node_ip}:{API_PORT}"

    @property
    def context(self) -> str:
        return CONTEXT

    @property
    def containerd_socket(self) -> Path:
        return self.workdir / "containerd" / "containerd.sock"

    def kubectl(self, *args: str, stdin: str | None = None, timeout: float = 60) -> str:
        proc = subprocess.run(
            [str(build.binary(build.KUBECTL)), f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise PlatformError(f"kubectl {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stdout

    def ctr(self, *args: str, timeout: float = 300) -> str:
        proc = subprocess.run(
            # Inside the node's mount namespace: ctr's fifos (`ctr run`) live under its private /run.
            [
                *self.sandbox.enter(),
                "ctr",
                f"--address={self.containerd_socket}",
                "--namespace=k8s.io",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise PlatformError(f"ctr {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stdout

    def alias_image(self, image: str, alias: str) -> None:
        """Give an image of the node's store another reference (e.g. under a mirror registry's name): pods
        naming `alias` then run it without any pull, and nothing else answers that name."""
        self.ctr("images", "tag", "--force", image, alias)

    def ensure_alive(self) -> None:
        for process in self.processes.values():
            process.ensure_alive()

    def node_ready(self) -> bool:
        self.ensure_alive()
        try:
            conditions = json.loads(self.kubectl("get", "node", NODE_NAME, "-o", "json", timeout=10))[
                "status"
            ].get("conditions", [])
        except (PlatformError, subprocess.TimeoutExpired):
            return False
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    def diagnose(self) -> str:
        return "\n".join(
            f"--- {name} ({p!r}):\n{p.tail(15)}"
            for name, p in self.processes.items()
            if name != "namespace-holder"
        )

    def stop(self) -> list[str]:
        """Stop everything; return what is left (empty when the machine is as before)."""
        if self.stopped:
            return self.leftovers()
        self.stopped = True
        errors: list[str] = []
        kubelet = self.processes.get("kubelet")
        steps: list[tuple[str, Any]] = [
            ("stopping the kubelet", lambda: kubelet.stop(15) if kubelet else None),
            ("killing the pods", self.sandbox.kill_pods),
            ("stopping the node's processes", lambda: self.supervisor.stop_all(timeout=15)),
            ("killing containerd's shims", self._kill_marked),
            ("removing the node's cgroups", self.sandbox.remove_cgroups),
            ("restoring the host sysctls", lambda: sandbox.write_sysctls(self.sandbox.saved_sysctls)),
        ]
        for what, step in steps:
            try:
                step()
            except Exception as err:  # one failed step must not keep the later ones from cleaning up
                errors.append(f"{what}: {err}")
        with contextlib.suppress(Exception):
            wait_until(
                self.sandbox.link_gone,
                describe=f"the veth {self.sandbox.host_link} to go with the node's network namespace",
                timeout=15,
                interval=0.1,
            )
        left = errors + self.leftovers()
        if not left:
            saved_sysctls_file().unlink(missing_ok=True)
        return left

    def _kill_marked(self) -> None:
        for pid in find_run_processes(self.run_id):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        wait_until(
            lambda: not find_run_processes(self.run_id),
            describe=f"every process of run {self.run_id} to die",
            timeout=15,
            interval=0.1,
            diagnose=lambda: str(find_run_processes(self.run_id)),
        )

    def leftovers(self) -> list[str]:
        left = []
        if pids := find_run_processes(self.run_id):
            left.append(f"processes {pids}")
        if not self.sandbox.link_gone():
            left.append(f"veth {self.sandbox.host_link}")
        if dirs := sandbox.cgroup_dirs(self.sandbox.cgroup_root):
            left.append(f"cgroups {[str(d) for d in dirs[:3]]}")
        if (now := sandbox.read_sysctls()) != self.sandbox.saved_sysctls:
            left.append(f"sysctls {now} (were {self.sandbox.saved_sysctls})")
        return left


def _wait_http(url: str, what: str, node: Node, timeout: float = READY_TIMEOUT_S) -> None:
    """Until `url` (inside the node's network namespace) answers 200; curl-less: a one-line python."""

    def ok() -> bool:
        node.ensure_alive()
        probe = subprocess.run(
            [
                *node.sandbox.enter(),
                "python3",
                "-c",
                "import sys,ssl,urllib.request as u;"
                "c=ssl._create_unverified_context();"
                f"sys.exit(0 if u.urlopen('{url}',context=c,timeout=2).status==200 else 1)",
            ],
            capture_output=True,
            timeout=10,
            check=False,
        )
        return probe.returncode == 0

    wait_until(
        ok, describe=f"{what} ({url}) to answer 200", timeout=timeout, interval=0.3, diagnose=node.diagnose
    )


def _wait_socket(path: Path, node: Node, what: str) -> None:
    def listening() -> bool:
        node.ensure_alive()
        if not path.exists():
            return False
        with socket.socket(socket.AF_UNIX) as sock:
            try:
                sock.connect(str(path))
            except OSError:
                return False
        return True

    wait_until(
        listening, describe=f"{what} to listen on {path}", timeout=60, interval=0.2, diagnose=node.diagnose
    )


def saved_sysctls_file() -> Path:
    return build.install_dir() / ".node-saved-sysctls.json"


@contextlib.contextmanager
def machine_lock(timeout: float) -> Iterator[None]:
    """Held while a node runs: one node per machine (they share the host's sysctls and cgroup tree), and a
    node that starts with it held knows that any node state it finds is a killed session's."""
    with FileLock(str(build.install_dir() / ".node-running.lock"), timeout=timeout):
        yield


def start(*, workdir: Path, log_dir: Path) -> Node:
    """Start the node (hold `machine_lock`); return once it is Ready and cluster DNS answers. Raises after
    cleaning up on failure."""
    missing = [t.name for t in build.TARGETS if not apiserver_build.is_built(t, build.install_dir())]
    missing += [t.name for t in apiserver_build.TARGETS if not apiserver_build.is_built(t)]
    if missing or not images.all_built(build.install_dir() / "images"):
        raise PlatformError(
            f"the node is not built ({', '.join(missing) or 'images'} missing): run `python -m tests.node.build`"
        )
    run_id = f"node-{uuid.uuid4().hex[:8]}"
    workdir.mkdir(parents=True, exist_ok=True)
    recovered = sandbox.recover_stale(saved_sysctls_file())
    if recovered:
        LOG.warning("a node killed earlier had left: %s (removed)", "; ".join(recovered))
    supervisor = ProcessSupervisor(run_id, log_dir)
    env = {**os.environ, "PATH": _PATH}
    box = sandbox.create(supervisor, run_id)
    # Kept until the node stops cleanly: the next start restores them if this session is killed.
    saved_sysctls_file().write_text(json.dumps(box.saved_sysctls))
    creds = pki.create(workdir / "pki", node_name=NODE_NAME, node_ip=box.node_ip, service_ip=API_SERVICE_IP)
    node = Node(run_id, workdir, log_dir, box, supervisor, creds)
    node.processes["namespace-holder"] = box.holder
    try:
        _start_components(node, env)
    except BaseException:
        left = node.stop()
        if left:
            raise PlatformError(f"the node failed to start and left: {left}") from None
        raise
    return node


def _component_kubeconfig(node: Node, component: str) -> Path:
    identity = node.creds.identities[component]
    return _write(
        node.workdir / "kubeconfigs" / f"{component}.yaml",
        configs.kubeconfig_text(node.server, node.creds.ca, identity.user, identity.token),
        0o600,
    )


def _start_components(node: Node, env: dict[str, str]) -> None:
    work, box, creds, bins = node.workdir, node.sandbox, node.creds, build.install_dir()
    enter = box.enter()

    def launch(name: str, argv: list[str]) -> ManagedProcess:
        node.processes[name] = node.supervisor.start(name, [*enter, *argv], env=env)
        return node.processes[name]

    box.create_cgroups()
    # containerd
    cd = work / "containerd"
    _write(cd / "net.d" / "10-kconform.conflist", configs.cni_config(cd))
    config = _write(cd / "config.toml", configs.containerd_config(cd))
    launch("containerd", ["containerd", f"--config={config}"])
    _wait_socket(node.containerd_socket, node, "containerd")
    for image in images.IMAGES:
        node.ctr("images", "import", str(images.archive(build.install_dir() / "images", image)))
    # etcd and kube-apiserver
    launch(
        "etcd",
        [
            str(apiserver_build.binary(apiserver_build.ETCD)),
            f"--data-dir={work / 'etcd'}",
            "--listen-client-urls=http://127.0.0.1:2379",
            "--advertise-client-urls=http://127.0.0.1:2379",
            "--listen-peer-urls=http://127.0.0.1:2380",
            "--initial-advertise-peer-urls=http://127.0.0.1:2380",
            "--initial-cluster=default=http://127.0.0.1:2380",
            "--unsafe-no-fsync",  # a throwaway store
            "--log-level=warn",
        ],
    )
    launch(
        "kube-apiserver",
        [
            str(apiserver_build.binary(apiserver_build.KUBE_APISERVER)),
            "--etcd-servers=http://127.0.0.1:2379",
            "--bind-address=0.0.0.0",  # inside the node's own network namespace
            f"--advertise-address={box.node_ip}",
            f"--secure-port={API_PORT}",
            f"--cert-dir={work / 'apiserver-certs'}",
            f"--tls-cert-file={creds.apiserver_cert}",
            f"--tls-private-key-file={creds.apiserver_key}",
            f"--client-ca-file={creds.ca}",
            f"--token-auth-file={creds.token_file}",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",
            f"--service-account-issuer=https://kubernetes.default.svc.{CLUSTER_DOMAIN}",
            f"--service-account-key-file={creds.sa_pub}",
            f"--service-account-signing-key-file={creds.sa_key}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--kubelet-preferred-address-types=InternalIP",
            "--allow-privileged=true",
            "--v=1",
        ],
    )
    _wait_http(f"{node.server}/readyz", "kube-apiserver", node)
    admin = creds.identities["admin"]
    node.kubeconfig = _write(
        work / "kubeconfig", configs.kubeconfig_text(node.server, creds.ca, admin.user, admin.token), 0o600
    )
    # controllers and scheduler
    launch(
        "kube-controller-manager",
        [
            str(bins / "kube-controller-manager"),
            f"--kubeconfig={_component_kubeconfig(node, 'controller-manager')}",
            f"--authentication-kubeconfig={_component_kubeconfig(node, 'controller-manager')}",
            f"--authorization-kubeconfig={_component_kubeconfig(node, 'controller-manager')}",
            "--bind-address=127.0.0.1",
            "--leader-elect=false",
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={creds.sa_key}",
            f"--root-ca-file={creds.ca}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--v=1",
        ],
    )
    launch(
        "kube-scheduler",
        [
            str(bins / "kube-scheduler"),
            f"--kubeconfig={_component_kubeconfig(node, 'scheduler')}",
            f"--authentication-kubeconfig={_component_kubeconfig(node, 'scheduler')}",
            f"--authorization-kubeconfig={_component_kubeconfig(node, 'scheduler')}",
            "--bind-address=127.0.0.1",
            "--leader-elect=false",
            "--v=1",
        ],
    )
    # kubelet
    kubelet_dir = work / "kubelet"
    (kubelet_dir / "manifests").mkdir(parents=True, exist_ok=True)
    kubelet_config = _write(
        kubelet_dir / "config.yaml", configs.kubelet_config(kubelet_dir, box, creds, node.containerd_socket)
    )
    kubelet_identity = creds.identities["kubelet"]
    kubelet_kubeconfig = _write(
        work / "kubeconfigs" / "kubelet.yaml",
        configs.kubeconfig_text(node.server, creds.ca, kubelet_identity.user, kubelet_identity.token),
        0o600,
    )
    launch(
        "kubelet",
        [
            str(bins / "kubelet"),
            f"--config={kubelet_config}",
            f"--kubeconfig={kubelet_kubeconfig}",
            f"--root-dir={kubelet_dir / 'root'}",
            f"--cert-dir={kubelet_dir / 'pki'}",
            f"--hostname-override={NODE_NAME}",
            f"--node-ip={box.node_ip}",
            "--v=1",
        ],
    )
    # kube-proxy
    proxy_config = _write(
        work / "kube-proxy.yaml", configs.kube_proxy_config(_component_kubeconfig(node, "kube-proxy"))
    )
    launch("kube-proxy", [str(bins / "kube-proxy"), f"--config={proxy_config}", "--v=1"])
    # cluster DNS: its RBAC, Service and EndpointSlice, then CoreDNS itself
    node.kubectl("apply", "-f", "-", stdin=configs.CLUSTER_OBJECTS.replace("{node_ip}", box.node_ip))
    corefile = _write(
        work / "Corefile",
        configs.COREFILE.replace("{kubeconfig}", str(_component_kubeconfig(node, "coredns"))),
    )
    launch("coredns", [str(bins / "coredns"), f"-conf={corefile}", "-dns.port=53"])
    wait_until(
        node.node_ready,
        describe=f"node {NODE_NAME} to be Ready",
        timeout=READY_TIMEOUT_S,
        interval=0.5,
        diagnose=node.diagnose,
    )
    _wait_http("http://127.0.0.1:8181/ready", "CoreDNS", node)

    def default_service_account() -> bool:  # the controllers run: pods are admitted in `default`
        node.ensure_alive()
        try:
            return bool(node.kubectl("get", "serviceaccount", "default", "-o", "name", timeout=10).strip())
        except PlatformError:
            return False

    wait_until(
        default_service_account,
        describe="the ServiceAccount default/default (made by kube-controller-manager)",
        timeout=READY_TIMEOUT_S,
        interval=0.5,
        diagnose=node.diagnose,
    )
