"""`main.py serve`: a local HTTP gateway on 127.0.0.1 that routes like the deployed HTTP API for a routes.yaml.

Per request, in API Gateway's order: stage, then route (`routing`, after the developer guide's "Routing API
requests"), then authorization (presence only), then the route's integration: the service's instances (static,
or Cloud Map's DiscoverInstances), kept when every filter pair matches, then when healthy, then one picked
round-robin per integration (each route has its own). The request is proxied with method, path, query string,
headers and body; hop-by-hop headers are dropped both ways. A fan-out route instead runs the fan-out function's
own code (`handlers.fanout.run`, in a thread) on the payload 2.0 event API Gateway would give it, with the
settings the stack gives it (`language.functions.fanout_settings`), over the same instances. Errors answer with API Gateway's
bodies:

    404 {"message":"Not Found"}              no stage or no route matches
    401 {"message":"Unauthorized"}           the route needs authorization and the identity source is missing
    500 {"message":"Internal Server Error"}  no instance matched (the field observation), or Cloud Map failed
    503 {"message":"Service Unavailable"}    the instance refused the connection
    504 {"message":"Gateway Timeout"}        no answer within the route's timeout_ms (default 30,000)

(HTTP APIs answer their own errors as {"message": <the status's reason phrase>}; 404, 401 and 500 are quoted in
the developer guide and the field report, 503 and 504 follow the same form.)

One access log line per request on stdout, with the stage's access log keys (`deployed.LOG_FORMAT`), including
`integrationErrorMessage` when no instance matched. A request that matches no stage gets no line (AWS writes no
log for it either). Diagnostics go to stderr. routes.yaml is re-read when it changes; an invalid edit keeps the
previous configuration and prints the diagnostics.

Library: aiohttp (3.14). `serve` is a reverse proxy, so it needs an HTTP server and an HTTP client in the same
event loop: aiohttp is both, mature, and fully asynchronous, so one process holds hundreds of concurrent requests,
slow backends and timeouts without a thread per request; its client pools keep-alive connections per backend
(what keeps the added latency small) and takes a per-request total timeout (the route's `timeout_ms`); its server
hands over the raw path and headers unchanged (what a faithful proxy forwards). `http.server` has no client, one
thread per connection and no timeouts of its own; the alternatives pair two libraries (uvicorn/starlette + httpx)
for what aiohttp does alone. boto3, for `--cloud-map`, is synchronous: its calls run in the loop's thread pool.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from typing import Optional, TextIO
from urllib.parse import parse_qsl

from ..core.aws import aws_client
from ..core.deployed import render
from ..core.diagnostics import has_errors, render_text
from ..handlers import fanout
from ..handlers import settings as handler_settings
from ..language import compile_file
from ..language.functions import fanout_settings
from ..language.model import Model, Route
from .discovery import (
    AttributeLag,
    CloudMapService,
    Found,
    discover,
    health_parameter,
    resolve_service,
    static_instances,
)
from .routing import Router, backend_path, stage_path

HOST = "127.0.0.1"  # loopback only: this is a test tool, never a public listener
MESSAGES = {401: "Unauthorized", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable",
            504: "Gateway Timeout"}
# RFC 9110 section 7.6.1 (and RFC 7230 6.1): meaningful for one connection only, never forwarded by a proxy.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
                        "te", "trailer", "transfer-encoding", "upgrade"})
NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length"}  # the client library sets these for the next hop
DEFAULT_TIMEOUT_MS = 30_000  # API Gateway's default (and maximum) integration timeout for HTTP APIs
MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload quota (10 MB)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def needs_authorization(route: Route) -> bool:
    """True unless the route's authorization is none (model.Authorization, or the plain string of older models)."""
    authorization = route.authorization
    return getattr(authorization, "kind", authorization) != "none"


