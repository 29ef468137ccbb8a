"""A route's description read back from Terraform's plan: the aspects (compiler.reach.aspects) its resources hold
before and after the change, so that `summarize-plan` says what `diff` says, in the same words.

Where each aspect lives in the plan (compiler.terraform.plan writes it there):

    route key, authorization       aws_apigatewayv2_route: route_key, authorization_type, authorizer_id, scopes
    service, filter                a proxy's integration_uri (<service ARN>?<filter>, model.IntegrationUri), or
                                   a fan-out function's environment (CLOUD_MAP_SERVICE, FILTER)
    timeout, TLS, stage stripping  the integration (timeout_milliseconds, tls_config, request_parameters); a
                                   fan-out's TLS name and stage stripping are in its function's environment
    fan-out settings               the function's environment (handlers/settings.py names the variables)
    throttling                     the stage's route_settings entry for the route key
    authorizer settings            aws_apigatewayv2_authorizer; an allow-list's CIDRs in its function's environment

Everything read here comes from a plan file: a value of an unexpected type is treated as absent, never trusted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Optional

from ..language.functions import ALLOWED_CIDRS
from ..language.model import ALLOWLIST_IDENTITY, DEFAULT_TIMEOUT_MS, AttributeFilter, IntegrationUri, Throttling
from ..reach.aspects import Aspect, authorization_value
from ..reach.description import AuthKind, RouteAuthorization

UNKNOWN = object()  # known only after apply
_KINDS = {"NONE": AuthKind.NONE, "AWS_IAM": AuthKind.IAM, "JWT": AuthKind.JWT}


@dataclass(frozen=True)
class Values:
    """One side (before or after) of one planned resource: its values, and which are known only after apply."""

    values: dict
    unknown: Any = None  # after_unknown: True, or the same shape as values with True where unknown

    def get(self, *path: Any) -> Any:
        """The value at path (a list step takes its element: blocks are lists of one); None when absent or of
        another shape, UNKNOWN when Terraform knows it only after apply."""
        value, unknown = self.values, self.unknown
        for step in path:
            if unknown is True:
                return UNKNOWN
            if isinstance(value, list) and isinstance(step, int):
                value = value[step] if len(value) > step else None
                unknown = unknown[step] if isinstance(unknown, list) and len(unknown) > step else None
            elif isinstance(value, dict):
                value, unknown = value.get(step), unknown.get(step) if isinstance(unknown, dict) else None
            else:
                return None
        return UNKNOWN if unknown is True else value

    def text(self, *path: Any) -> Any:
        value = self.get(*path)
        return value if value is UNKNOWN or isinstance(value, str) else None

    def env(self, name: str) -> Any:
        """A function's environment variable."""
        return self.text("environment", 0, "variables", name)


NOTHING = Values({})


@dataclass
class Side:
    """What one route's resources say on one side of the change."""

    route: Values = NOTHING
    integration: Values = NOTHING
    function: Values = NOTHING  # a fan-out route's function
    authorizer: Values = NOTHING
    allowlist: Values = NOTHING  # an allow-list authorizer's function
    stage: Values = NOTHING
    service_key: Callable[[str, bool], Optional[str]] = lambda text, by_name: None  # id or Cloud Map name -> key
    authorizer_key: Callable[[Any], Any] = lambda authorizer_id: None  # an authorizer id -> its name (the key)

    @property
    def fan_out(self) -> Any:
        """Whether the route fans out: its integration invokes a function (AWS_PROXY); a plan that leaves out an
        unchanged integration still shows the fan-out's function."""
        kind = self.integration.text("integration_type")
        if kind is None and self.function.values:
            return True
        return kind if kind is UNKNOWN else kind == "AWS_PROXY" if kind else None


def reach_of(side: Side) -> Any:
    """(service key or Cloud Map label, filter) the side reaches; UNKNOWN, or None when it says nothing."""
    if side.fan_out is True:
        service, query = side.function.env("CLOUD_MAP_SERVICE"), side.function.env("FILTER")
        if UNKNOWN in (service, query):
            return UNKNOWN
        if service is None:
            return None
        return side.service_key(service, True) or service, _json_filter(query)
    uri = side.integration.text("integration_uri")
    if uri is UNKNOWN or uri is None:
        return uri
    parsed = IntegrationUri.parse(uri)
    if parsed is None:
        return None
    return side.service_key(parsed.service_id, False) or parsed.service_id, parsed.filter


