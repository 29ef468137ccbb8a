"""Fan-out: send one API request to EVERY Cloud Map instance that matches a route's filter, answer with all replies.

A private integration picks one matching instance; a fan-out route instead invokes this Lambda function through an
`AWS_PROXY` integration (payload format 2.0). Per request it makes ONE `DiscoverInstances` call with the route's
filter, calls every returned instance at `AWS_INSTANCE_IPV4:AWS_INSTANCE_PORT` concurrently, and answers with a
JSON aggregate. `main.py serve` runs the same `run()` for fan-out routes (compiler.live.gateway), so what is tested
locally is this code.

Runtime: python3.12 (works on 3.11+). Standard library and boto3 only: the deployment zip holds this module,
`settings.py` (the description of its environment, which the compiler reads too) and `cloudmap.py` (what it reads
from Cloud Map, which `serve` and `status` read with) (compiler.terraform.bundle). boto3 is imported by `handler`
only, so `run` can be imported without it.

Environment (set by the stack; `settings.environment(Settings(...))` writes it, `Settings.from_environ` reads it):

    CLOUD_MAP_NAMESPACE      the namespace's name (required): what DiscoverInstances takes when
                             CLOUD_MAP_NAMESPACE_ID is empty, and what messages name until GetNamespace answers
    CLOUD_MAP_NAMESPACE_ID   the namespace's id (the stack sets it). Its HttpName, what DiscoverInstances takes as
                             NamespaceName, is read with GetNamespace once per container (cold start) and kept
                             for the warm container: Cloud Map adds a generated hash to HttpName when a Name is
                             reused, so the plain name can be another namespace's (another environment's in the
                             same account and region). An answer without HttpName falls back to the namespace's
                             Name from the same answer (logged). When GetNamespace fails, the request answers
                             502 with the error and nothing is called: the plain name is never guessed (the next
                             request asks again).
    CLOUD_MAP_SERVICE        the Cloud Map service name (required)
    FILTER                   JSON object of attribute pairs every instance must match (QueryParameters); default {}
    INCLUDE_UNHEALTHY        "true": HealthStatus ALL; otherwise HEALTHY (default "false"). Cloud Map ignores the
                             health filter for a service without a health check and returns every instance.
    PER_INSTANCE_TIMEOUT_MS  each instance's whole call: connect, send, status line, headers and body, together
                             (default 2000). Every socket operation gets only what is left of it, so a backend
                             sending one byte a second still ends at this deadline.
    CONCURRENCY              instances called at the same time, at most (default 8)
    TOTAL_TIMEOUT_MS         the whole fan-out's budget: the route's integration timeout minus a reserve
                             (compiler.language.model.fan_out_total_ms; default 29500). No call runs past it;
                             instances without an answer by then are reported as timed out and the function
                             answers anyway, before API Gateway gives up. Never more than the invocation's
                             remaining time less 300 ms.
    STRIP_STAGE              "true" (default): a named stage's prefix is removed from the path, as routes.yaml does
                             for proxied routes (`overwrite:path = $request.path`); "false": forward_stage_in_path.
    STAGE                    the API's stage name ("$default": nothing to strip); empty: the event's
                             requestContext.stage
    FORWARD_HEADERS          comma-separated request header names passed on (case-insensitive); "*" passes every
                             header except hop-by-hop ones; unset: DEFAULT_FORWARD_HEADERS (content-type);
                             empty: none. "cookie" passes the event's `cookies`.
    MAX_BODY_BYTES           per-instance body limit before truncation (default 4096; 0 keeps no body); lowered
                             further when many instances answer (see "Payload limits")
    TLS_SERVER_NAME          optional: call instances over HTTPS and verify their certificate for this name (as a
                             private integration's tls_config.server_name_to_verify does)
    AWS_ENDPOINT_URL_SERVICEDISCOVERY (or AWS_ENDPOINT_URL)
                             optional: a Cloud Map endpoint other than AWS (a local AWS in tests); the client then
                             sends no `data-` host prefix (Config(inject_host_prefix=False))

Who is called. Whoever may call RegisterInstance chooses an instance's attributes, so they are parsed strictly
(cloudmap.instance_address: a dotted-quad AWS_INSTANCE_IPV4, an ASCII-digit AWS_INSTANCE_PORT 1-65535), and the
function never connects to loopback (inside Lambda that is its own runtime API), link-local (the metadata
service), 0.0.0.0/8, multicast or reserved addresses. Such an instance is in the aggregate, `"ok": false`, with an
error saying "not reachable: " and why; it is never called.

Request to each instance (`forward`): the event's method; `rawPath` (payload 2.0 includes a named stage in
rawPath; stripped unless STRIP_STAGE=false); `rawQueryString`; the allowed headers; the body (base64-decoded when
`isBase64Encoded`). Redirects are not followed and no proxy is used (stdlib http.client, the layer under
urllib.request: urllib.request would follow redirects, honour HTTP(S)_PROXY variables and add a Content-Type to
bodies without one). Headers whose name is not an HTTP token or whose value holds CR, LF or NUL are not passed
on. An event that cannot be forwarded as it is (a body that is not base64 although `isBase64Encoded`, a method
that is not an HTTP token, a path with a `.` or `..` segment, which an instance could resolve to a path outside
the route) answers 400 with a message, and nothing is called. API Gateway does not send such events; `run` still
never raises for anything an event, Cloud Map or an instance holds.

Answer (payload format 2.0: statusCode, headers content-type application/json, body):

    {"matched": 3, "succeeded": 2, "failed": 1,
     "instances": [{"id": "node-1", "address": "10.0.1.5:8080", "status": 200, "latency_ms": 12, "ok": true,
                    "body": "...", "truncated": false},
                   {"id": "node-2", "address": "10.0.1.6:8080", "status": 500, "latency_ms": 9, "ok": false,
                    "body": "...", "truncated": false, "error": "HTTP 500"},
                   {"id": "node-3", "address": "10.0.1.7:8080", "status": null, "latency_ms": 2000, "ok": false,
                    "error": "timed out after 2000 ms"}]}

Instances are sorted by id (ids are cut at 128 characters; RegisterInstance allows 64). A body that is not UTF-8
is base64 with `"base64": true`. A 2xx answer succeeded; anything else (another status, a timeout, a refused
connection, an instance registered without a callable address) failed. Status: 200 when every matched instance
succeeded, 207 when some failed, 502 when all failed or none matched (`"message"` then says which
DiscoverInstances query returned nothing), 502 as well when DiscoverInstances or GetNamespace fails.

Payload limits. Lambda: "For synchronous invocations, the maximum payload size is 6 MB" (Lambda API reference,
Invoke: docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html). API Gateway HTTP APIs: "Payload size 10 MB", not
raisable (developer guide, "Amazon API Gateway quotas", HTTP API quotas:
docs.aws.amazon.com/apigateway/latest/developerguide/limits.html#http-api-quotas). The lower one binds, so the
whole serialized function response is kept under RESPONSE_BUDGET (5,000,000 bytes, under 6 MB read either as
10^6 or 2^20 bytes): each instance's body is cut at min(MAX_BODY_BYTES, budget / (2 x instances)) bytes, and when
the escaped result is still too large the cut shrinks until it fits. A cut body has `"truncated": true`. Error
texts are cut at 500 characters, and at most 1,000 instances are answered for (DiscoverInstances' MaxResults).

Workers. The calls run on at most CONCURRENCY threads started for the request; every call ends by its own
deadline, so the threads are joined before the function answers and none outlives the invocation (nothing piles
up in a warm container).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import http.client
import itertools
import json
import os
import re
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Mapping, Optional
from urllib.parse import quote, unquote

try:  # in this repository: compiler.handlers.*; deployed: the modules sit at the zip's root
    from .cloudmap import DEPLOYED, Address, http_name, instance_address, shown
    from .settings import Settings
except ImportError:  # pragma: no cover (the Lambda runtime imports `fanout` as a top-level module)
    from cloudmap import DEPLOYED, Address, http_name, instance_address, shown  # type: ignore[no-redef]
    from settings import Settings  # type: ignore[no-redef]

LAMBDA_RESPONSE_LIMIT = 6 * 1000 * 1000  # "6 MB" (Invoke, synchronous); 10^6 read as the stricter unit
API_GATEWAY_PAYLOAD_LIMIT = 10 * 1000 * 1000  # HTTP API quota "Payload size 10 MB"
RESPONSE_BUDGET = 5_000_000  # the serialized function response, margin under both limits
ENTRY_OVERHEAD = 512  # bytes an instance's entry takes besides its body (id, address, error text), generously
MAX_ERROR_CHARS = 500
MAX_ID_CHARS = 128  # RegisterInstance: InstanceId is at most 64 characters; anything longer is cut
# RFC 9110 7.6.1: meaningful for one connection only; host and content-length are set for the next hop.
NOT_FORWARDED = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                           "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host",
                           "content-length"})
NOT_REACHABLE = "not reachable: "
NO_ADDRESS = NOT_REACHABLE + "registered without AWS_INSTANCE_IPV4/AWS_INSTANCE_PORT"
PATH_SAFE = "/%:@!$&'()*+,;=-._~"  # keep what is already percent-encoded; encode what is not (spaces, controls)
QUERY_SAFE = PATH_SAFE + "?"
MAX_RESULTS = 1000  # DiscoverInstances' maximum
JOIN_GRACE_S = 0.2  # after the deadline, how long a call may take to notice it (its socket times out at once)
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 5.6.2: a method or a header name
UNSAFE_VALUE = re.compile(r"[\r\n\x00]")  # would end or split a header line


# -- the request each instance receives ---------------------------------------------------------------------


@dataclass(frozen=True)
class Forward:
    method: str
    target: str  # path and query, percent-encoded
    headers: tuple[tuple[str, str], ...]
    body: Optional[bytes]

    @property
    def header_bytes(self) -> dict[str, bytes]:
        """The headers as sent: latin-1 where the value is, UTF-8 otherwise (never an encoding error)."""
        return {name: _header_value(value) for name, value in self.headers}


class BadEvent(ValueError):
    """An event that cannot be forwarded as it is (API Gateway does not send one like it): answered with 400."""


def forward(event: object, settings: Settings) -> Forward:
    """What every instance is sent, from a payload 2.0 event. BadEvent says why it cannot be."""
    if not isinstance(event, Mapping):
        raise BadEvent("the event is not a JSON object")
    context = _mapping(event.get("requestContext"))
    method = (_text(_mapping(context.get("http")).get("method")) or "GET").upper()
    if not TOKEN.fullmatch(method):
        raise BadEvent(f"requestContext.http.method {shown(method)} is not an HTTP method")
    path = _path(_text(event.get("rawPath")) or "/", _text(context.get("stage")), settings)
    query = _text(event.get("rawQueryString"))
    target = _quote(path, PATH_SAFE) + ("?" + _quote(query, QUERY_SAFE) if query else "")
    return Forward(method, target, _headers(event, settings.forward_headers), _body(event))


def _path(path: str, event_stage: str, settings: Settings) -> str:
    if not path.startswith("/"):
        path = "/" + path
    stage = settings.stage or event_stage or "$default"
    if settings.strip_stage and stage != "$default":
        prefix = "/" + stage
        if path == prefix:
            path = "/"
        elif path.startswith(prefix + "/"):
            path = path[len(prefix):]
    if any(unquote(segment) in (".", "..") for segment in path.split("/")):
        raise BadEvent(f"the path {shown(path)} has a '.' or '..' segment")
    return path


def _headers(event: Mapping, allowed: Optional[frozenset[str]]) -> tuple[tuple[str, str], ...]:
    """The allowed request headers, lower-case, sorted; the event's cookies as one `cookie` header."""
    headers = []
    for name, value in _mapping(event.get("headers")).items():
        if not isinstance(name, str) or not isinstance(value, str) or not TOKEN.fullmatch(name):
            continue
        lower = name.lower()
        if lower not in NOT_FORWARDED and (allowed is None or lower in allowed) and not UNSAFE_VALUE.search(value):
            headers.append((lower, value))
    headers.sort()
    cookies = event.get("cookies")
    jar = [c for c in cookies if isinstance(c, str) and not UNSAFE_VALUE.search(c)] \
        if isinstance(cookies, list) else []
    if jar and (allowed is None or "cookie" in allowed):
        headers = [(k, v) for k, v in headers if k != "cookie"] + [("cookie", "; ".join(jar))]
    return tuple(headers)