def identity_source(model: Model, route: Route) -> tuple[str, str]:
    """Where the route's credentials travel: ("header", name) or ("querystring", name). IAM signs the
    Authorization header; an authorizer reads its identity source (by default `$request.header.Authorization`)."""
    authorization = route.authorization
    key = getattr(authorization, "authorizer", None) or (authorization if isinstance(authorization, str) else None)
    authorizer = next((a for a in model.authorizers if a.key == key), None)
    source = authorizer.identity_source if authorizer else ""
    for kind in ("header", "querystring"):
        prefix = f"$request.{kind}."
        if source.startswith(prefix) and len(source) > len(prefix):
            return kind, source[len(prefix):]
    return "header", "Authorization"


def request_time(now: float) -> str:
    """$context.requestTime: CLF-formatted, dd/MMM/yyyy:HH:mm:ss +0000."""
    t = time.gmtime(now)
    return f"{t.tm_mday:02d}/{MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


@dataclass(frozen=True)
class Config:
    model: Model
    router: Router


@dataclass
class Outcome:
    """What one request produced, for the response and the access log."""

    status: int
    body: bytes
    headers: Optional[list[tuple[str, str]]] = None
    route_key: str = ""
    integration_status: str = ""
    integration_latency: str = ""
    integration_error: str = ""
    error_message: str = ""
    authorizer_error: str = ""


def error(status: int, **log) -> Outcome:
    message = MESSAGES[status]
    return Outcome(status, json.dumps({"message": message}, separators=(",", ":")).encode(),
                   [("Content-Type", "application/json")], error_message=message, **log)


