"""Fan-out: send one API request to EVERY Cloud Map instance that matches a route's filter, answer with all replies.

A private integration picks one matching instance; a fan-out route instead invokes this Lambda function through an
`AWS_PROXY` integration (payload format 2.0). Per request it makes ONE `DiscoverInstances` call with the route's
filter, calls every returned instance at `AWS_INSTANCE_IPV4:AWS_INSTANCE_PORT` concurrently, and answers with a
JSON aggregate. `main.py serve` runs the same `run()` for fan-out routes (compiler.live.gateway), so what is tested
locally is this code.

Runtime: python3.12 (works on 3.11+). Standard library and boto3 only: the deployment zip holds this module and
`settings.py`, the description of its environment that the compiler reads too
(compiler.terraform.bundle). boto3 is imported by `handler` only, so `run` can be imported without it.

Environment (set by the stack; `settings.environment(Settings(...))` writes it, `Settings.from_environ` reads it):

    CLOUD_MAP_NAMESPACE      the namespace's HTTP name, what DiscoverInstances takes as NamespaceName (required)
    CLOUD_MAP_SERVICE        the Cloud Map service name (required)
    FILTER                   JSON object of attribute pairs every instance must match (QueryParameters); default {}
    INCLUDE_UNHEALTHY        "true": HealthStatus ALL; otherwise HEALTHY (default "false"). Cloud Map ignores the
                             health filter for a service without a health check and returns every instance.
    PER_INSTANCE_TIMEOUT_MS  socket timeout for each instance's connect and each read (default 2000)
    CONCURRENCY              instances called at the same time, at most (default 8)
    TOTAL_TIMEOUT_MS         the whole fan-out's budget: the route's integration timeout minus a reserve
                             (compiler.language.model.fan_out_total_ms; default 29500). Instances without an
                             answer by then are reported as timed out and the function answers anyway, before API Gateway gives
                             up (504). Never more than the invocation's remaining time less 300 ms.
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

Request to each instance (`forward`): the event's method; `rawPath` (payload 2.0 includes a named stage in
rawPath; stripped unless STRIP_STAGE=false); `rawQueryString`; the allowed headers; the body (base64-decoded when
`isBase64Encoded`). Redirects are not followed and no proxy is used (stdlib http.client, the layer under
urllib.request: urllib.request would follow redirects, honour HTTP(S)_PROXY variables and add a Content-Type to
bodies without one).

Answer (payload format 2.0: statusCode, headers content-type application/json, body):

    {"matched": 3, "succeeded": 2, "failed": 1,
     "instances": [{"id": "node-1", "address": "10.0.1.5:8080", "status": 200, "latency_ms": 12, "ok": true,
                    "body": "...", "truncated": false},
                   {"id": "node-2", "address": "10.0.1.6:8080", "status": 500, "latency_ms": 9, "ok": false,
                    "body": "...", "truncated": false, "error": "HTTP 500"},
                   {"id": "node-3", "address": "10.0.1.7:8080", "status": null, "latency_ms": 2000, "ok": false,
                    "error": "timed out after 2000 ms"}]}

Instances are sorted by id. A body that is not UTF-8 is base64 with `"base64": true`. A 2xx answer succeeded;
anything else (another status, a timeout, a refused connection, an instance registered without an address) failed.
Status: 200 when every matched instance succeeded, 207 when some failed, 502 when all failed or none matched
(`"message"` then says which DiscoverInstances query returned nothing), 502 as well when DiscoverInstances fails.

Payload limits. Lambda: "For synchronous invocations, the maximum payload size is 6 MB" (Lambda API reference,
Invoke: docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html). API Gateway HTTP APIs: "Payload size 10 MB", not
raisable (developer guide, "Amazon API Gateway quotas", HTTP API quotas:
docs.aws.amazon.com/apigateway/latest/developerguide/limits.html#http-api-quotas). The lower one binds, so the
whole serialized function response is kept under RESPONSE_BUDGET (5,000,000 bytes, under 6 MB read either as
10^6 or 2^20 bytes): each instance's body is cut at min(MAX_BODY_BYTES, budget / (2 x instances)) bytes, and when
the escaped result is still too large the cut shrinks until it fits. A cut body has `"truncated": true`.
"""

from __future__ import annotations

import base64
import codecs
import http.client
import json
import os
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Mapping, Optional
from urllib.parse import quote

try:  # in this repository: compiler.handlers.settings; deployed: both modules sit at the zip's root
    from .settings import Settings
except ImportError:  # pragma: no cover (the Lambda runtime imports `fanout` as a top-level module)
    from settings import Settings  # type: ignore[no-redef]

IPV4, PORT = "AWS_INSTANCE_IPV4", "AWS_INSTANCE_PORT"
LAMBDA_RESPONSE_LIMIT = 6 * 1000 * 1000  # "6 MB" (Invoke, synchronous); 10^6 read as the stricter unit
API_GATEWAY_PAYLOAD_LIMIT = 10 * 1000 * 1000  # HTTP API quota "Payload size 10 MB"
RESPONSE_BUDGET = 5_000_000  # the serialized function response, margin under both limits
ENTRY_OVERHEAD = 512  # bytes an instance's entry takes besides its body (id, address, error text), generously
MAX_ERROR_CHARS = 500
# RFC 9110 7.6.1: meaningful for one connection only; host and content-length are set for the next hop.
NOT_FORWARDED = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                           "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host",
                           "content-length"})
