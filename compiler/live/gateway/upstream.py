"""`serve`'s integrations: which instances a route reaches, and the call to one of them (or, for a fan-out route,
the deployed function's own code over all of them).

Instances: the service's static instances, or Cloud Map's DiscoverInstances (`--cloud-map`), kept when every
filter pair matches, then when healthy; a proxied route picks one round-robin (each route has its own turn).
The request is proxied with method, path, query string, headers and body; hop-by-hop headers are dropped both
ways. A fan-out route runs `handlers.fanout.run`, in a thread, on the payload 2.0 event API Gateway would give
the function, with the settings the stack gives it (`language.functions.fanout_settings`), over the same
instances, calling what serve calls (handlers/cloudmap.LOCAL: loopback too, as the static examples need).
"""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import replace
from typing import Optional
from urllib.parse import parse_qsl

from ...handlers import cloudmap, fanout
from ...handlers import settings as handler_settings
from ...language.functions import fanout_settings
from ...language.model import Route
from ..discovery import (
    AttributeLag,
    CloudMapService,
    Found,
    discover,
    health_parameter,
    resolve_service,
    static_instances,
)
from .answers import Outcome, error
from .config import Config

DEFAULT_TIMEOUT_MS = 30_000  # API Gateway's default (and maximum) integration timeout for HTTP APIs
# RFC 9110 section 7.6.1 (and RFC 7230 6.1): meaningful for one connection only, never forwarded by a proxy.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
                        "te", "trailer", "transfer-encoding", "upgrade"})
NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length"}  # the client library sets these for the next hop


class Upstream:
    """The integrations' side of the gateway: discovery (with its caches) and the calls."""

    def __init__(self, lag: Optional[AttributeLag] = None) -> None:
        self.lag = lag
        self.client = None  # a Cloud Map client with --cloud-map; None: static instances
        self.session = None  # the aiohttp client session, opened by the server
        self._names: dict[str, CloudMapService] = {}
        self._inflight: dict[tuple, asyncio.Future] = {}
        self._turns: dict[str, int] = {}  # route id -> requests so far: round-robin per integration

    def forget_names(self) -> None:
        """routes.yaml changed: resolve Cloud Map's names again."""
        self._names = {}

    # -- instances ------------------------------------------------------------------------------------------

    async def instances(self, config: Config, route: Route, include_unhealthy: bool = False) -> list[Found]:
        """The route's integration's candidates: filter on attributes, then on health unless `include_unhealthy`
        (a fan-out route's HealthStatus ALL), sorted by id."""
        service = config.model.service(route.service)
        if self.client is None:
            found, has_check = static_instances(service), service.health_check != "none"
        else:
            names = await self.names(config, route)
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

    async def names(self, config: Config, route: Route) -> CloudMapService:
        """Where DiscoverInstances finds the route's service (resolved once per configuration)."""
        service = config.model.service(route.service)
        names = self._names.get(service.key)
        if names is None:
            names = await asyncio.get_running_loop().run_in_executor(
                None, resolve_service, self.client, config.model, service)
            self._names[service.key] = names
        return names

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
                None, discover, self.client, names.namespace, names.name, query, health)
            self._inflight[key] = call
            call.add_done_callback(lambda done: self._inflight.pop(key) if self._inflight.get(key) is done else None)
        return await asyncio.shield(call)

    def pick(self, route: Route, candidates: list[Found]) -> Found:
        turn = self._turns.get(route.id, 0)
        self._turns[route.id] = turn + 1
        return candidates[turn % len(candidates)]

    # -- a proxied route ------------------------------------------------------------------------------------

    async def proxy(self, config: Config, route: Route, request, target: str, body: bytes, port: int) -> Outcome:
        """The route's private integration: one instance, picked round-robin, gets the request at `target`
        (the backend's path, encoded, and the query string as sent)."""
        key = route.key.text
        try:
            candidates = await self.instances(config, route)
        except Exception as exc:  # Cloud Map unreachable, namespace or service not found  # noqa: BLE001
            return error(500, route_key=key, integration_error=f"DiscoverInstances failed: {exc}")
        if not candidates:
            where = "DiscoverInstances returned no" if self.client else "routes.yaml has no"
            return error(500, route_key=key, integration_error=(
                f"{where} healthy instance of service {route.service!r} matching {route.filter}"))
        instance = self.pick(route, candidates)
        if instance.address is None:
            return error(500, route_key=key, integration_error=f"instance {instance.id!r}: {instance.unreachable}")
        return await self._call(request, route, instance, target, body, port)

    async def _call(self, request, route: Route, instance: Found, target: str, body: bytes, port: int) -> Outcome:
        import aiohttp
        from yarl import URL
        key = route.key.text
        host, instance_port = instance.address
        tls = route.options.tls_server_name
        url = URL(f"{'https' if tls else 'http'}://{host}:{instance_port}{target}", encoded=True)
        headers = forwarded_headers(request.headers.items(), request.remote or "", port)
        timeout_ms = route.options.timeout_ms or DEFAULT_TIMEOUT_MS
        started = time.monotonic()
        latency = lambda: str(int((time.monotonic() - started) * 1000))  # noqa: E731
        where = f"instance {instance.id} ({instance.address_text})"
        try:
            async with self.session.request(request.method, url, headers=headers, data=body or None,
                                            allow_redirects=False, server_hostname=tls or None,
                                            timeout=aiohttp.ClientTimeout(total=timeout_ms / 1000)) as answer:
                payload = await answer.read()
                return Outcome(answer.status, payload, response_headers(answer.raw_headers), route_key=key,
                               integration_status=str(answer.status), integration_latency=latency())
        except asyncio.TimeoutError:  # an HTTP API's integration timeout: 503 (answers.py has the sources)
            return error(503, route_key=key, integration_latency=latency(),
                         integration_error=f"{where} did not answer within {timeout_ms} ms")
        except aiohttp.ClientConnectorError as exc:
            return error(503, route_key=key, integration_latency=latency(),
                         integration_error=f"{where}: {exc.os_error.strerror or exc.os_error}")
        except aiohttp.ClientError as exc:
            return error(500, route_key=key, integration_latency=latency(),
                         integration_error=f"{where}: {type(exc).__name__}: {exc}")

    # -- a fan-out route ------------------------------------------------------------------------------------

    async def fan_out(self, config: Config, route: Route, event: dict) -> Outcome:
        """A fan-out route: the deployed function's own code (handlers/fanout.run) with the settings the stack
        gives it, on `event` (payload format 2.0). The instances come from this gateway's discovery (static or
        --cloud-map), already filtered as DiscoverInstances filters them."""
        failure: Optional[Exception] = None
        try:
            found = await self.instances(config, route, include_unhealthy=route.fan_out.include_unhealthy)
        except Exception as exc:  # Cloud Map unreachable, namespace or service not found  # noqa: BLE001
            found, failure = [], exc
        settings = self._settings(config, route)

        def discovered() -> list[dict]:
            if failure is not None:
                raise failure
            return [{"InstanceId": f.id, "Attributes": f.attribute_map, "HealthStatus": f.health} for f in found]

        started = time.monotonic()
        answer = await asyncio.to_thread(fanout.run, event, discovered, settings, allowed=cloudmap.LOCAL)
        return Outcome(answer["statusCode"], answer["body"].encode(), list(answer["headers"].items()),
                       route_key=route.key.text, integration_status="200",
                       integration_latency=str(int((time.monotonic() - started) * 1000)))

    def _settings(self, config: Config, route: Route) -> handler_settings.Settings:
        """The function's settings, read back through its environment as the deployed function reads them; the
        namespace is what --cloud-map resolved (the HttpName), or routes.yaml's name for static instances."""
        model = config.model
        service = model.service(route.service)
        names = self._names.get(service.key)
        if names is not None:
            namespace, service_name = names.namespace, names.name
        else:
            namespace, service_name = (model.namespace.name or "") if model.namespace else "", service.name
        settings = handler_settings.Settings.from_environ(handler_settings.environment(
            fanout_settings(model, route, namespace, service_name)))
        return replace(settings, namespace_id="")  # the name is resolved already