class Gateway:
    def __init__(self, file: str, port: int, cloud_map: Optional[str] = None, attribute_lag: float = 0.0,
                 poll_seconds: float = 0.5, out: Optional[TextIO] = None, err: Optional[TextIO] = None,
                 environment: Optional[str] = None) -> None:
        self.file = file
        self.environment = environment  # of a file with environments, the one served
        self.port = port
        self.cloud_map = cloud_map
        self.lag = AttributeLag(attribute_lag) if attribute_lag > 0 else None
        self.poll_seconds = poll_seconds
        self.out, self.err = out or sys.stdout, err or sys.stderr
        self.config: Optional[Config] = None
        self._stamp: Optional[tuple] = None
        self._text: Optional[bytes] = None
        self._turns: dict[str, int] = {}  # route id -> requests so far: round-robin per integration
        self._client = None
        self._names: dict[str, CloudMapService] = {}
        self._inflight: dict[tuple, asyncio.Future] = {}
        self._session = None

    # -- configuration --------------------------------------------------------------------------------------

    def load(self) -> bool:
        """(Re)read routes.yaml. True when a new configuration is in place; an invalid file keeps the old one."""
        try:
            stat = os.stat(self.file)
            with open(self.file, "rb") as handle:
                text = handle.read()
        except OSError as exc:
            if self._stamp != ("missing",):
                self._stamp = ("missing",)
                print(f"{self.file}: cannot read ({exc.strerror}); "
                      f"{'still serving the previous configuration' if self.config else 'nothing to serve'}",
                      file=self.err, flush=True)
            return False
        self._stamp = (stat.st_mtime_ns, stat.st_size)
        if text == self._text:
            return False
        self._text = text
        model, diagnostics = compile_file(self.file, self.environment)
        if diagnostics:
            print(render_text(diagnostics), file=self.err, flush=True)
        if model is None or has_errors(diagnostics):
            if self.config is not None:
                print(f"{self.file}: invalid; still serving the previous configuration", file=self.err, flush=True)
            return False
        first = self.config is None
        self.config = Config(model, Router(model.routes))
        self._names = {}
        if not first:
            print(f"{self.file}: reloaded ({len(model.routes)} route(s))", file=self.err, flush=True)
        return True

    def _changed(self) -> bool:
        try:
            stat = os.stat(self.file)
        except OSError:
            return self._stamp != ("missing",)
        return self._stamp != (stat.st_mtime_ns, stat.st_size)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            if self._changed():
                self.load()

    # -- instances ------------------------------------------------------------------------------------------

    async def instances(self, config: Config, route: Route, include_unhealthy: bool = False) -> list[Found]:
        """The route's integration's candidates: filter on attributes, then on health unless `include_unhealthy`
        (a fan-out route's HealthStatus ALL), sorted by id."""
        service = config.model.service(route.service)
        if self._client is None:
            found, has_check = static_instances(service), service.health_check != "none"
        else:
            names = self._names.get(service.key)
            loop = asyncio.get_running_loop()
            if names is None:
                names = await loop.run_in_executor(None, resolve_service, self._client, config.model, service)
                self._names[service.key] = names
            # With a lag window the old attributes matter: ask for every instance and filter here.
            query = {} if self.lag else dict(route.filter.pairs)
            found = await self._discover(names, query, include_unhealthy)
            has_check = names.has_health_check
        if self.lag:
            self.lag.observe(service.key, found)
            matched = [f for f in found if self.lag.matches(service.key, f, route.filter)]
        else:
            matched = [f for f in found if route.filter.matches(f.attribute_map)]
        return sorted((f for f in matched if include_unhealthy or not has_check or f.health == "HEALTHY"),
                      key=lambda f: f.id)

    async def _discover(self, names: CloudMapService, query: dict[str, str],
                        include_unhealthy: bool = False) -> list[Found]:
        """One DiscoverInstances call per request, except that requests arriving while an identical call is in
        flight share its answer (nothing is kept once it returns): under load the calls stay one at a time per
        route instead of queueing up behind a slow endpoint."""
        health = "ALL" if include_unhealthy else health_parameter(names.has_health_check)
        key = (names.namespace, names.name, tuple(sorted(query.items())), health)
        call = self._inflight.get(key)
        if call is None:
            call = asyncio.get_running_loop().run_in_executor(
                None, discover, self._client, names.namespace, names.name, query, health)
            self._inflight[key] = call
            call.add_done_callback(lambda done: self._inflight.pop(key) if self._inflight.get(key) is done else None)
        return await asyncio.shield(call)

    def pick(self, route: Route, candidates: list[Found]) -> Found:
        turn = self._turns.get(route.id, 0)
        self._turns[route.id] = turn + 1
        return candidates[turn % len(candidates)]

    # -- requests -------------------------------------------------------------------------------------------

    async def handle(self, request):
        from aiohttp import web
        started = time.time()
        context = {"requestId": base64.b64encode(os.urandom(10)).decode().rstrip("="),
                   "identity.sourceIp": request.remote or "", "requestTime": request_time(started),
                   "requestTimeEpoch": str(int(started * 1000)), "httpMethod": request.method,
                   "path": request.raw_path.split("?", 1)[0], "protocol": f"HTTP/{request.version.major}."
                   f"{request.version.minor}", "stage": "", "domainName": request.host}
        config = self.config
        route_path = stage_path(config.model.api.stage, context["path"])
        context["stage"] = config.model.api.stage
        if route_path is None:
            outcome = error(404)  # no stage matched: API Gateway writes no access log for it
        else:
            try:
                outcome = await self._route(config, request, route_path, context)
            except Exception as exc:  # a bug here must still answer as API Gateway would, and say why  # noqa: BLE001
                outcome = error(500, integration_error=f"serve: {type(exc).__name__}: {exc}")
            context.update(routeKey=outcome.route_key or "-", status=str(outcome.status),
                           responseLength=str(len(outcome.body)), integrationStatus=outcome.integration_status,
                           integrationLatency=outcome.integration_latency,
                           integrationErrorMessage=outcome.integration_error, **{
                               "error.message": outcome.error_message, "authorizer.error": outcome.authorizer_error})
            self.out.write(json.dumps(render(context), separators=(",", ":")) + "\n")
            self.out.flush()
        response = web.Response(status=outcome.status, body=outcome.body)
        for name, value in outcome.headers or ():
            response.headers.add(name, value)
        response.headers["apigw-requestid"] = context["requestId"]
        return response

    async def _route(self, config: Config, request, route_path: str, context: Optional[dict] = None) -> Outcome:
        match = config.router.select(request.method, route_path)
        if match is None:
            return error(404)
        route = match.route
        key = route.key.text
        if needs_authorization(route):
            kind, name = identity_source(config.model, route)
            present = request.headers.get(name) if kind == "header" else request.query.get(name)
            if not present:
                return error(401, route_key=key, authorizer_error="Unauthorized")
        try:
            body = await request.read()
        except Exception as exc:  # aiohttp's HTTPRequestEntityTooLarge and friends  # noqa: BLE001
            return Outcome(413, b'{"message":"Request Entity Too Large"}', [("Content-Type", "application/json")],
                           route_key=key, error_message=str(exc))
        if route.fan_out is not None:
            return await self._fan_out(config, request, match, body, context or {})
        try:
            candidates = await self.instances(config, route)
        except Exception as exc:  # Cloud Map unreachable, namespace or service not found  # noqa: BLE001
            return error(500, route_key=key, integration_error=f"DiscoverInstances failed: {exc}")
        if not candidates:
            where = "DiscoverInstances returned no" if self._client else "routes.yaml has no"
            return error(500, route_key=key, integration_error=(
                f"{where} healthy instance of service {route.service!r} matching {route.filter}"))
        instance = self.pick(route, candidates)
        if instance.address is None:
            return error(500, route_key=key, integration_error=(
                f"instance {instance.id!r} has no AWS_INSTANCE_IPV4/AWS_INSTANCE_PORT attributes"))
        path = backend_path(config.model.api.stage, request.raw_path.split("?", 1)[0], route_path,
                            route.options.strip_stage)
        return await self._forward(request, route, instance, path, body)

    async def _forward(self, request, route: Route, instance: Found, path: str, body: bytes) -> Outcome:
        import aiohttp
        from yarl import URL
        key = route.key.text
        host, port = instance.address
        tls = route.options.tls_server_name
        query = request.raw_path.split("?", 1)[1] if "?" in request.raw_path else ""
        url = URL(f"{'https' if tls else 'http'}://{host}:{port}{path}{'?' + query if query else ''}", encoded=True)
        headers = forwarded_headers(request.headers.items(), request.remote or "", self.port)
        timeout_ms = route.options.timeout_ms or DEFAULT_TIMEOUT_MS
        started = time.monotonic()
        latency = lambda: str(int((time.monotonic() - started) * 1000))  # noqa: E731
        try:
            async with self._session.request(request.method, url, headers=headers, data=body or None,
                                             allow_redirects=False, server_hostname=tls or None,
                                             timeout=aiohttp.ClientTimeout(total=timeout_ms / 1000)) as answer:
                payload = await answer.read()
                return Outcome(answer.status, payload, response_headers(answer.raw_headers), route_key=key,
                               integration_status=str(answer.status), integration_latency=latency())
        except asyncio.TimeoutError:
            return error(504, route_key=key, integration_latency=latency(), integration_error=(
                f"instance {instance.id} ({instance.address_text}) did not answer within {timeout_ms} ms"))
        except aiohttp.ClientConnectorError as exc:
            return error(503, route_key=key, integration_latency=latency(), integration_error=(
                f"instance {instance.id} ({instance.address_text}): {exc.os_error.strerror or exc.os_error}"))
        except aiohttp.ClientError as exc:
            return error(500, route_key=key, integration_latency=latency(), integration_error=(
                f"instance {instance.id} ({instance.address_text}): {type(exc).__name__}: {exc}"))

    async def _fan_out(self, config: Config, request, match, body: bytes, context: dict) -> Outcome:
        """A fan-out route: the deployed function's own code (handlers/fanout.run) with the settings the stack
        gives it, on this request as API Gateway hands it to the function (payload format 2.0). The instances
        come from this gateway's discovery (static or --cloud-map), already filtered as DiscoverInstances
        filters them."""
        route = match.route
        service = config.model.service(route.service)
        failure: Optional[Exception] = None
        try:
            found = await self.instances(config, route, include_unhealthy=route.fan_out.include_unhealthy)
        except Exception as exc:  # Cloud Map unreachable, namespace or service not found  # noqa: BLE001
            found, failure = [], exc
        names = self._names.get(service.key)  # what --cloud-map resolved; the function's DiscoverInstances names
        if names is not None:
            namespace, service_name = names.namespace, names.name
        else:
            namespace = (config.model.namespace.name or "") if config.model.namespace else ""
            service_name = service.name
        settings = handler_settings.Settings.from_environ(handler_settings.environment(
            fanout_settings(config.model, route, namespace, service_name)))

        def discovered() -> list[dict]:
            if failure is not None:
                raise failure
            return [{"InstanceId": f.id, "Attributes": f.attribute_map, "HealthStatus": f.health} for f in found]

        event = fan_out_event(request, match, body, context, self.port)
        started = time.monotonic()
        answer = await asyncio.to_thread(fanout.run, event, discovered, settings)
        return Outcome(answer["statusCode"], answer["body"].encode(), list(answer["headers"].items()),
                       route_key=route.key.text, integration_status="200",
                       integration_latency=str(int((time.monotonic() - started) * 1000)))

    # -- lifecycle ------------------------------------------------------------------------------------------

    async def serve(self, ready: Optional[asyncio.Event] = None, stop: Optional[asyncio.Event] = None) -> int:
        import aiohttp
        from aiohttp import web
        if self.config is None and not self.load():
            print(f"{self.file}: not served", file=self.err, flush=True)
            return 1
        if self.cloud_map:
            region = self.config.model.region
            endpoint = None if self.cloud_map == "aws" else self.cloud_map
            try:
                self._client = await asyncio.get_running_loop().run_in_executor(
                    None, aws_client, "servicediscovery", region, endpoint)
            except Exception as exc:  # botocore: no region, no credentials, a malformed endpoint  # noqa: BLE001
                print(f"main.py: error: --cloud-map {self.cloud_map}: {exc}", file=self.err, flush=True)
                return 2
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, keepalive_timeout=30)
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"))  # forward what came, add nothing
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/{path:.*}", self.handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread (tests, embedding)
                pass
        try:
            site = web.TCPSite(runner, HOST, self.port, reuse_address=True)
            try:
                await site.start()
            except OSError as exc:
                print(f"main.py: error: cannot listen on {HOST}:{self.port}: {exc.strerror or exc}", file=self.err,
                      flush=True)
                return 2
            self.port = runner.addresses[0][1] if self.port == 0 else self.port
            model = self.config.model
            source = f"Cloud Map at {self.cloud_map}" if self.cloud_map else f"the static instances in {self.file}"
            print(f"serving {self.file} on http://{HOST}:{self.port} (stage {model.api.stage}, "
                  f"{len(model.routes)} route(s); instances from {source}"
                  f"{f'; attribute lag {self.lag.seconds:g} s' if self.lag else ''})", file=self.err, flush=True)
            for note in not_emulated(model):
                print(f"note: {note}", file=self.err, flush=True)
            empty = sorted({r.service for r in model.routes if not model.service(r.service).instances})
            if empty and not self.cloud_map:
                print(f"note: {', '.join(empty)} ha{'s' if len(empty) == 1 else 've'} no static instances in "
                      f"{self.file}, so routes to {'it' if len(empty) == 1 else 'them'} answer 500; instances that "
                      f"register themselves are read with --cloud-map", file=self.err, flush=True)
            if ready:
                ready.set()
            watcher = asyncio.ensure_future(self._watch())
            await stop.wait()
            watcher.cancel()
            return 0
        finally:
            await runner.cleanup()
            await self._session.close()


