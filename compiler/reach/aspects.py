"""A description as the list of things a review compares: each aspect of a route with its value and its text.

`diff` compares two descriptions aspect by aspect, and `summarize-plan` reads the same aspects out of Terraform's
plan, so both print the same line for the same change (`timeout: 5000 ms -> 2000 ms`). Every route option and
authorizer option is declared once (options.py) with the aspect it lands on; each aspect says what it changes.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Callable

from ..language.model import DEFAULT_TIMEOUT_MS, Throttling
from .description import AuthKind, RouteAuthorization, RouteReach, TargetKind


class Effect(Enum):
    REACH = "reach"  # which instances get requests (a review marks the route "reach changes")
    TARGET = "target"  # how they are called: timeouts, TLS, path, headers, concurrency, body size
    AUTHORIZATION = "authorization"  # who may call
    ROUTE = "route"  # which requests the route takes, and how many (throttling)
    DECLARATION = "declaration"  # nothing in AWS: a statement for the checks (`public`)
    ADDRESS = "address"  # only the Terraform address (a route's `id`)
    # Anything the provider's argument does: `overrides:` are not modelled, so a review lists each changed argument
    # on its owner's row (review.overrides), with the replacement it forces, instead of an aspect's before -> after.
    RAW = "raw Terraform arguments"


class Aspect(Enum):
    """In the order a review lists them."""

    ROUTE_KEY = ("route key", Effect.ROUTE)
    SERVICE = ("service", Effect.REACH)
    FILTER = ("filter", Effect.REACH)
    AUTHORIZATION = ("authorization", Effect.AUTHORIZATION)
    THROTTLING = ("throttling", Effect.ROUTE)
    TIMEOUT = ("timeout", Effect.TARGET)
    TLS_SERVER_NAME = ("TLS server name", Effect.TARGET)
    STAGE_STRIPPED = ("stage prefix stripped", Effect.TARGET)
    FAN_OUT = ("fan-out", Effect.REACH)
    INCLUDE_UNHEALTHY = ("include unhealthy", Effect.REACH)
    PER_INSTANCE_TIMEOUT = ("per-instance timeout", Effect.TARGET)
    CONCURRENCY = ("concurrency", Effect.TARGET)
    FORWARD_HEADERS = ("forwarded headers", Effect.TARGET)
    MAX_BODY_BYTES = ("max body bytes", Effect.TARGET)
    JWT_ISSUER = ("JWT issuer", Effect.AUTHORIZATION)
    JWT_AUDIENCES = ("JWT audiences", Effect.AUTHORIZATION)
    IDENTITY_SOURCE = ("identity source", Effect.AUTHORIZATION)
    AUTHORIZER_FUNCTION = ("authorizer function", Effect.AUTHORIZATION)
    ALLOWED_CIDRS = ("allow-list CIDRs", Effect.AUTHORIZATION)
    AUTHORIZER_CACHE = ("authorizer cache TTL", Effect.AUTHORIZATION)
    SIMPLE_RESPONSES = ("simple responses", Effect.AUTHORIZATION)
    PUBLIC = ("declared public", Effect.DECLARATION)

    def __init__(self, label: str, effect: Effect) -> None:
        self.label, self.effect = label, effect

    def text(self, value: Any) -> str:
        return _TEXT.get(self, _plain)(value)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ", ".join(map(str, value)) or "none"
    return "none" if value is None else str(value)


def _ms(value: int) -> str:
    return f"default ({DEFAULT_TIMEOUT_MS} ms)" if value == DEFAULT_TIMEOUT_MS else f"{value} ms"


def _throttle(value: Throttling | None) -> str:
    return f"burst {value.burst_limit}, rate {value.rate_limit:g}/s" if value else "stage default"


def authorization_value(kind: AuthKind, authorizer: str | None, scopes: tuple[str, ...]) -> RouteAuthorization:
    """The AUTHORIZATION aspect's value: what AWS holds of a route's authorization (summarize-plan builds it from
    the plan, so its parts only)."""
    return RouteAuthorization(kind, authorizer, scopes=tuple(scopes))


_TEXT: dict[Aspect, Callable[[Any], str]] = {
    Aspect.TIMEOUT: _ms, Aspect.PER_INSTANCE_TIMEOUT: lambda v: f"{v} ms", Aspect.THROTTLING: _throttle,
    Aspect.FAN_OUT: lambda on: "on (every matching instance, each request)" if on else "off (one instance per request)",
    Aspect.MAX_BODY_BYTES: lambda v: f"{v} bytes", Aspect.AUTHORIZER_CACHE: lambda v: f"{v} s",
    Aspect.FILTER: str, Aspect.AUTHORIZATION: str,
}


def values(reach: RouteReach) -> dict[Aspect, Any]:
    """Every aspect that applies to the route, with its value (fan-out settings for a fan-out route only, an
    authorizer's settings for the kinds that have them)."""
    target, auth = reach.target, reach.authorization
    out: dict[Aspect, Any] = {
        Aspect.ROUTE_KEY: reach.key.text, Aspect.SERVICE: target.service.key, Aspect.FILTER: target.filter,
        Aspect.AUTHORIZATION: authorization_value(auth.kind, auth.authorizer, auth.scopes),
        Aspect.THROTTLING: reach.throttling, Aspect.TIMEOUT: target.timeout_ms,
        Aspect.TLS_SERVER_NAME: target.tls_server_name, Aspect.STAGE_STRIPPED: target.strip_stage,
        Aspect.FAN_OUT: target.kind is TargetKind.FAN_OUT, Aspect.PUBLIC: auth.public}
    if target.fan_out is not None:
        spec = target.fan_out
        out.update({Aspect.INCLUDE_UNHEALTHY: spec.include_unhealthy,
                    Aspect.PER_INSTANCE_TIMEOUT: spec.per_instance_timeout_ms, Aspect.CONCURRENCY: spec.concurrency,
                    Aspect.FORWARD_HEADERS: tuple(sorted(spec.forward_headers)),
                    Aspect.MAX_BODY_BYTES: spec.max_body_bytes})
    out.update(authorizer_values(auth))
    return out


def authorizer_values(auth: RouteAuthorization) -> dict[Aspect, Any]:
    if auth.kind is AuthKind.JWT:
        return {Aspect.JWT_ISSUER: auth.issuer, Aspect.JWT_AUDIENCES: auth.audiences,
                Aspect.IDENTITY_SOURCE: str(auth.identity)}
    if auth.kind is AuthKind.LAMBDA:
        return {Aspect.AUTHORIZER_FUNCTION: auth.function_arn, Aspect.IDENTITY_SOURCE: str(auth.identity),
                Aspect.AUTHORIZER_CACHE: auth.result_ttl_seconds, Aspect.SIMPLE_RESPONSES: auth.simple_responses}
    if auth.kind is AuthKind.ALLOWLIST:  # its identity source is fixed: the caller's address
        return {Aspect.ALLOWED_CIDRS: auth.cidrs, Aspect.AUTHORIZER_CACHE: auth.result_ttl_seconds}
    return {}


def changed(before: dict[Aspect, Any], after: dict[Aspect, Any]) -> list[tuple[Aspect, str, str]]:
    """(aspect, text before, text after) for each aspect both sides have and whose value differs, in review
    order. Two values that print alike (an authorizer key whose type changed) are told apart by their kind."""
    out = []
    for aspect in Aspect:
        if aspect not in before or aspect not in after or before[aspect] == after[aspect]:
            continue
        old, new = aspect.text(before[aspect]), aspect.text(after[aspect])
        if old == new and aspect is Aspect.AUTHORIZATION:
            old, new = f"{old} ({before[aspect].kind.value})", f"{new} ({after[aspect].kind.value})"
        out.append((aspect, old, new))
    return out


def reach_changes(aspects: list[tuple[Aspect, str, str]]) -> bool:
    return any(aspect.effect is Effect.REACH for aspect, _, _ in aspects)