def fan_out_event(request, route: Route, parameters: tuple, path: str, context: dict, body: bytes,
                  port: int) -> dict:
    """The payload 2.0 event API Gateway gives a Lambda proxy integration for this request (the fields the
    fan-out handler reads, and the usual others): rawPath decoded (as HTTP APIs deliver it) with a named stage
    still in it, rawQueryString as sent, lower-case headers with repeated ones joined by commas, cookies apart,
    X-Forwarded-* added, the body as text or base64."""
    query = request.raw_path.partition("?")[2]
    headers, cookies = _event_headers(forwarded_headers(request.headers.items(), request.remote or "", port))
    event: dict = {
        "version": "2.0", "routeKey": route.key.text, "rawPath": path, "rawQueryString": query, "headers": headers,
        "requestContext": {
            "http": {"method": request.method, "path": path, "protocol": context.get("protocol", "HTTP/1.1"),
                     "sourceIp": request.remote or "", "userAgent": headers.get("user-agent", "")},
            "requestId": context.get("requestId", ""), "routeKey": route.key.text,
            "stage": context.get("stage", "$default"), "time": context.get("requestTime", ""),
            "timeEpoch": int(context.get("requestTimeEpoch") or 0), "domainName": context.get("domainName", "")},
        "isBase64Encoded": False}
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = _joined(parse_qsl(query, keep_blank_values=True))
    if parameters:
        event["pathParameters"] = dict(parameters)
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode("ascii"), True
    return event


def _event_headers(items: list[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in items:
        lower = name.lower()
        if lower == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
        else:
            headers[lower] = f"{headers[lower]},{value}" if lower in headers else value
    return headers, cookies


def _joined(pairs: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in pairs:
        out[key] = f"{out[key]},{value}" if key in out else value
    return out


def forwarded_headers(items, client_ip: str, port: int) -> list[tuple[str, str]]:
    """The request headers the integration receives: hop-by-hop ones (and those the Connection header names)
    dropped, X-Forwarded-For/-Proto/-Port set as API Gateway sets them for HTTP integrations."""
    items = list(items)
    named = _connection_named(items)
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
    named = _connection_named(items)
    return [(k, v) for k, v in items if k.lower() not in NOT_FORWARDED and k.lower() not in named]


def _connection_named(items: list[tuple[str, str]]) -> set[str]:
    """The headers a Connection header names: hop-by-hop for this connection too (RFC 9110 7.6.1)."""
    return {token.strip().lower() for name, value in items if name.lower() == "connection"
            for token in value.split(",") if token.strip()}