def not_emulated(model: Model) -> list[str]:
    """What this routes.yaml configures that `serve` does not reproduce (said once, at start)."""
    notes = []
    if any(needs_authorization(r) for r in model.routes):
        notes.append("authorization: only the presence of the credentials is checked (no JWT, IAM or Lambda "
                      "verification); a missing one answers 401")
    if model.api.throttling or any(r.throttling for r in model.routes):
        notes.append("throttling is not applied (API Gateway would answer 429 beyond the limits)")
    if model.api.cors:
        notes.append("CORS is not answered here (API Gateway answers preflight requests itself)")
    if any(r.fan_out for r in model.routes):
        notes.append("fan-out routes run the deployed function's code (handlers/fanout.py) in this process, "
                     "without Lambda's limits, VPC or IAM role")
    return notes


def fan_out_event(request, match, body: bytes, context: dict, port: int) -> dict:
    """The payload 2.0 event API Gateway gives a Lambda proxy integration for this request (the fields the
    fan-out handler reads, and the usual others): rawPath with a named stage still in it, rawQueryString as
    sent, lower-case headers with repeated ones joined by commas, cookies apart, X-Forwarded-* added, the body
    as text or base64."""
    raw_path, _, query = request.raw_path.partition("?")
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in forwarded_headers(request.headers.items(), request.remote or "", port):
        lower = name.lower()
        if lower == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
        else:
            headers[lower] = f"{headers[lower]},{value}" if lower in headers else value
    route = match.route
    event: dict = {
        "version": "2.0", "routeKey": route.key.text, "rawPath": raw_path, "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "http": {"method": request.method, "path": raw_path, "protocol": context.get("protocol", "HTTP/1.1"),
                     "sourceIp": request.remote or "", "userAgent": headers.get("user-agent", "")},
            "requestId": context.get("requestId", ""), "routeKey": route.key.text,
            "stage": context.get("stage", "$default"), "time": context.get("requestTime", ""),
            "timeEpoch": int(context.get("requestTimeEpoch") or 0), "domainName": context.get("domainName", "")},
        "isBase64Encoded": False}
    if cookies:
        event["cookies"] = cookies
    if query:
        parameters: dict[str, str] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            parameters[key] = f"{parameters[key]},{value}" if key in parameters else value
        event["queryStringParameters"] = parameters
    if match.parameters:
        event["pathParameters"] = dict(match.parameters)
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode("ascii"), True
    return event


