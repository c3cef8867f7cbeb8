"""A stateful fake of the Looker (Google Cloud core) v1 API on loopback, for end-to-end tests.

``with FakeLooker() as fake:`` serves ``fake.url`` over real HTTP/1.1 with keep-alive
(:class:`tests.support.loopback.LoopbackServer`). It keeps instances, backups and operations in
memory and behaves as the API and google/longrunning/operations.proto describe:

* instances create/patch/delete/restart/export/import/restore/undelete and backups
  create/delete return an Operation that is done after ``polls_to_done`` ``operations.get``
  calls; then its effect is applied and ``response`` holds the resource (or ``Empty``).
* operations get/list (paged)/delete/cancel: cancel is best effort — a running operation ends
  with ``error.code == 1`` (CANCELLED) and is not deleted; with ``cancel_supported=False``
  cancel answers 501 UNIMPLEMENTED.
* list methods page with ``pageSize`` (default ``default_page_size``) and opaque tokens;
  ``repeat_page_token`` makes every page return the same token (a broken server).
* errors are google.rpc.Status JSON: 404 NOT_FOUND, 409 ALREADY_EXISTS, 400 INVALID_ARGUMENT,
  401 UNAUTHENTICATED.
* an OAuth token endpoint at ``fake.token_uri`` for service-account JWTs (the signature is
  verified against the registered public key) and refresh tokens; with ``require_auth``
  every API call needs a live bearer token (or a registered API key in ``x-goog-api-key``).
* faults: :meth:`inject` queues replies (429 + Retry-After, 503, ``fault="reset"``,
  ``"truncate"``, ``"stall"``, ``"drip"``, invalid JSON, delays) for the next matching
  requests; :attr:`chaos` makes a fraction of GETs fail with 503 or a reset.
"""

from __future__ import annotations

import base64
import itertools
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from tests.support.loopback import LoopbackServer, Recorded, Reply

TYPE_PREFIX = "type.googleapis.com/google.cloud.looker.v1."
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}


def error_reply(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    """A google.rpc.Status error body, as Google APIs send it."""
    body = {"error": {"code": status, "message": message, "status": STATUS_NAMES.get(status, "UNKNOWN")}}
    return Reply(status, body, headers or {})


@dataclass
class FakeOperation:
    name: str
    verb: str
    target: str
    effect: Callable[[], Any]  # applied when the operation finishes; returns the response
    polls: int = 0
    done: bool = False
    response: Any = None
    error: dict[str, Any] | None = None
    cancel_requested: bool = False
    fail_with: dict[str, Any] | None = None
    create_time: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "name": self.name,
            "metadata": {
                "@type": TYPE_PREFIX + "OperationMetadata",
                "createTime": self.create_time,
                "target": self.target,
                "verb": self.verb,
                "requestedCancellation": self.cancel_requested,
                "apiVersion": "v1",
            },
            "done": self.done,
        }
        if self.done and self.error is not None:
            result["error"] = self.error
        elif self.done:
            result["response"] = self.response
        return result


@dataclass
class _Fault:
    reply: Reply
    match: Callable[[Recorded], bool]