def _json_filter(text: Optional[str]) -> AttributeFilter:
    try:
        pairs = json.loads(text or "{}")
    except ValueError:
        return AttributeFilter()
    return AttributeFilter.of({k: v for k, v in pairs.items() if isinstance(v, str)} if isinstance(pairs, dict) else {})


def _authorization(side: Side) -> Any:
    api_type = side.route.text("authorization_type")
    if api_type is None or api_type is UNKNOWN:
        return api_type
    scopes = side.route.get("authorization_scopes")
    scopes = tuple(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else ()
    kind = _KINDS.get(api_type)
    if kind in (AuthKind.NONE, AuthKind.IAM):
        return authorization_value(kind, None, scopes)
    key = side.authorizer_key(side.route.text("authorizer_id"))
    if key is UNKNOWN:
        return UNKNOWN
    if api_type == "CUSTOM":  # an allow-list is the REQUEST authorizer that reads the caller's address
        identity = side.authorizer.get("identity_sources")
        kind = AuthKind.ALLOWLIST if identity == [ALLOWLIST_IDENTITY] else AuthKind.LAMBDA
    return authorization_value(kind, key, scopes) if kind else None


def _throttling(side: Side) -> Any:
    key, settings = side.route.text("route_key"), side.stage.get("route_settings")
    if settings is UNKNOWN or key is UNKNOWN:
        return UNKNOWN
    for entry in settings if isinstance(settings, list) else ():
        if isinstance(entry, dict) and entry.get("route_key") == key:
            burst, rate = entry.get("throttling_burst_limit"), entry.get("throttling_rate_limit")
            if isinstance(burst, int) and isinstance(rate, (int, float)):
                return Throttling(burst, rate)
    return None


def _number(text: Any) -> Any:
    return text if text is UNKNOWN else int(text) if isinstance(text, str) and text.isdigit() else None


def _flag(text: Any) -> Any:
    return text if text is UNKNOWN else text == "true" if isinstance(text, str) else None


def _listed(text: Any) -> Any:
    if text is UNKNOWN or text is None:
        return text
    return tuple(sorted(h.strip() for h in text.split(",") if h.strip()))


def _proxy_or_function(side: Side, proxy: Callable[[Values], Any], function: Callable[[Values], Any]) -> Any:
    return function(side.function) if side.fan_out is True else proxy(side.integration)


def _timeout(values: Values) -> Any:
    value = values.get("timeout_milliseconds")
    return value if value is UNKNOWN or isinstance(value, int) else DEFAULT_TIMEOUT_MS


def _authorizer_function(values: Values) -> Any:
    uri = values.text("authorizer_uri")
    if not isinstance(uri, str) or "/functions/" not in uri:
        return uri if uri is UNKNOWN else None
    return uri.split("/functions/", 1)[1].removesuffix("/invocations")


ROUTE_READERS: dict[Aspect, Callable[[Side], Any]] = {
    Aspect.ROUTE_KEY: lambda s: s.route.text("route_key"),
    Aspect.AUTHORIZATION: _authorization,
    Aspect.THROTTLING: _throttling,
    Aspect.TIMEOUT: lambda s: _timeout(s.integration),
    Aspect.TLS_SERVER_NAME: lambda s: _proxy_or_function(
        s, lambda i: i.text("tls_config", 0, "server_name_to_verify"), lambda f: f.env("TLS_SERVER_NAME")),
    Aspect.STAGE_STRIPPED: lambda s: _proxy_or_function(
        s, lambda i: i.get("request_parameters", "overwrite:path") == "$request.path",
        lambda f: _flag(f.env("STRIP_STAGE"))),
    Aspect.FAN_OUT: lambda s: s.fan_out,
}
FAN_OUT_READERS: dict[Aspect, Callable[[Side], Any]] = {
    Aspect.INCLUDE_UNHEALTHY: lambda s: _flag(s.function.env("INCLUDE_UNHEALTHY")),
    Aspect.PER_INSTANCE_TIMEOUT: lambda s: _number(s.function.env("PER_INSTANCE_TIMEOUT_MS")),
    Aspect.CONCURRENCY: lambda s: _number(s.function.env("CONCURRENCY")),
    Aspect.FORWARD_HEADERS: lambda s: _listed(s.function.env("FORWARD_HEADERS")),
    Aspect.MAX_BODY_BYTES: lambda s: _number(s.function.env("MAX_BODY_BYTES")),
}
AUTHORIZER_READERS: dict[AuthKind, dict[Aspect, Callable[[Side], Any]]] = {
    AuthKind.JWT: {Aspect.JWT_ISSUER: lambda s: s.authorizer.text("jwt_configuration", 0, "issuer"),
                   Aspect.JWT_AUDIENCES: lambda s: _strings(s.authorizer.get("jwt_configuration", 0, "audience")),
                   Aspect.IDENTITY_SOURCE: lambda s: _first(s.authorizer.get("identity_sources"))},
    AuthKind.LAMBDA: {Aspect.AUTHORIZER_FUNCTION: lambda s: _authorizer_function(s.authorizer),
                      Aspect.IDENTITY_SOURCE: lambda s: _first(s.authorizer.get("identity_sources")),
                      Aspect.AUTHORIZER_CACHE: lambda s: s.authorizer.get("authorizer_result_ttl_in_seconds"),
                      Aspect.SIMPLE_RESPONSES: lambda s: s.authorizer.get("enable_simple_responses")},
    AuthKind.ALLOWLIST: {Aspect.ALLOWED_CIDRS: lambda s: _cidrs(s.allowlist.env(ALLOWED_CIDRS)),
                         Aspect.AUTHORIZER_CACHE: lambda s: s.authorizer.get("authorizer_result_ttl_in_seconds")},
}


def _strings(value: Any) -> Any:
    return value if value is UNKNOWN else tuple(sorted(v for v in value if isinstance(v, str))) \
        if isinstance(value, list) else None


def _first(value: Any) -> Any:
    return value if value is UNKNOWN else value[0] if isinstance(value, list) and value else None


def _cidrs(text: Any) -> Any:
    return text if text is UNKNOWN or text is None else tuple(c for c in text.split(",") if c)


def aspects_of(side: Side, fallback: Optional[dict[Aspect, Any]] = None) -> dict[Aspect, Any]:
    """The aspects this side of the plan shows. A value known only after apply is the description's (`fallback`,
    the head's: what the plan will apply); without one the aspect is left out."""
    readers = dict(ROUTE_READERS)
    if _settled(readers[Aspect.FAN_OUT](side), fallback, Aspect.FAN_OUT) is True:
        readers.update(FAN_OUT_READERS)
    authorization = _settled(_authorization(side), fallback, Aspect.AUTHORIZATION)
    if isinstance(authorization, RouteAuthorization):
        readers.update(AUTHORIZER_READERS.get(authorization.kind, {}))
    reached = _settled(reach_of(side), None, None)
    out: dict[Aspect, Any] = {}
    if isinstance(reached, tuple):
        out[Aspect.SERVICE], out[Aspect.FILTER] = reached
    for aspect, read in readers.items():
        value = _settled(read(side), fallback, aspect)
        if value is not UNKNOWN and (value is not None or aspect in (Aspect.THROTTLING, Aspect.TLS_SERVER_NAME)):
            out[aspect] = value
    for aspect in (Aspect.SERVICE, Aspect.FILTER):
        if aspect not in out and reached is UNKNOWN and fallback and aspect in fallback:
            out[aspect] = fallback[aspect]
    return out


def _settled(value: Any, fallback: Optional[dict[Aspect, Any]], aspect: Optional[Aspect]) -> Any:
    if value is UNKNOWN and fallback is not None and aspect in fallback:
        return fallback[aspect]
    return value
