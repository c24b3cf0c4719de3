"""A small facade over the official `kubernetes` client: everything else talks to the API through it.

Resources are applied with server-side apply (field manager `kconform`, conflicts forced, unknown fields
rejected by the API server: fieldValidation=Strict). ApiException is wrapped into kconform errors carrying the
API's own message.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from kconform.errors import ManifestError, PlatformError
from kconform.secrets import SecretData

FIELD_MANAGER = "kconform"


def api_message(err: Exception) -> str:
    """The API server's message from an ApiException body, else the exception text."""
    body = getattr(err, "body", None)
    if body:
        try:
            return str(json.loads(body).get("message") or body)
        except (ValueError, AttributeError):
            return str(body)
    return str(getattr(err, "reason", None) or err)


# Server-side apply of a custom resource whose fields do not fit the CRD's schema (an unknown field, a string
# where a number belongs) fails while the API server builds the typed patch, and it answers 500 with this
# message (checked against kube-apiserver v1.35.4, tests/apiserver/test_manifests.py): the manifest is wrong.
_TYPED_PATCH_FAILURE = "failed to create typed patch object"


def wrap(err: Exception, action: str) -> PlatformError | ManifestError:
    status = getattr(err, "status", None)
    detail = api_message(err)
    message = f"{action}: {detail}"
    # 422 Invalid / 400 BadRequest with strict field validation: the manifest is wrong, not the cluster.
    if status in (400, 422) or (status == 500 and _TYPED_PATCH_FAILURE in detail):
        return ManifestError(message)
    return PlatformError(message)


def _is_not_found(err: Exception) -> bool:
    return getattr(err, "status", None) == 404


