"""This tool's own functions, read back: a fan-out route's options and an allow-list's CIDRs, from what AWS holds.

A function is this tool's when the API carries the stack tag (read.Setup.is_stack) and the function's name is the
one compiler.core.names.function_name gives it: `<api>-fanout-<route id>` or `<api>-allowlist-<authorizer key>`.
Its settings are read with the handlers' own parser (handlers/settings.py, `Settings.from_environ`: the same
description of the environment the stack writes), so what is written back is what the function runs with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

from ..core import names
from ..handlers.settings import ALLOWED_CIDRS, Settings
from ..language.model import FanOut
from .read import FAN_OUT, Function, Setup

HTTPS = 443
ROUTE_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")  # routes.yaml's route `id` (language.schema.LOGICAL_ID)


@dataclass(frozen=True)
class FanOutRoute:
    """What routes.yaml says of a fan-out route, as its function runs it."""

    route_id: str  # the id the function's name carries
    settings: Settings


def route_id(api_name: str, route_key: str, function_name: str) -> Optional[str]:
    """The route id a fan-out function's name was made from: the id derived from the route key when that gives
    the name (no `id:` needed), else the name's tail when that does; None when neither gives it."""
    method, _, path = route_key.partition(" ")
    derived = names.route("", "") if route_key == "$default" else names.route(method, path)
    tail = function_name.removeprefix(names.function_name(api_name, FAN_OUT, ""))
    for candidate in (derived, tail):
        if ROUTE_ID.fullmatch(candidate) and names.function_name(api_name, FAN_OUT, candidate) == function_name:
            return candidate
    return None


def fan_out_route(api_name: str, route_key: str, function: Function) -> tuple[Optional[FanOutRoute], str]:
    """The fan-out route a function serves, or (None, why not)."""
    if function.problem:
        return None, function.problem
    ident = route_id(api_name, route_key, function.name)
    if ident is None:
        return None, (f"function {function.name} is not named as this tool names the fan-out function of a route "
                      f"(`{names.function_name(api_name, FAN_OUT, '<route id>')}`)")
    try:
        settings = Settings.from_environ(function.environment)
    except ValueError as exc:
        return None, f"function {function.name}'s environment is not a fan-out's: {exc}"
    if function.service_id is None:
        return None, f"function {function.name}: the Cloud Map service it discovers was not found"
    return FanOutRoute(ident, settings), ""


def fan_out_options(settings: Settings) -> dict[str, Any]:
    """The `fan_out:` mapping: the options whose value is not routes.yaml's default (language.model.FanOut)."""
    default = FanOut()
    headers = sorted(settings.forward_headers) if settings.forward_headers is not None else None
    options: dict[str, Any] = {
        "per_instance_timeout_ms": settings.per_instance_timeout_ms, "concurrency": settings.concurrency,
        "include_unhealthy": settings.include_unhealthy, "forward_headers": headers,
        "max_body_bytes": settings.max_body_bytes}
    defaults = {"per_instance_timeout_ms": default.per_instance_timeout_ms, "concurrency": default.concurrency,
                "include_unhealthy": default.include_unhealthy, "forward_headers": sorted(default.forward_headers),
                "max_body_bytes": default.max_body_bytes}
    return {k: v for k, v in options.items() if v != defaults[k]}


def allowlist_cidrs(api_name: str, key: str, function: Function) -> Optional[list[str]]:
    """An allow-list authorizer's CIDRs (ALLOWED_CIDRS), when the function is the one this tool makes for `key`."""
    if function.problem or names.function_name(api_name, "allowlist", key) != function.name:
        return None
    cidrs = [c for c in function.environment.get(ALLOWED_CIDRS, "").split(",") if c]
    return cidrs or None


def cloud_map_access(setup: Setup) -> str:
    """How the fan-out functions reach Cloud Map: an endpoint this stack made (its security group carries the name
    the plan gives it), a NAT gateway (HTTPS egress anywhere), or an endpoint that was there already."""
    endpoint_group = names.function_name(setup.api.get("Name", ""), "cloudmap", "endpoint")
    for endpoint in setup.endpoints:
        if any(setup.groups.get(g["GroupId"], {}).get("GroupName") == endpoint_group
               for g in endpoint.get("Groups") or []):
            return "create_endpoint"
    fan_out_groups = {g for f in setup.functions.values() if f.kind == FAN_OUT for g in f.group_ids}
    if any(r.get("IsEgress") and r.get("GroupId") in fan_out_groups and r.get("FromPort") == HTTPS
           and r.get("CidrIpv4") == "0.0.0.0/0" for r in setup.rules):
        return "nat"
    return "existing_endpoint"


def fan_out_vpc(setup: Setup) -> Optional[str]:
    """The VPC the fan-out functions run in: their security groups' VPC."""
    vpcs = sorted({setup.groups[g].get("VpcId") or "" for f in setup.functions.values() if f.kind == FAN_OUT
                   for g in f.group_ids if g in setup.groups} - {""})
    return vpcs[0] if len(vpcs) == 1 else None
