"""The `overrides:` rule: each owner's raw Terraform arguments against the pinned provider's schema, and routes.yaml's
own rules for what they say.

Which owner reaches which resource (`OWNERS`): `api.overrides.api` the HTTP API, `api.overrides.stage` its stage,
`vpc_link.overrides` the VPC link, `services.<key>.overrides` the Cloud Map service, `authorizers.<key>.overrides`
the authorizer, `routes[].overrides.route` and `.integration` the route's two resources. The provider's schema
and the catalogue's owned arguments are checked by compiler.terraform.overrides (plain data and a pure function, read
here so that `check` validates overrides without planning). This module adds the language's rules:

- tags obey the rules `api.tags` does (TAG_KEY, TAG_VALUE: `aws:` and `cloudmap-routes:` keys refused), and a
  resource carries at most 50 (the AWS limit per resource), the API's stack tag and `api.tags` included;
- an existing service (`existing_arn`, `existing_id`) has no resource to override (rules.check_services says so).

CDKTF's token markers are refused everywhere in the document, overrides included (rules.check_literal_strings), and
every string reaches AWS as written (plan.terraform_value escapes `${` and `%{`).
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from ..terraform import overrides as provider_overrides
from ..terraform import provider_schema
from .loader import Path
from .schema import TAG_KEY, TAG_VALUE

MAX_TAGS = 50  # per resource: "You can assign a maximum of 50 tags" (AWS tagging; API Gateway and Cloud Map alike)
STACK_TAGS = 1  # the API's `cloudmap-routes:stack` (core.deployed.STACK_TAG)

API, STAGE, VPC_LINK = "aws_apigatewayv2_api", "aws_apigatewayv2_stage", "aws_apigatewayv2_vpc_link"
SERVICE, AUTHORIZER = "aws_service_discovery_service", "aws_apigatewayv2_authorizer"
ROUTE, INTEGRATION = "aws_apigatewayv2_route", "aws_apigatewayv2_integration"


def owners(data: dict) -> Iterator[tuple[Path, str, Any]]:
    """(path of an override in the document, the Terraform type it overrides, the override) for every one written."""
    api = data.get("api") if isinstance(data.get("api"), dict) else {}
    for part, kind in (("api", API), ("stage", STAGE)):
        yield from _one(("api", "overrides", part), kind, (api.get("overrides") or {}).get(part))
    link = data.get("vpc_link") if isinstance(data.get("vpc_link"), dict) else {}
    yield from _one(("vpc_link", "overrides"), VPC_LINK, link.get("overrides"))
    for section, kind in (("services", SERVICE), ("authorizers", AUTHORIZER)):
        for key, entry in (data.get(section) or {}).items():
            if isinstance(entry, dict):
                yield from _one((section, key, "overrides"), kind, entry.get("overrides"))
    for i, route in enumerate(data.get("routes") or []):
        if isinstance(route, dict):
            for part, kind in (("route", ROUTE), ("integration", INTEGRATION)):
                yield from _one(("routes", i, "overrides", part), kind, (route.get("overrides") or {}).get(part))


def _one(path: Path, kind: str, value: Any) -> Iterator[tuple[Path, str, Any]]:
    if value is not None:
        yield path, kind, value


def check_overrides(ctx) -> None:
    """The rule (compiler.language.rules.RULES): every override, every problem, each at its own line."""
    for path, kind, value in owners(ctx.data):
        if kind == SERVICE and _existing(ctx.data["services"][path[1]]):
            continue  # no resource to override: rules.check_services refuses it (E310, MANAGED_ELSEWHERE)
        ctx.problems.extend(provider_overrides.check(kind, value, path, ctx.source))
        taggable = "tags" in provider_schema.of(kind).attributes
        if taggable and isinstance(value, dict) and isinstance(value.get("tags"), dict):
            _check_tags(ctx, path + ("tags",), value["tags"], kind)


def _existing(service: dict) -> bool:
    return "existing_arn" in service or "existing_id" in service


def _check_tags(ctx, path: Path, tags: dict, kind: str) -> None:
    for key, value in tags.items():
        if not re.match(TAG_KEY, key):
            ctx.report(path + (key,), "E204", f"tag key {key!r} is not valid",
                       "1-128 letters, digits, spaces and _ . : / = + - @; `aws:` and `cloudmap-routes:` keys are "
                       "reserved", at_key=True)
        elif isinstance(value, str) and not re.match(TAG_VALUE, value):
            ctx.report(path + (key,), "E204", f"tag value {value!r} is not valid",
                       "0-256 letters, digits, spaces and _ . : / = + - @")
    api_tags = (ctx.data.get("api") or {}).get("tags") or {}
    total = len(set(api_tags) | set(tags)) + (STACK_TAGS if kind == API else 0)
    if total > MAX_TAGS:
        ctx.report(path, "E309", f"{kind} would carry {total} tags (api.tags, these and the tool's own); AWS "
                   f"allows {MAX_TAGS} per resource", "remove some tags", at_key=True)