class Kube:
    """One API connection (a kubeconfig context)."""

    def __init__(self, *, context: str | None = None, kubeconfig: str | None = None) -> None:
        from kubernetes import client, config, dynamic
        from kubernetes.client.rest import ApiException
        from kubernetes.config.config_exception import ConfigException

        self._api_exception = ApiException
        try:
            api_client = config.new_client_from_config(config_file=kubeconfig, context=context)
        except (ConfigException, OSError, TypeError) as err:
            raise PlatformError(f"cannot load kubeconfig context {context or '(current)'}: {err}") from err
        self.api_client = api_client
        self.core = client.CoreV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)
        self.version_api = client.VersionApi(api_client)
        self.extensions = client.ApiextensionsV1Api(api_client)
        self._dynamic_factory = lambda: dynamic.DynamicClient(api_client)
        self._dynamic: Any = None
        # The dynamic client's discovery cache is rebuilt in place on a miss; a cell's clusters are applied
        # and awaited from threads of their own (a concurrent reader saw KeyError 'resources').
        self._discovery = threading.RLock()

    @property
    def dynamic(self) -> Any:
        with self._discovery:
            if self._dynamic is None:
                try:
                    self._dynamic = self._dynamic_factory()
                except Exception as err:  # discovery errors come as several exception types
                    raise PlatformError(f"cannot reach the Kubernetes API: {err}") from err
            return self._dynamic

    @contextmanager
    def _api(self, action: str) -> Iterator[None]:
        try:
            yield
        except self._api_exception as err:
            raise wrap(err, action) from err

    def _resource(self, api_version: str, kind: str) -> Any:
        with self._api(f"find API {api_version} {kind}"), self._discovery:
            return self.dynamic.resources.get(api_version=api_version, kind=kind)

    # --- generic resources
    def server_version(self) -> str:
        with self._api("read server version"):
            info = self.version_api.get_code()
        return str(info.git_version).lstrip("v")

    def apply(self, resource: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """Server-side apply; with `dry_run` the API server validates and admits it but stores nothing."""
        meta = resource["metadata"]
        where = f"{resource['kind']} {meta.get('namespace', '')}/{meta['name']}".replace(" /", " ")
        api = self._resource(resource["apiVersion"], resource["kind"])
        with self._api(f"apply {where}"):
            result = self.dynamic.server_side_apply(
                api,
                body=resource,
                name=meta["name"],
                namespace=meta.get("namespace"),
                field_manager=FIELD_MANAGER,
                force_conflicts=True,
                query_params=[("fieldValidation", "Strict")],
                **({"dry_run": "All"} if dry_run else {}),
            )
        return dict(result.to_dict())

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        api = self._resource(api_version, kind)
        try:
            return dict(api.get(name=name, namespace=namespace).to_dict())
        except self._api_exception as err:
            if _is_not_found(err):
                return None
            raise wrap(err, f"get {kind} {namespace}/{name}") from err

    def list_objects(
        self, api_version: str, kind: str, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        api = self._resource(api_version, kind)
        with self._api(f"list {kind} in {namespace or 'all namespaces'}"):
            items = api.get(namespace=namespace, label_selector=label_selector).to_dict().get("items") or []
        return [dict(i) for i in items]

    def merge_patch(
        self, api_version: str, kind: str, namespace: str | None, name: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """A JSON merge patch (RFC 7386) of one object, e.g. to release a finalizer of kconform's own."""
        api = self._resource(api_version, kind)
        with self._api(f"patch {kind} {namespace}/{name}"):
            result = api.patch(
                body=body, name=name, namespace=namespace, content_type="application/merge-patch+json"
            )
        return dict(result.to_dict())

    def delete(self, api_version: str, kind: str, namespace: str | None, name: str) -> bool:
        """Delete (foreground); False when it was already gone."""
        api = self._resource(api_version, kind)
        try:
            api.delete(name=name, namespace=namespace, propagation_policy="Foreground")
        except self._api_exception as err:
            if _is_not_found(err):
                return False
            raise wrap(err, f"delete {kind} {namespace}/{name}") from err
        return True

    # --- core helpers
    def read_secret(self, namespace: str, name: str) -> SecretData:
        """The Secret's data as the raw bytes Strimzi stored (some are PKCS#12). Never logged here."""
        with self._api(f"read Secret {namespace}/{name}"):
            secret = self.core.read_namespaced_secret(name, namespace)
        return decode_secret_data(secret.data or {})

    def events(self, namespace: str) -> list[dict[str, Any]]:
        with self._api(f"list events in {namespace}"):
            items = self.core.list_namespaced_event(namespace).items
        return [self.api_client.sanitize_for_serialization(e) for e in items]

    def pods(self, namespace: str, label_selector: str | None = None) -> list[dict[str, Any]]:
        with self._api(f"list pods in {namespace}"):
            items = self.core.list_namespaced_pod(namespace, label_selector=label_selector).items
        return [self.api_client.sanitize_for_serialization(p) for p in items]

    def pod_log(
        self,
        namespace: str,
        pod: str,
        container: str | None = None,
        *,
        previous: bool = False,
        tail: int = 500,
    ) -> str:
        with self._api(f"read log of {namespace}/{pod}{'/' + container if container else ''}"):
            return str(
                self.core.read_namespaced_pod_log(
                    pod, namespace, container=container, previous=previous, tail_lines=tail
                )
            )

    @contextmanager
    def _stream_core(self) -> Iterator[Any]:
        """A CoreV1Api on an ApiClient of its own for one exec or port-forward. The kubernetes client's
        `stream()` swaps its ApiClient's `call_api` for a websocket request while it connects; on the shared
        client a REST call from another thread (a readiness poll, a diagnostics read) in that moment would be
        sent into the websocket handshake."""
        from kubernetes import client

        own = client.ApiClient(configuration=self.api_client.configuration)
        own.default_headers.update(self.api_client.default_headers)
        try:
            yield client.CoreV1Api(own)
        finally:
            own.close()

    def exec(
        self, namespace: str, pod: str, container: str, argv: list[str], stdin: str, timeout: float
    ) -> str:
        """Run argv in a container with `stdin`; return stdout. A non-zero exit, a connection that cannot be
        made or drops, and no exit within `timeout` are each a PlatformError saying which (stderr included)."""
        from kubernetes.stream import stream

        where = f"`{argv[0]}` in {namespace}/{pod}/{container}"
        with self._stream_core() as core:
            try:
                ws = stream(
                    core.connect_get_namespaced_pod_exec,
                    pod,
                    namespace,
                    container=container,
                    command=argv,
                    stdin=True,
                    stdout=True,
                    stderr=True,
                    tty=False,
                    _preload_content=False,
                )
            except self._api_exception as err:
                _reraise_interrupt(err)
                raise wrap(err, f"exec {where}") from err
            except Exception as err:  # websocket and socket errors of the handshake, several types
                raise PlatformError(f"exec {where}: cannot connect: {type(err).__name__}: {err}") from err
            try:
                return exec_outcome(ws, stdin, timeout, where)
            finally:
                ws.close()

    def port_forward(self, namespace: str, pod: str, port: int) -> Any:
        """A socket to `port` of the pod (for the bridge), through the API server."""
        from kubernetes.stream import portforward

        with self._stream_core() as core:
            try:
                forward = portforward(
                    core.connect_get_namespaced_pod_portforward, pod, namespace, ports=str(port)
                )
            except self._api_exception as err:
                _reraise_interrupt(err)
                raise wrap(err, f"port-forward {namespace}/{pod}:{port}") from err
        return forward.socket(port)

    def service_account_can(
        self, namespace: str, service_account: str, verb: str, group: str, resource: str
    ) -> bool | None:
        """Whether a ServiceAccount may `verb` `resource` in every namespace (a SubjectAccessReview with no
        namespace); None when this user may not ask."""
        from kubernetes import client

        spec = client.V1SubjectAccessReviewSpec(
            user=f"system:serviceaccount:{namespace}:{service_account}",
            groups=["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"],
            resource_attributes=client.V1ResourceAttributes(verb=verb, group=group, resource=resource),
        )
        try:
            review = client.AuthorizationV1Api(self.api_client).create_subject_access_review(
                client.V1SubjectAccessReview(spec=spec)
            )
        except self._api_exception:
            return None
        return bool(review.status and review.status.allowed)

    def crds(self, group: str = "kafka.strimzi.io") -> list[dict[str, Any]]:
        """The installed CRDs of a group: on a real cluster these are the schema truth."""
        with self._api("list CustomResourceDefinitions"):
            items = self.extensions.list_custom_resource_definition().items
        out = [self.api_client.sanitize_for_serialization(c) for c in items]
        return [c for c in out if (c.get("spec") or {}).get("group") == group]


def _reraise_interrupt(err: Exception) -> None:
    """The kubernetes client turns anything raised while a stream connects into an ApiException, a Ctrl-C or
    a SIGTERM (fixtures' KeyboardInterrupt) too (kubernetes/stream/ws_client.py websocket_call and
    portforward_call): the interrupt must stop the run, not become this exec's error."""
    if isinstance(err.__context__, KeyboardInterrupt):
        raise err.__context__


ERROR_CHANNEL = 3  # the exec protocol's status channel (remotecommand): a metav1.Status when the process ends


def exec_outcome(ws: Any, stdin: str, timeout: float, where: str) -> str:
    """Feed stdin to a connected exec stream, wait (bounded) for the process to end, and read its outcome
    from the Status the kubelet sends on the error channel: stdout when it succeeded, else a PlatformError
    that says whether it failed, timed out or lost its connection."""
    try:
        ws.write_stdin(stdin)
        ws.close_channel(0)  # EOF on stdin where the API speaks v5; the framing does not rely on it
        ws.run_forever(timeout=timeout)
        timed_out = ws.is_open()
        stdout, stderr = str(ws.read_stdout(timeout=0) or ""), str(ws.read_stderr(timeout=0) or "")
        status_text = "" if timed_out else str(ws.read_channel(ERROR_CHANNEL) or "")
    except Exception as err:  # websocket and socket errors once connected, several types
        raise PlatformError(f"exec {where}: the connection dropped: {type(err).__name__}: {err}") from err
    if timed_out:
        raise PlatformError(
            f"exec {where} timed out: no exit within {timeout:.0f}s; stderr so far: {stderr[-1000:]!r}"
        )
    try:
        status = json.loads(status_text) if status_text.strip() else None
    except ValueError:
        status = None
    if not isinstance(status, dict):
        raise PlatformError(
            f"exec {where}: the connection ended without an exit status (dropped by the API server or the "
            f"kubelet); stderr: {stderr[-1000:]!r}"
        )
    if status.get("status") == "Success":
        return stdout
    causes = ((status.get("details") or {}).get("causes")) or []
    code = next((c.get("message") for c in causes if c.get("reason") == "ExitCode"), None)
    what = f"exited {code}" if code is not None else f"failed: {status.get('message') or status}"
    raise PlatformError(f"{where} {what}: {stderr[-2000:]}")


def decode_secret_data(data: Mapping[str, str | bytes]) -> SecretData:
    """A Secret's `data` as the API returns it (base64 text) to the stored bytes; no value is assumed text,
    since `ca.p12` and `user.p12` are PKCS#12 (strimzi_contract.BINARY_KEYS)."""
    return SecretData({key: base64.b64decode(value, validate=True) for key, value in data.items()})