def _body(event: Mapping) -> Optional[bytes]:
    body = event.get("body")
    if body is None or body == "":
        return None
    if not isinstance(body, str):
        raise BadEvent("the event's body is not a string")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body)
        except (binascii.Error, ValueError) as exc:
            raise BadEvent(f"the event's body is not valid base64 ({exc})") from None
    return body.encode("utf-8", "replace")


def _mapping(value: object) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _quote(text: str, safe: str) -> str:
    return quote(text, safe=safe, errors="replace")  # a lone surrogate becomes "?", then %3F: never an error


def _header_value(value: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace")


# -- calling the instances ----------------------------------------------------------------------------------


def address_of(instance: object, allowed: frozenset[str] = DEPLOYED) -> tuple[Optional[Address], str]:
    """(address, "") or (None, why it is not called), from a DiscoverInstances entry (cloudmap.instance_address)."""
    return instance_address(_mapping(instance).get("Attributes"), allowed)


@dataclass
class Reply:
    """One instance's outcome before encoding: the body is kept raw, cut at the read limit."""

    id: str
    address: str
    status: Optional[int] = None
    latency_ms: int = 0
    data: Optional[bytes] = None
    more: bool = False  # the body went on past what was read
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and not self.error


class _Bounded:
    """Mixed into a socket class: before each read or write, the socket's timeout becomes what is left until the
    call's deadline. A timeout per operation alone lets a peer that sends a byte a second keep a call (and its
    thread) for as long as it likes; this bounds the whole call."""

    deadline: float = 0.0
    clock: Callable[[], float] = staticmethod(time.monotonic)

    def _arm(self) -> None:
        left = self.deadline - self.clock()
        if left <= 0:
            raise socket.timeout("timed out")
        self.settimeout(left)  # type: ignore[attr-defined]

    def recv(self, *args):
        self._arm()
        return super().recv(*args)  # type: ignore[misc]

    def recv_into(self, *args):
        self._arm()
        return super().recv_into(*args)  # type: ignore[misc]

    def send(self, *args):
        self._arm()
        return super().send(*args)  # type: ignore[misc]

    def sendall(self, *args):
        self._arm()
        return super().sendall(*args)  # type: ignore[misc]


class _BoundedSocket(_Bounded, socket.socket):
    pass


class _BoundedTLSSocket(_Bounded, ssl.SSLSocket):
    pass  # the handshake runs in C under one deadline (the socket's timeout when it starts)


Connect = Callable[[tuple[str, int], float], socket.socket]  # socket.create_connection's shape


def tls_context() -> ssl.SSLContext:
    """The default context (system CAs, hostname checked), its sockets bounded like the plain ones. Made once
    per fan-out and shared by its calls (wrap_socket is thread-safe): loading the CAs is the costly part."""
    context = ssl.create_default_context()
    context.sslsocket_class = _BoundedTLSSocket
    return context


class _Connection(http.client.HTTPConnection):
    """One call's connection: opened with `connect` (socket.create_connection, or a test's recorder), every
    socket operation bounded by the call's deadline; HTTPS verifying `server_name` for an IP address (a private
    integration's tls_config.server_name_to_verify) when one is given."""

    def __init__(self, address: Address, deadline: float, clock: Callable[[], float], connect: Connect,
                 server_name: str = "", tls: Optional[ssl.SSLContext] = None) -> None:
        super().__init__(address.ipv4, address.port, timeout=max(0.001, deadline - clock()))
        self._deadline, self._clock, self._open = deadline, clock, connect
        self._server_name, self._tls = server_name, tls

    def _left(self) -> float:
        left = self._deadline - self._clock()
        if left <= 0:
            raise socket.timeout("timed out")
        return left

    def connect(self) -> None:
        raw = self._open((self.host, self.port), self._left())
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # not TCP (a test's socket pair)
            pass
        if self._server_name:
            raw.settimeout(self._left())
            sock = (self._tls or tls_context()).wrap_socket(raw, server_hostname=self._server_name)
        else:
            sock = _BoundedSocket(fileno=raw.detach())
        sock.deadline, sock.clock = self._deadline, self._clock
        self.sock = sock


def call(instance_id: str, address: Address, request: Forward, settings: Settings, read_limit: int,
         deadline: float, clock: Callable[[], float] = time.monotonic,
         connect: Connect = socket.create_connection, tls: Optional[ssl.SSLContext] = None) -> Reply:
    """One instance: connect, send, read up to `read_limit` bytes of the body (one more to know it was cut), all
    within PER_INSTANCE_TIMEOUT_MS of starting and never past the fan-out's `deadline`."""
    reply = Reply(instance_id, str(address))
    started = clock()
    own = started + settings.per_instance_timeout_ms / 1000
    until = min(deadline, own)
    connection = _Connection(address, until, clock, connect, settings.tls_server_name, tls)
    try:
        connection.request(request.method, request.target, body=request.body, headers=request.header_bytes)
        response = connection.getresponse()
        reply.status = response.status
        data = response.read(read_limit + 1) if request.method != "HEAD" else b""
        reply.data, reply.more = data[:read_limit], len(data) > read_limit
        if not 200 <= response.status < 300:
            reply.error = f"HTTP {response.status}"
    except (socket.timeout, TimeoutError):
        reply.status = None
        reply.error = (f"timed out after {round((clock() - started) * 1000)} ms" if own <= deadline else
                       f"timed out: no answer within the fan-out's total timeout of {settings.total_timeout_ms} ms")
    except ConnectionRefusedError:
        reply.error = "connection refused"
    except ssl.SSLError as exc:
        reply.error = f"TLS: {exc.reason or exc}"
    except Exception as exc:  # reset, unreachable, a malformed answer or header value  # noqa: BLE001
        reply.error = f"{type(exc).__name__}: {exc}"
    finally:
        connection.close()
        reply.latency_ms = round((clock() - started) * 1000)
    return reply


Target = tuple[int, str, Address]  # (position in the answer, instance id, address)


def call_all(targets: list[Target], one: Callable[[str, Address], Reply], concurrency: int, deadline: float,
             clock: Callable[[], float]) -> tuple[dict[int, Reply], dict[int, float]]:
    """Run `one` for each target on at most `concurrency` threads until the deadline: (replies by position,
    when each started call began). No call starts after the deadline and each ends by it, so the threads are
    joined here: a warm container keeps none of them."""
    queue = deque(targets)
    replies: dict[int, Reply] = {}
    started: dict[int, float] = {}

    def worker() -> None:
        while clock() < deadline:
            try:
                index, instance_id, address = queue.popleft()
            except IndexError:
                return
            started[index] = clock()
            try:
                replies[index] = one(instance_id, address)
            except Exception as exc:  # call() catches what a peer does; this is the last guard  # noqa: BLE001
                replies[index] = Reply(instance_id, str(address), error=f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=worker, name="fanout", daemon=True)
               for _ in range(min(concurrency, len(targets)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - clock()) + JOIN_GRACE_S)
    return dict(replies), dict(started)


# -- the aggregate ------------------------------------------------------------------------------------------


def per_instance_limit(count: int, max_body_bytes: int) -> int:
    """The first cut for each body: the budget shared out, assuming escaping may double a body.

    >>> per_instance_limit(3, 262_144), per_instance_limit(1000, 262_144)
    (262144, 2241)
    """
    share = (RESPONSE_BUDGET - 4096 - count * ENTRY_OVERHEAD) // (2 * max(count, 1))
    return max(0, min(max_body_bytes, share))


def _utf8(data: bytes, complete: bool) -> Optional[str]:
    """The text, or None when the bytes are not UTF-8. A cut body may end inside a character: dropped."""
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(data, final=complete)
    except UnicodeDecodeError:
        return None


def entry(reply: Reply, limit: int, with_texts: bool = True) -> dict:
    out: dict = {"id": reply.id, "address": reply.address, "status": reply.status, "latency_ms": reply.latency_ms,
                 "ok": reply.ok}
    if reply.data is not None and with_texts:
        data = reply.data[:limit]
        truncated = reply.more or len(reply.data) > limit
        text = _utf8(data, complete=not truncated)
        if text is None:
            out.update(body=base64.b64encode(data).decode("ascii"), base64=True)
        else:
            out["body"] = text
        out["truncated"] = truncated
    if reply.error:
        out["error"] = reply.error[:MAX_ERROR_CHARS] if with_texts else reply.error.split(":", 1)[0][:40]
    return out


def respond(status: int, payload: dict) -> dict:
    """A payload 2.0 response."""
    return {"statusCode": status, "headers": {"content-type": "application/json"},
            "body": json.dumps(payload, separators=(",", ":"), ensure_ascii=False), "isBase64Encoded": False}


def _size(response: dict) -> int:
    return len(json.dumps(response))  # as the runtime serializes it (ASCII escapes: the larger form)


def aggregate(replies: list[Reply], limit: int) -> dict:
    """The response for these replies, bodies cut at `limit`, shrunk until the serialized response fits. Should
    even bodiless entries not fit (they cannot with ids and errors cut as they are), the entries lose their
    error texts too, so the answer is always under RESPONSE_BUDGET."""
    succeeded = sum(1 for r in replies if r.ok)
    status = 502 if not succeeded else 200 if succeeded == len(replies) else 207
    counts = {"matched": len(replies), "succeeded": succeeded, "failed": len(replies) - succeeded}
    while True:
        response = respond(status, {**counts, "instances": [entry(r, limit) for r in replies]})
        size = _size(response)
        if size <= RESPONSE_BUDGET:
            return response
        if limit == 0:
            break
        limit = int(limit * RESPONSE_BUDGET / size * 0.9)
    return respond(status, {**counts, "message": "the instances' answers do not fit in Lambda's response limit; "
                                                 "bodies and error texts left out",
                            "instances": [entry(r, 0, with_texts=False) for r in replies]})


def no_match(settings: Settings, reason: str = "") -> dict:
    where = (f"DiscoverInstances(NamespaceName={settings.namespace!r}, ServiceName={settings.service!r}, "
             f"QueryParameters={dict(settings.filter)}, HealthStatus={settings.health_status})")
    message = reason or f"no instance matched: {where} returned none"
    return respond(502, {"matched": 0, "succeeded": 0, "failed": 0, "message": message, "instances": []})


def refused(message: str) -> dict:
    """400: the event cannot be forwarded (BadEvent); no instance was called."""
    return respond(400, {"matched": 0, "succeeded": 0, "failed": 0, "message": message, "instances": []})


def _failure(what: str, exc: BaseException) -> str:
    try:
        text = f"{what} failed: {type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
    except Exception:  # an exception whose str() fails  # noqa: BLE001
        text = f"{what} failed: {type(exc).__name__}"
    if "connect" in type(exc).__name__.lower():
        text += (" (a Lambda function in a VPC reaches Cloud Map only through a NAT gateway or an interface VPC "
                 "endpoint)")
    return text


def discovered(discover: Callable[[], Iterable[object]]) -> tuple[Optional[list[tuple[str, object]]], str]:
    """([(instance id, attributes)] sorted by id, "") or (None, why DiscoverInstances failed). Entries of any
    shape are kept (a malformed one has the id "" and no attributes, and is reported as not reachable)."""
    try:
        answer = list(itertools.islice(discover() or (), MAX_RESULTS))
    except Exception as exc:  # throttled, no route to Cloud Map, namespace or service not found  # noqa: BLE001
        return None, _failure("DiscoverInstances", exc)
    instances = []
    for item in answer:
        item = _mapping(item)
        instance_id = _text(item.get("InstanceId"))[:MAX_ID_CHARS]
        instances.append((instance_id, item.get("Attributes")))
    return sorted(instances, key=lambda pair: pair[0]), ""


def _unanswered(instance_id: str, address: Address, begun: Optional[float], now: float, settings: Settings) -> Reply:
    error = (f"timed out: no answer within the fan-out's total timeout of {settings.total_timeout_ms} ms"
             if begun is not None else
             f"timed out: not called, the fan-out's total timeout of {settings.total_timeout_ms} ms ran "
             f"out first (concurrency {settings.concurrency})")
    return Reply(instance_id, str(address), latency_ms=round((now - (begun or now)) * 1000), error=error)


def run(event: object, discover: Callable[[], Iterable[object]], settings: Settings,
        clock: Callable[[], float] = time.monotonic, allowed: frozenset[str] = DEPLOYED,
        connect: Connect = socket.create_connection) -> dict:
    """The fan-out for one request. `discover` returns the matching instances in DiscoverInstances' shape
    ({"InstanceId", "Attributes", "HealthStatus"}); the Lambda handler makes it one DiscoverInstances call,
    `serve` its own discovery. `allowed`: the special-purpose address classes that may be called (DEPLOYED:
    none; serve passes cloudmap.LOCAL, loopback). `connect` opens each connection (socket.create_connection;
    tests record instead). Prints nothing; never raises for what the event, Cloud Map or an instance holds."""
    deadline = clock() + settings.total_timeout_ms / 1000
    try:
        request = forward(event, settings)
    except BadEvent as exc:
        return refused(f"the request cannot be forwarded: {exc}")
    instances, failure = discovered(discover)
    if instances is None:
        return no_match(settings, failure)
    if not instances:
        return no_match(settings)
    limit = per_instance_limit(len(instances), settings.max_body_bytes)
    replies: dict[int, Reply] = {}
    targets: list[Target] = []
    for index, (instance_id, attributes) in enumerate(instances):
        address, why = instance_address(attributes, allowed)
        if address is None:
            replies[index] = Reply(instance_id, "", error=NOT_REACHABLE + why)
        else:
            targets.append((index, instance_id, address))
    tls = tls_context() if settings.tls_server_name and targets else None
    done, started = call_all(
        targets, lambda instance_id, address: call(instance_id, address, request, settings, limit, deadline, clock,
                                                   connect, tls), settings.concurrency, deadline, clock)
    replies.update(done)
    now = clock()
    for index, instance_id, address in targets:
        if index not in replies:
            replies[index] = _unanswered(instance_id, address, started.get(index), now, settings)
    return aggregate([replies[i] for i in range(len(instances))], limit)


# -- the Lambda function ------------------------------------------------------------------------------------

_clients: dict = {}
# The special-purpose address classes the Lambda handler calls: none (cloudmap.DEPLOYED). The tests' backends can
# only listen on loopback, so the tests of the handler widen it to cloudmap.LOCAL, and one test proves this value.
HANDLER_CALLS: frozenset[str] = DEPLOYED
_http_names: dict[str, str] = {}  # namespace id -> its HttpName: read once per container, kept while it is warm


def _client():
    """One Cloud Map client per container (reused across invocations)."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_SERVICEDISCOVERY") or os.environ.get("AWS_ENDPOINT_URL") or None
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
    key = (endpoint, region)
    if key not in _clients:
        import boto3
        from botocore.config import Config
        config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})
        kwargs = {}
        if endpoint:  # DiscoverInstances is served from `data-servicediscovery...`; a local endpoint has no prefix
            config = config.merge(Config(inject_host_prefix=False))
            kwargs["endpoint_url"] = endpoint
        _clients[key] = boto3.client("servicediscovery", region_name=region, config=config, **kwargs)
    return _clients[key]


def with_http_name(client, settings: Settings) -> Settings:
    """The settings with `namespace` = the HttpName of CLOUD_MAP_NAMESPACE_ID's namespace (GetNamespace, once per
    container); unchanged without an id. Raises what GetNamespace raises, or LookupError for an answer without a
    name; a failure is not kept, so the next request asks again."""
    if not settings.namespace_id:
        return settings
    name = _http_names.get(settings.namespace_id)
    if name is None:
        answer = client.get_namespace(Id=settings.namespace_id)
        name, read = http_name(_mapping(answer).get("Namespace"))
        if not name:
            raise LookupError(read)
        if read != "HttpName":
            print(json.dumps({"fanout": "namespace", "id": settings.namespace_id, "name": name, "read": read}))
        _http_names[settings.namespace_id] = name
    return replace(settings, namespace=name)


def discover_instances(client, settings: Settings) -> list[dict]:
    """The one DiscoverInstances call: the route's filter, HEALTHY (or ALL with INCLUDE_UNHEALTHY)."""
    answer = client.discover_instances(NamespaceName=settings.namespace, ServiceName=settings.service,
                                       QueryParameters=dict(settings.filter), HealthStatus=settings.health_status,
                                       MaxResults=MAX_RESULTS)
    return answer.get("Instances", [])


def handler(event, context):
    """The Lambda entry point (`fanout.handler`)."""
    try:
        settings = Settings.from_environ(os.environ)
    except ValueError as exc:
        print(json.dumps({"fanout": "misconfigured", "error": str(exc)}))
        return respond(500, {"message": f"fan-out function misconfigured: {exc}"})
    try:
        settings = with_http_name(_client(), settings) if settings.namespace_id else settings
    except Exception as exc:  # access denied, throttled, no route to Cloud Map, namespace gone  # noqa: BLE001
        response = no_match(settings, _failure(f"GetNamespace(Id={settings.namespace_id!r})", exc))
    else:
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if remaining is not None:  # never run past the function's own timeout
            settings = replace(settings, total_timeout_ms=max(1, min(settings.total_timeout_ms, remaining() - 300)))
        response = run(event, lambda: discover_instances(_client(), settings), settings, allowed=HANDLER_CALLS)
    summary = json.loads(response["body"])
    print(json.dumps({"fanout": {"status": response["statusCode"], "matched": summary["matched"],
                                 "succeeded": summary["succeeded"], "failed": summary["failed"],
                                 "failures": {e["id"]: e["error"] for e in summary["instances"] if "error" in e},
                                 "message": summary.get("message")}}))
    return response
