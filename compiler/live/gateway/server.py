"""The gateway's server: the listening socket and its bounds, the request pipeline, the access log, reloads.

Per request, in API Gateway's order: the request target (routing.request_path: decoded, slashes merged, refused
with 400 when serve will not guess), stage, route (routing.Router), authorization (authorization.authorize), the
body, then the route's integration (upstream.Upstream). One access log line per request on stdout.

Bounds, as a gateway in front of a service keeps them (`Limits`; serve's own numbers: API Gateway documents none):
- a connection has HEADER_TIMEOUT_S (10 s) from opening, or from its previous response, to deliver a complete
  request head, or it is closed (also the keep-alive idle timeout);
- at most MAX_CONNECTIONS (256) client connections are open at once; one more is answered 503
  {"message":"Service Unavailable"} and closed without being read;
- a request's body must arrive within BODY_TIMEOUT_S (30 s, API Gateway's integration limit: a request slower
  than that could not be answered there either), or 408;
- a body over MAX_BODY (10 MB, the HTTP API payload quota) is 413.
A request aiohttp cannot parse gets its 400 with one line on stderr and no traceback.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass
from typing import Optional, TextIO

from ...core.aws import aws_client
from ...core.deployed import render
from ...core.text import visible
from ...language.model import Model
from ..discovery import AttributeLag
from ..routing import BadPath, backend_path, backend_target, request_path, stage_path
from .answers import Outcome, error
from .authorization import authorize, caller_of, presence_only
from .config import Config, Watched
from .upstream import Upstream, fan_out_event

HOST = "127.0.0.1"  # loopback only: this is a test tool, never a public listener
MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload quota (10 MB)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
OVER_CAPACITY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 33\r\n"
                 b"Connection: close\r\n\r\n{\"message\":\"Service Unavailable\"}")


@dataclass(frozen=True)
class Limits:
    header_timeout_s: float = 10.0  # HEADER_TIMEOUT_S
    max_connections: int = 256  # MAX_CONNECTIONS
    body_timeout_s: float = 30.0  # BODY_TIMEOUT_S


def request_time(now: float) -> str:
    """$context.requestTime: CLF-formatted, dd/MMM/yyyy:HH:mm:ss +0000."""
    t = time.gmtime(now)
    return f"{t.tm_mday:02d}/{MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def request_context(request, started: float, stage: str) -> dict:
    """The $context variables the access log and the fan-out event read."""
    return {"requestId": base64.b64encode(os.urandom(10)).decode().rstrip("="),
            "identity.sourceIp": request.remote or "", "requestTime": request_time(started),
            "requestTimeEpoch": str(int(started * 1000)), "httpMethod": request.method,
            "path": request.raw_path.split("?", 1)[0],
            "protocol": f"HTTP/{request.version.major}.{request.version.minor}", "stage": stage,
            "domainName": request.host}


class _OneLine(logging.Handler):
    """aiohttp's server log, as one line per problem (a malformed request: its 400 is answered) and never a
    traceback: what a client sends is not serve's error."""

    def __init__(self, err: TextIO) -> None:
        super().__init__(logging.ERROR)
        self.err = err

    def emit(self, record: logging.LogRecord) -> None:
        why = record.exc_info[1] if record.exc_info else None
        text = record.getMessage() + (f": {type(why).__name__}: {why}" if why else "")
        print(f"serve: {visible(text)[:500]}", file=self.err, flush=True)


class _Counted(asyncio.Protocol):
    """One of aiohttp's connections, counted in `live` from the moment it is accepted until it is lost (aiohttp's
    own count starts only at connection_made, which asyncio runs later, after a burst has been accepted)."""

    def __init__(self, inner: asyncio.Protocol, live: set) -> None:
        self.inner, self.live = inner, live
        live.add(self)

    def connection_made(self, transport) -> None:
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self):
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def connection_lost(self, exc) -> None:
        self.live.discard(self)
        self.inner.connection_lost(exc)


class _Refused(asyncio.Protocol):
    """A connection over MAX_CONNECTIONS: answered 503 and closed, nothing read."""

    def connection_made(self, transport) -> None:
        transport.write(OVER_CAPACITY)
        transport.close()