NO_ADDRESS = "not reachable: registered without AWS_INSTANCE_IPV4/AWS_INSTANCE_PORT"
PATH_SAFE = "/%:@!$&'()*+,;=-._~"  # keep what is already percent-encoded; encode what is not (spaces, controls)
QUERY_SAFE = PATH_SAFE + "?"
MAX_RESULTS = 1000  # DiscoverInstances' maximum


# -- the request each instance receives ---------------------------------------------------------------------


@dataclass(frozen=True)
class Forward:
    method: str
    target: str  # path and query, percent-encoded
    headers: tuple[tuple[str, str], ...]
    body: Optional[bytes]


def forward(event: Mapping, settings: Settings) -> Forward:
    """What every instance is sent, from a payload 2.0 event."""
    context = event.get("requestContext") or {}
    method = ((context.get("http") or {}).get("method") or "GET").upper()
    path = event.get("rawPath") or "/"
    stage = settings.stage or context.get("stage") or "$default"
    if settings.strip_stage and stage != "$default":
        prefix = "/" + stage
        if path == prefix:
            path = "/"
        elif path.startswith(prefix + "/"):
            path = path[len(prefix):]
    query = event.get("rawQueryString") or ""
    target = quote(path, safe=PATH_SAFE) + ("?" + quote(query, safe=QUERY_SAFE) if query else "")
    allowed = settings.forward_headers
    headers = [(name.lower(), str(value)) for name, value in sorted((event.get("headers") or {}).items())
               if name.lower() not in NOT_FORWARDED and (allowed is None or name.lower() in allowed)]
    cookies = event.get("cookies")
    if cookies and (allowed is None or "cookie" in allowed):
        headers = [(k, v) for k, v in headers if k != "cookie"] + [("cookie", "; ".join(cookies))]
    body = event.get("body")
    if body is None or body == "":
        data = None
    elif event.get("isBase64Encoded"):
        data = base64.b64decode(body)
    else:
        data = body.encode("utf-8")
    return Forward(method, target, tuple(headers), data)


# -- calling the instances ----------------------------------------------------------------------------------


def address_of(instance: Mapping) -> Optional[tuple[str, int]]:
    """(ipv4, port) from a DiscoverInstances entry, or None when either is missing or malformed."""
    attributes = instance.get("Attributes") or {}
    ip, port = attributes.get(IPV4), attributes.get(PORT, "")
    if not ip or not str(port).isdigit() or not 0 < int(port) < 65536:
        return None
    return ip, int(port)


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


class _TLSConnection(http.client.HTTPSConnection):
    """HTTPS to an IP address, verifying the certificate for another name (server_name_to_verify)."""

    def __init__(self, host: str, port: int, server_name: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._server_name = server_name

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._server_name)


def call(instance_id: str, address: tuple[str, int], request: Forward, settings: Settings, read_limit: int,
         deadline: float, clock: Callable[[], float] = time.monotonic) -> Reply:
    """One instance: connect, send, read up to `read_limit` bytes of the body (one more to know it was cut)."""
    host, port = address
    reply = Reply(instance_id, f"{host}:{port}")
    started = clock()
    per_instance = settings.per_instance_timeout_ms / 1000

    def timeout() -> float:  # each socket operation: the per-instance timeout, never past the total deadline
        return max(0.001, min(per_instance, deadline - clock()))

    connection: http.client.HTTPConnection
    if settings.tls_server_name:
        connection = _TLSConnection(host, port, settings.tls_server_name, timeout())
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout())
    try:
        connection.request(request.method, request.target, body=request.body, headers=dict(request.headers))
        connection.sock.settimeout(timeout())
        response = connection.getresponse()
        reply.status = response.status
        if connection.sock is not None:
            connection.sock.settimeout(timeout())
        data = response.read(read_limit + 1) if request.method != "HEAD" else b""
        reply.data, reply.more = data[:read_limit], len(data) > read_limit
        if not 200 <= response.status < 300:
            reply.error = f"HTTP {response.status}"
    except (socket.timeout, TimeoutError):
        reply.status = None
        reply.error = f"timed out after {round((clock() - started) * 1000)} ms"
    except ConnectionRefusedError:
        reply.error = "connection refused"
    except ssl.SSLError as exc:
        reply.error = f"TLS: {exc.reason or exc}"
    except Exception as exc:  # reset, unreachable, a malformed answer or header value  # noqa: BLE001
        reply.error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
    finally:
        connection.close()
        reply.latency_ms = round((clock() - started) * 1000)
    return reply


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


def entry(reply: Reply, limit: int) -> dict:
    out: dict = {"id": reply.id, "address": reply.address, "status": reply.status, "latency_ms": reply.latency_ms,
                 "ok": reply.ok}
    if reply.data is not None:
        data = reply.data[:limit]
        truncated = reply.more or len(reply.data) > limit
        text = _utf8(data, complete=not truncated)
        if text is None:
            out.update(body=base64.b64encode(data).decode("ascii"), base64=True)
        else:
            out["body"] = text
        out["truncated"] = truncated
    if reply.error:
        out["error"] = reply.error
    return out