def forwarded_headers(items, client_ip: str, port: int) -> list[tuple[str, str]]:
    """The request headers the integration receives: hop-by-hop ones (and those the Connection header names)
    dropped, X-Forwarded-For/-Proto/-Port set as API Gateway sets them for HTTP integrations."""
    items = list(items)
    named = {token.strip().lower() for name, value in items if name.lower() == "connection"
             for token in value.split(",") if token.strip()}
    out, forwarded_for = [], []
    for name, value in items:
        lower = name.lower()
        if lower in NOT_FORWARDED or lower in named:
            continue
        if lower == "x-forwarded-for":
            forwarded_for.append(value)
        elif lower not in ("x-forwarded-proto", "x-forwarded-port"):
            out.append((name, value))
    out += [("X-Forwarded-For", ", ".join([*forwarded_for, client_ip]) if client_ip else ", ".join(forwarded_for)),
            ("X-Forwarded-Proto", "http"), ("X-Forwarded-Port", str(port))]
    return [(k, v) for k, v in out if v]


def response_headers(raw: tuple[tuple[bytes, bytes], ...]) -> list[tuple[str, str]]:
    """The integration's response headers for the client: hop-by-hop ones dropped, repeated ones kept."""
    items = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
    named = {token.strip().lower() for name, value in items if name.lower() == "connection"
             for token in value.split(",") if token.strip()}
    return [(k, v) for k, v in items if k.lower() not in NOT_FORWARDED and k.lower() not in named]


def run_serve(file: str, port: int, cloud_map: Optional[str], attribute_lag: float,
              environment: Optional[str] = None) -> int:
    return asyncio.run(Gateway(file, port, cloud_map, attribute_lag, environment=environment).serve())