class FakeLooker:
    """The fake server; see the module docstring."""

    def __init__(
        self,
        *,
        polls_to_done: int = 2,
        default_page_size: int = 2,
        cancel_supported: bool = True,
        require_auth: bool = False,
        token_lifetime: int = 3600,
    ) -> None:
        self.polls_to_done = polls_to_done
        self.default_page_size = default_page_size
        self.cancel_supported = cancel_supported
        self.require_auth = require_auth
        self.token_lifetime = token_lifetime
        self.repeat_page_token = False
        #: Fraction of API GETs answered with a 503 or a connection reset (0: none).
        self.chaos = 0.0
        self.chaos_random = random.Random(1234)
        self.chaos_hits = 0
        self.lock = threading.RLock()
        self.instances: dict[str, dict[str, Any]] = {}
        self.backups: dict[str, dict[str, Any]] = {}
        self.operations: dict[str, FakeOperation] = {}
        self.next_operation_error: dict[str, Any] | None = None
        self._ids = itertools.count(1)
        self._faults: list[_Fault] = []
        # OAuth
        self.token_hits = 0
        self.token_requests: list[dict[str, str]] = []
        self.live_tokens: set[str] = set()
        self.api_keys: set[str] = set()
        self.service_accounts: dict[str, Any] = {}  # client_email -> RSA public key
        self.refresh_tokens: dict[str, tuple[str, str]] = {}  # refresh token -> (client_id, secret)
        self.token_delay = 0.0
        self.server = LoopbackServer(self.handle)

    # --- lifecycle ---------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.server.url

    @property
    def token_uri(self) -> str:
        return self.server.url + "token"

    def __enter__(self) -> FakeLooker:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)

    @property
    def requests(self) -> list[Recorded]:
        return self.server.requests

    def api_requests(self, method: str | None = None, contains: str = "") -> list[Recorded]:
        """The recorded API requests (not token requests), optionally filtered."""
        return [
            r
            for r in self.server.requests
            if r.path.startswith("/v1/") and (method is None or r.method == method) and contains in r.path
        ]

    # --- faults ------------------------------------------------------------------------
    def inject(self, *replies: Reply, method: str | None = None, contains: str = "") -> None:
        """Answer the next requests that match (HTTP method, substring of the path) with ``replies``."""

        def match(request: Recorded) -> bool:
            return (method is None or request.method == method) and contains in request.path

        with self.lock:
            self._faults.extend(_Fault(reply, match) for reply in replies)

    def pending_faults(self) -> int:
        with self.lock:
            return len(self._faults)

    # --- auth --------------------------------------------------------------------------
    def add_service_account(self, client_email: str, public_key: Any) -> None:
        self.service_accounts[client_email] = public_key

    def add_refresh_token(self, refresh_token: str, client_id: str, client_secret: str) -> None:
        self.refresh_tokens[refresh_token] = (client_id, client_secret)

    def revoke_all_tokens(self) -> None:
        with self.lock:
            self.live_tokens.clear()

    def _token(self, request: Recorded) -> Reply:
        form = dict(parse_qsl(request.body.decode("utf-8")))
        with self.lock:
            self.token_hits += 1
            self.token_requests.append(form)
        if self.token_delay:
            time.sleep(self.token_delay)
        grant = form.get("grant_type", "")
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            problem = self._check_jwt(form.get("assertion", ""))
        elif grant == "refresh_token":
            expected = self.refresh_tokens.get(form.get("refresh_token", ""))
            problem = None if expected == (form.get("client_id"), form.get("client_secret")) else "bad refresh token"
        else:
            problem = f"unsupported grant_type {grant!r}"
        if problem:
            return Reply(400, {"error": "invalid_grant", "error_description": problem})
        with self.lock:
            token = f"ya29.fake-{self.token_hits}-{next(self._ids)}"
            self.live_tokens.add(token)
        return Reply(200, {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"})

    def _check_jwt(self, assertion: str) -> str | None:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        try:
            header_b64, claims_b64, signature_b64 = assertion.split(".")
            claims = json.loads(_b64decode(claims_b64))
            signature = _b64decode(signature_b64)
        except ValueError:
            return "malformed JWT"
        key = self.service_accounts.get(claims.get("iss", ""))
        if key is None:
            return f"unknown service account {claims.get('iss')!r}"
        try:
            key.verify(signature, f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return "bad JWT signature"
        # google-auth always uses Google's token endpoint as the audience, whatever token_uri is.
        if claims.get("aud") not in (self.token_uri, GOOGLE_TOKEN_URI):
            return f"JWT audience {claims.get('aud')!r} is not the token endpoint"
        if not claims.get("scope"):
            return "JWT has no scope"
        if not claims.get("iat", 0) <= time.time() + 60 < claims.get("exp", 0) + 60:
            return "JWT expired"
        return None

    def _authorized(self, request: Recorded) -> bool:
        if not self.require_auth:
            return True
        key = request.headers.get("x-goog-api-key")
        if key is not None:
            return key in self.api_keys
        header = request.headers.get("authorization", "")
        with self.lock:
            return header.startswith("Bearer ") and header[7:] in self.live_tokens

    # --- dispatch ------------------------------------------------------------------------
    def handle(self, request: Recorded) -> Reply:
        if request.path == "/token" and request.method == "POST":
            return self._token(request)
        with self.lock:
            for index, fault in enumerate(self._faults):
                if fault.match(request):
                    del self._faults[index]
                    return fault.reply
            if self.chaos and request.method == "GET" and self.chaos_random.random() < self.chaos:
                self.chaos_hits += 1
                return Reply(fault="reset") if self.chaos_random.random() < 0.5 else error_reply(503, "try again")
        if not request.path.startswith("/v1/"):
            return error_reply(404, f"no such path {request.path}")
        if not self._authorized(request):
            return error_reply(401, "Request had invalid authentication credentials.")
        path = unquote(request.path[len("/v1/") :])
        query = dict(request.query)
        body = request.json() if request.body else {}
        with self.lock:
            return self._route(request.method, path, query, body)

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> Reply:
        action = ""
        if ":" in path.rsplit("/", 1)[-1]:
            path, action = path.rsplit(":", 1)
        parts = path.split("/")
        n = len(parts)
        if n < 2 or parts[0] != "projects":
            return error_reply(404, f"unknown resource {path}")
        if n == 3 and parts[2] == "locations" and method == "GET":
            locations = [{"name": f"{path}/{loc}", "locationId": loc} for loc in ("europe-west1", "us-central1")]
            return self._page("locations", locations, query)
        if n == 4 and parts[2] == "locations" and method == "GET":
            return Reply(200, {"name": path, "locationId": parts[3]})
        if n >= 5 and parts[4] == "instances":
            return self._instances(method, path, parts, action, query, body)
        if n >= 5 and parts[4] == "operations":
            return self._operations(method, path, parts, action, query)
        return error_reply(404, f"unknown resource {path}")

    # --- instances and backups -----------------------------------------------------------
    def _instances(
        self, method: str, path: str, parts: list[str], action: str, query: dict[str, str], body: Any
    ) -> Reply:
        n = len(parts)
        parent = "/".join(parts[:4])
        if n == 5 and not action:
            if method == "GET":
                return self._page("instances", sorted(self.instances.values(), key=lambda i: i["name"]), query)
            if method == "POST":
                instance_id = query.get("instanceId", "")
                name = f"{parent}/instances/{instance_id}"
                if not instance_id:
                    return error_reply(400, "instanceId is required")
                if name in self.instances:
                    return error_reply(409, f"instance {name} already exists")
                instance = {**body, "name": name, "state": "CREATING"}
                self.instances[name] = instance

                def created() -> Any:
                    instance["state"] = "ACTIVE"
                    return {"@type": TYPE_PREFIX + "Instance", **instance}

                return self._start(parent, "create", name, created)
        name = "/".join(parts[:6])
        if n >= 6 and name not in self.instances:
            return error_reply(404, f"instance {name} not found")
        if n == 6:
            instance = self.instances[name]
            if action:
                if method != "POST" or action not in ("restart", "export", "import", "restore", "undelete"):
                    return error_reply(404, f"unknown method {action}")

                def acted() -> Any:
                    return {"@type": TYPE_PREFIX + "Instance", **instance}

                return self._start(parent, action, name, acted)
            if method == "GET":
                return Reply(200, instance)
            if method == "PATCH":
                mask = [f for f in query.get("updateMask", "").split(",") if f]

                def patched() -> Any:
                    for key in mask or list(body):
                        if key in body:
                            instance[key] = body[key]
                    return {"@type": TYPE_PREFIX + "Instance", **instance}

                return self._start(parent, "update", name, patched)
            if method == "DELETE":

                def deleted() -> Any:
                    self.instances.pop(name, None)
                    return {"@type": "type.googleapis.com/google.protobuf.Empty"}

                return self._start(parent, "delete", name, deleted)
        if n >= 7 and parts[6] == "backups":
            if n == 7 and method == "GET":
                items = sorted(
                    (b for b in self.backups.values() if b["name"].startswith(name + "/")), key=lambda b: b["name"]
                )
                return self._page("instanceBackups", items, query)
            if n == 7 and method == "POST":
                backup_name = f"{name}/backups/b{next(self._ids)}"

                def backed_up() -> Any:
                    backup = {"name": backup_name, "state": "ACTIVE"}
                    self.backups[backup_name] = backup
                    return {"@type": TYPE_PREFIX + "InstanceBackup", **backup}

                return self._start(parent, "create", backup_name, backed_up)
            if n == 8:
                if path not in self.backups:
                    return error_reply(404, f"backup {path} not found")
                if method == "GET":
                    return Reply(200, self.backups[path])
                if method == "DELETE":

                    def backup_deleted() -> Any:
                        self.backups.pop(path, None)
                        return {"@type": "type.googleapis.com/google.protobuf.Empty"}

                    return self._start(parent, "delete", path, backup_deleted)
        return error_reply(404, f"unknown resource {path}")

    # --- operations ----------------------------------------------------------------------
    def _start(self, parent: str, verb: str, target: str, effect: Callable[[], Any]) -> Reply:
        name = f"{parent}/operations/operation-{next(self._ids)}"
        operation = FakeOperation(name, verb, target, effect, fail_with=self.next_operation_error)
        self.next_operation_error = None
        self.operations[name] = operation
        if self.polls_to_done == 0:
            self._finish(operation)
        return Reply(200, operation.to_json())

    def _finish(self, operation: FakeOperation) -> None:
        operation.done = True
        if operation.fail_with is not None:
            operation.error = operation.fail_with
        else:
            operation.response = operation.effect()

    def _operations(self, method: str, path: str, parts: list[str], action: str, query: dict[str, str]) -> Reply:
        n = len(parts)
        if n == 5 and method == "GET" and not action:
            items = sorted(self.operations.values(), key=lambda o: o.name)
            wanted = query.get("filter", "")
            if wanted in ("done=true", "done=false"):
                items = [o for o in items if o.done == (wanted == "done=true")]
            return self._page("operations", [o.to_json() for o in items if o.name.startswith(path + "/")], query)
        if n != 6:
            return error_reply(404, f"unknown resource {path}")
        operation = self.operations.get(path)
        if operation is None:
            return error_reply(404, f"operation {path} not found")
        if action == "cancel" and method == "POST":
            if not self.cancel_supported:
                return error_reply(501, "Operation cancellation is not implemented.")
            if not operation.done:
                operation.cancel_requested = True
                operation.done = True
                operation.error = {"code": 1, "message": "Operation was cancelled."}
            return Reply(200, {})
        if action:
            return error_reply(404, f"unknown method {action}")
        if method == "GET":
            if not operation.done:
                operation.polls += 1
                if operation.polls >= self.polls_to_done:
                    self._finish(operation)
            return Reply(200, operation.to_json())
        if method == "DELETE":
            del self.operations[path]
            return Reply(200, {})
        return error_reply(404, f"unknown method {method} {path}")

    # --- paging ------------------------------------------------------------------------
    def _page(self, field_name: str, items: list[Any], query: dict[str, str]) -> Reply:
        try:
            size = int(query.get("pageSize") or self.default_page_size)
            token = query.get("pageToken", "")
            start = int(base64.urlsafe_b64decode(token.encode()).decode().split(":")[1]) if token else 0
        except (ValueError, IndexError):
            return error_reply(400, "invalid page token or page size")
        if size <= 0:
            return error_reply(400, "pageSize must be positive")
        page: dict[str, Any] = {field_name: items[start : start + size]}
        if start + size < len(items):
            offset = start if self.repeat_page_token else start + size
            page["nextPageToken"] = base64.urlsafe_b64encode(f"{field_name}:{offset}".encode()).decode()
        if field_name in ("instances", "instanceBackups", "locations"):
            page["unreachable"] = []
        return Reply(200, page)


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