def respond(status: int, payload: dict) -> dict:
    """A payload 2.0 response."""
    return {"statusCode": status, "headers": {"content-type": "application/json"},
            "body": json.dumps(payload, separators=(",", ":"), ensure_ascii=False), "isBase64Encoded": False}


def aggregate(replies: list[Reply], limit: int) -> dict:
    """The response for these replies, bodies cut at `limit`, shrunk until the serialized response fits."""
    while True:
        succeeded = sum(1 for r in replies if r.ok)
        status = 502 if not succeeded else 200 if succeeded == len(replies) else 207
        response = respond(status, {"matched": len(replies), "succeeded": succeeded,
                                    "failed": len(replies) - succeeded,
                                    "instances": [entry(r, limit) for r in replies]})
        size = len(json.dumps(response))  # as the runtime serializes it (ASCII escapes: the larger form)
        if size <= RESPONSE_BUDGET or limit == 0:
            return response
        limit = int(limit * RESPONSE_BUDGET / size * 0.9)


def no_match(settings: Settings, reason: str = "") -> dict:
    where = (f"DiscoverInstances(NamespaceName={settings.namespace!r}, ServiceName={settings.service!r}, "
             f"QueryParameters={dict(settings.filter)}, HealthStatus={settings.health_status})")
    message = reason or f"no instance matched: {where} returned none"
    return respond(502, {"matched": 0, "succeeded": 0, "failed": 0, "message": message, "instances": []})


def run(event: Mapping, discover: Callable[[], Iterable[Mapping]], settings: Settings,
        clock: Callable[[], float] = time.monotonic) -> dict:
    """The fan-out for one request. `discover` returns the matching instances in DiscoverInstances' shape
    ({"InstanceId", "Attributes", "HealthStatus"}); the Lambda handler makes it one DiscoverInstances call,
    `serve` its own discovery. Prints nothing; never raises for what an instance or Cloud Map does."""
    deadline = clock() + settings.total_timeout_ms / 1000
    try:
        instances = sorted(discover(), key=lambda i: i.get("InstanceId", ""))
    except Exception as exc:  # throttled, no route to Cloud Map, namespace or service not found  # noqa: BLE001
        hint = (" (a Lambda function in a VPC reaches Cloud Map only through a NAT gateway or an interface VPC "
                "endpoint)") if "connect" in type(exc).__name__.lower() else ""
        return no_match(settings, f"DiscoverInstances failed: {type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS] + hint)
    if not instances:
        return no_match(settings)
    request = forward(event, settings)
    limit = per_instance_limit(len(instances), settings.max_body_bytes)
    replies: list[Optional[Reply]] = [None] * len(instances)
    reachable = []
    for i, instance in enumerate(instances):
        address = address_of(instance)
        if address is None:
            replies[i] = Reply(instance.get("InstanceId", ""), "", error=NO_ADDRESS)
        else:
            reachable.append((i, instance.get("InstanceId", ""), address))
    if reachable:
        started: dict[int, float] = {}

        def one(i: int, instance_id: str, address: tuple[str, int]) -> Reply:
            started[i] = clock()
            return call(instance_id, address, request, settings, limit, deadline, clock)

        pool = ThreadPoolExecutor(max_workers=min(settings.concurrency, len(reachable)),
                                  thread_name_prefix="fanout")
        futures = {pool.submit(one, *item): item for item in reachable}
        done, pending = wait(futures, timeout=max(0.0, deadline - clock()))
        pool.shutdown(wait=False, cancel_futures=True)  # answer now; calls still running end at their timeout
        for future in done:
            replies[futures[future][0]] = future.result()
        now = clock()
        for future in pending:
            i, instance_id, (host, port) = futures[future]
            begun = started.get(i)
            error = (f"timed out: no answer within the fan-out's total timeout of {settings.total_timeout_ms} ms"
                     if begun is not None else
                     f"timed out: not called, the fan-out's total timeout of {settings.total_timeout_ms} ms ran "
                     f"out first (concurrency {settings.concurrency})")
            replies[i] = Reply(instance_id, f"{host}:{port}", latency_ms=round((now - (begun or now)) * 1000),
                               error=error)
    return aggregate([r for r in replies if r is not None], limit)


# -- the Lambda function ------------------------------------------------------------------------------------

_clients: dict = {}


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
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is not None:  # never run past the function's own timeout
        settings = replace(settings, total_timeout_ms=max(1, min(settings.total_timeout_ms, remaining() - 300)))
    response = run(event, lambda: discover_instances(_client(), settings), settings)
    summary = json.loads(response["body"])
    print(json.dumps({"fanout": {"status": response["statusCode"], "matched": summary["matched"],
                                 "succeeded": summary["succeeded"], "failed": summary["failed"],
                                 "failures": {e["id"]: e["error"] for e in summary["instances"] if "error" in e},
                                 "message": summary.get("message")}}))
    return response