class Gateway:
    def __init__(self, file: str, port: int, cloud_map: Optional[str] = None, attribute_lag: float = 0.0,
                 poll_seconds: float = 0.5, out: Optional[TextIO] = None, err: Optional[TextIO] = None,
                 environment: Optional[str] = None, limits: Limits = Limits()) -> None:
        self.file = file
        self.port = port
        self.cloud_map = cloud_map
        self.upstream = Upstream(AttributeLag(attribute_lag) if attribute_lag > 0 else None)
        self.poll_seconds = poll_seconds
        self.out, self.err = out or sys.stdout, err or sys.stderr
        self.limits = limits
        self.routes = Watched(file, environment, self.err)

    @property
    def config(self) -> Optional[Config]:
        return self.routes.config

    async def reload(self) -> bool:
        """(Re)read routes.yaml off the event loop; True when a new configuration is in place."""
        changed = await self.routes.reload()
        if changed:
            self.upstream.forget_names()
        return changed

    # -- requests -------------------------------------------------------------------------------------------

    async def handle(self, request):
        from aiohttp import web
        config = self.config
        context = request_context(request, time.time(), config.model.api.stage)
        outcome, logged = await self._answer(config, request, context)
        if logged:  # no stage matched: API Gateway writes no access log for it
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

    async def _answer(self, config: Config, request, context: dict) -> tuple[Outcome, bool]:
        """(the outcome, whether the access log records it)."""
        try:
            path = request_path(request.raw_path)
        except BadPath as exc:
            return error(400, error_message=f"Bad Request: {exc}"), True
        route_path = stage_path(config.model.api.stage, path)
        if route_path is None:
            return error(404), False
        try:
            return await self._route(config, request, path, route_path, context), True
        except Exception as exc:  # a bug here must still answer as API Gateway would, and say why  # noqa: BLE001
            return error(500, integration_error=f"serve: {type(exc).__name__}: {exc}"), True

    async def _route(self, config: Config, request, path: str, route_path: str, context: dict) -> Outcome:
        match = config.router.select(request.method, route_path)
        if match is None:
            return error(404)
        route = match.route
        key = route.key.text
        authorizer = next((a for a in config.model.authorizers if a.key == route.authorization.authorizer), None)
        decision = authorize(route.authorization, authorizer,
                             caller_of(request.headers.items(), request.query.items(), request.remote or ""))
        if not decision.admitted:
            return error(decision.status, route_key=key, authorizer_error=decision.error)
        body, problem = await self._body(request, key)
        if problem is not None:
            return problem
        if route.fan_out is not None:
            event = fan_out_event(request, route, match.parameters, path, context, body, self.port)
            return await self.upstream.fan_out(config, route, event)
        query = request.raw_path.partition("?")[2]
        target = backend_target(backend_path(config.model.api.stage, path, route_path, route.options.strip_stage))
        return await self.upstream.proxy(config, route, request, target + ("?" + query if query else ""), body,
                                         self.port)

    async def _body(self, request, key: str) -> tuple[bytes, Optional[Outcome]]:
        """The request's body, within BODY_TIMEOUT_S and MAX_BODY; or the answer that says why not."""
        try:
            return await asyncio.wait_for(request.read(), self.limits.body_timeout_s), None
        except asyncio.TimeoutError:
            return b"", error(408, route_key=key,
                              error_message=f"the body did not arrive within {self.limits.body_timeout_s:g} s")
        except Exception as exc:  # aiohttp's HTTPRequestEntityTooLarge and friends  # noqa: BLE001
            return b"", error(413, route_key=key, error_message=str(exc))

    # -- lifecycle ------------------------------------------------------------------------------------------

    async def serve(self, ready: Optional[asyncio.Event] = None, stop: Optional[asyncio.Event] = None) -> int:
        from aiohttp import web
        if self.config is None and not await self.reload():
            print(f"{self.file}: not served", file=self.err, flush=True)
            return 1
        if self.cloud_map and not await self._open_cloud_map():
            return 2
        self.upstream.session = _client_session()
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/{path:.*}", self.handle)
        quiet = logging.getLogger(f"cloudmap_routes.serve.{id(self)}")
        quiet.propagate, quiet.handlers = False, [_OneLine(self.err)]
        runner = web.AppRunner(app, access_log=None, handle_signals=False, logger=quiet,
                               keepalive_timeout=self.limits.header_timeout_s)
        await runner.setup()
        listener = None
        try:
            listener = await self._listen(runner)
            if listener is None:
                return 2
            announce(self.config.model, self.file, self.port, self.cloud_map, self.upstream.lag, self.err)
            if ready:
                ready.set()
            await self._until(stop or asyncio.Event())
            return 0
        finally:
            if listener is not None:
                listener.close()
            await runner.cleanup()
            await self.upstream.session.close()

    async def _open_cloud_map(self) -> bool:
        endpoint = None if self.cloud_map == "aws" else self.cloud_map
        try:
            self.upstream.client = await asyncio.to_thread(aws_client, "servicediscovery", self.config.model.region,
                                                           endpoint)
        except Exception as exc:  # botocore: no region, no credentials, a malformed endpoint  # noqa: BLE001
            print(f"main.py: error: --cloud-map {self.cloud_map}: {exc}", file=self.err, flush=True)
            return False
        return True

    async def _listen(self, runner):
        """The listening socket, each connection counted against MAX_CONNECTIONS; None when it cannot listen."""
        server, limit, live = runner.server, self.limits.max_connections, set()

        def connection():
            return _Refused() if len(live) >= limit else _Counted(server(), live)
        try:
            listener = await asyncio.get_running_loop().create_server(connection, HOST, self.port,
                                                                      reuse_address=True)
        except OSError as exc:
            print(f"main.py: error: cannot listen on {HOST}:{self.port}: {exc.strerror or exc}", file=self.err,
                  flush=True)
            return None
        self.port = listener.sockets[0].getsockname()[1]
        return listener

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            if self.routes.changed():
                await self.reload()

    async def _until(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread (tests, embedding)
                pass
        watcher = asyncio.ensure_future(self._watch())
        try:
            await stop.wait()
        finally:
            watcher.cancel()


def announce(model: Model, file: str, port: int, cloud_map: Optional[str], lag: Optional[AttributeLag],
             err: TextIO) -> None:
    """The start-up lines on stderr: what is served, from where, and what is not emulated."""
    source = f"Cloud Map at {cloud_map}" if cloud_map else f"the static instances in {file}"
    print(f"serving {file} on http://{HOST}:{port} (stage {model.api.stage}, {len(model.routes)} route(s); "
          f"instances from {source}{f'; attribute lag {lag.seconds:g} s' if lag else ''})", file=err, flush=True)
    for note in not_emulated(model):
        print(f"note: {note}", file=err, flush=True)
    empty = sorted({r.service for r in model.routes if not model.service(r.service).instances})
    if empty and not cloud_map:
        print(f"note: {', '.join(empty)} ha{'s' if len(empty) == 1 else 've'} no static instances in {file}, so "
              f"routes to {'it' if len(empty) == 1 else 'them'} answer 500; instances that register themselves are "
              "read with --cloud-map", file=err, flush=True)


def _client_session():
    import aiohttp
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, keepalive_timeout=30)
    return aiohttp.ClientSession(
        connector=connector, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"))  # forward what came, add nothing


def not_emulated(model: Model) -> list[str]:
    """What this routes.yaml configures that `serve` does not reproduce (said once, at start)."""
    notes = []
    unverified = sorted({str(r.authorization) for r in model.routes if presence_only(r.authorization)})
    if unverified:
        notes.append(f"authorization {', '.join(unverified)}: only the presence of the identity source is checked "
                     "(no JWT, IAM signature or Lambda authorizer is verified or run); a missing one answers 401")
    allowlists = sorted({str(r.authorization) for r in model.routes if r.authorization.kind == "allowlist"})
    if allowlists:
        notes.append(f"allow-list authorizer {', '.join(allowlists)}: enforced with the shipped handler on the TCP "
                     "peer's address (403 outside its CIDRs); caching and the 10 s authorizer timeout are not")
    if model.api.throttling or any(r.throttling for r in model.routes):
        notes.append("throttling is not applied (API Gateway would answer 429 beyond the limits)")
    if model.api.cors:
        notes.append("CORS is not answered here (API Gateway answers preflight requests itself)")
    if any(r.fan_out for r in model.routes):
        notes.append("fan-out routes run the deployed function's code (handlers/fanout.py) in this process, "
                     "without Lambda's limits, VPC or IAM role")
    return notes


def run_serve(file: str, port: int, cloud_map: Optional[str], attribute_lag: float,
              environment: Optional[str] = None) -> int:
    return asyncio.run(Gateway(file, port, cloud_map, attribute_lag, environment=environment).serve())
