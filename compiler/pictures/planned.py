"""summarize-plan's picture: the routes a Terraform plan changes, each as the plan says it was and will be.

From `terraform show -json` (already checked by review.planfile.parse_plan), per route id, on each side (`before`,
`after`): the route's key, authorization type, authorizer and scopes (aws_apigatewayv2_route); its integration's
type and timeout (aws_apigatewayv2_integration, named like the route: core.names.integration); what it reaches:
a proxy's integration URI `<service ARN>?<filter>`, or a fan-out function's CLOUD_MAP_SERVICE and FILTER
(handlers/settings.py). A Cloud Map service or an authorizer is named by its address in the plan (the routes.yaml
key) when the plan holds it, by the reference in the configuration when its id is known only after apply, else by
its id. Everything here comes from a file and is untrusted: a value of an unexpected shape is treated as absent.

Once the reach core is on main, review reads each route's description back from the plan (review.planned); this
reader is then to be replaced by those descriptions, so that the picture and the table cannot disagree.
"""

from __future__ import annotations

import json
from typing import Any, Optional, Sequence
from urllib.parse import parse_qsl

from ..core import names
from ..language.model import AttributeFilter
from .graph import Graph, Mark, RoutePath, of_change

UNKNOWN = "(not known from the plan)"  # absent from it, or known only after apply


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _text(values: dict, key: str) -> Optional[str]:
    value = values.get(key)
    return value if isinstance(value, str) else None


class _Plan:
    def __init__(self, plan: Any) -> None:
        self.sides: dict[str, tuple[dict, dict]] = {}  # address -> (before, after)
        self.by_id: dict[str, str] = {}  # a resource's id (either side) -> the name in its address
        self.services: dict[str, str] = {}  # a Cloud Map service's name (either side) -> the name in its address
        for item in _list(_dict(plan).get("resource_changes")):
            change = _dict(_dict(item).get("change"))
            address = _dict(item).get("address")
            if not isinstance(address, str):
                continue
            self.sides[address] = (_dict(change.get("before")), _dict(change.get("after")))
            for values in self.sides[address]:
                if _text(values, "id"):
                    self.by_id[values["id"]] = address.split(".", 1)[-1]
                if address.startswith("aws_service_discovery_service.") and _text(values, "name"):
                    self.services[values["name"]] = address.split(".", 1)[-1]
        resources = _list(_dict(_dict(_dict(plan).get("configuration")).get("root_module")).get("resources"))
        self.expressions = {r["address"]: _dict(r.get("expressions")) for r in resources
                            if isinstance(r, dict) and isinstance(r.get("address"), str)}

    def values(self, type_: str, name: str, side: int) -> dict:
        """A resource's values on one side; a resource the plan leaves out is unchanged: the other side's."""
        found = self.sides.get(names.address(type_, name))
        return found[side] if found else {}

    def has(self, type_: str, name: str) -> bool:
        return names.address(type_, name) in self.sides

    def referenced(self, address: str, argument: str, type_: str) -> Optional[str]:
        """The name of the `type_` resource an argument's configured expression refers to."""
        for reference in _list(_dict(self.expressions.get(address, {}).get(argument)).get("references")):
            if isinstance(reference, str) and reference.startswith(type_ + "."):
                return reference.split(".")[1]
        return None

    def configured(self, address: str, argument: str) -> Optional[str]:
        value = _dict(self.expressions.get(address, {}).get(argument)).get("constant_value")
        return value if isinstance(value, str) else None


def plan_graph(plan: Any, changes: Sequence[tuple[str, str]], title: str = "") -> Graph:
    """The picture of the routes summarize-plan found changing: (route id, added | removed | changed)."""
    read = _Plan(plan)
    marks = {route_id: Mark(kind) for route_id, kind in changes}
    before = [p for p in (_path(read, route_id, 0) for route_id in marks) if p is not None]
    after = [p for p in (_path(read, route_id, 1) for route_id in marks) if p is not None]
    return of_change(before, after, marks, title)


def _path(read: _Plan, route_id: str, side: int) -> Optional[RoutePath]:
    route = read.values("aws_apigatewayv2_route", route_id, side)
    if not route:
        return None
    integration_name = names.integration(route_id)
    integration = read.values("aws_apigatewayv2_integration", integration_name, side)
    kind = _text(integration, "integration_type")
    fan_out = kind == "AWS_PROXY" or (kind is None and read.has("aws_lambda_function", names.fan_out(route_id)))
    if fan_out:
        service, filter_ = _fan_out_reach(read.values("aws_lambda_function", names.fan_out(route_id), side))
        service = read.services.get(service, service)  # by its address, as a proxy's is
    else:
        service, filter_ = _proxy_reach(read, names.address("aws_apigatewayv2_integration", integration_name),
                                        _text(integration, "integration_uri"))
    timeout = integration.get("timeout_milliseconds")
    lines = (f"timeout {timeout} ms",) if isinstance(timeout, int) and not isinstance(timeout, bool) else ()
    title, scopes = _authorization(read, route_id, route)
    return RoutePath(route_id, _text(route, "route_key") or UNKNOWN, title, scopes, fan_out,
                     ("a function calls every instance",) + lines if fan_out else lines, service, service,
                     filter_, True)


def _authorization(read: _Plan, route_id: str, route: dict) -> tuple[str, tuple[str, ...]]:
    kind = _text(route, "authorization_type") or UNKNOWN
    scopes = [s for s in _list(route.get("authorization_scopes")) if isinstance(s, str)]
    lines = (f"scopes {', '.join(scopes)}",) if scopes else ()
    if kind in ("NONE", "AWS_IAM"):
        return {"NONE": "no authorization", "AWS_IAM": "IAM (SigV4)"}[kind], lines
    authorizer_id = _text(route, "authorizer_id")
    authorizer = read.by_id.get(authorizer_id or "") or read.referenced(
        names.address("aws_apigatewayv2_route", route_id), "authorizer_id", "aws_apigatewayv2_authorizer") \
        or authorizer_id or UNKNOWN
    return f"{kind.lower()} {authorizer}", lines


def _proxy_reach(read: _Plan, address: str, uri: Optional[str]) -> tuple[str, AttributeFilter]:
    """(service, filter) of a Cloud Map integration URI; of its configured template when the URI is not in the plan
    (known after apply, or the integration is unchanged and left out)."""
    if uri is None:
        template = read.configured(address, "integration_uri") or ""
        service = read.referenced(address, "integration_uri", "aws_service_discovery_service") or UNKNOWN
        query = template.partition("?")[2].replace("$${", "${").replace("%%{", "%{")
        return service, AttributeFilter.of(dict(parse_qsl(query, keep_blank_values=True)))
    arn, _, query = (uri or "").partition("?")
    service_id = arn.rsplit("/", 1)[-1] if arn else ""
    return (read.by_id.get(service_id) or service_id or UNKNOWN,
            AttributeFilter.of(dict(parse_qsl(query, keep_blank_values=True))))


def _fan_out_reach(function: dict) -> tuple[str, AttributeFilter]:
    environment = _list(function.get("environment"))
    block = _dict(environment[0]) if environment else {}
    variables = _dict(block.get("variables"))
    try:
        pairs = json.loads(_text(variables, "FILTER") or "{}")
    except ValueError:
        pairs = {}
    pairs = {k: v for k, v in pairs.items() if isinstance(v, str)} if isinstance(pairs, dict) else {}
    return _text(variables, "CLOUD_MAP_SERVICE") or UNKNOWN, AttributeFilter.of(pairs)
