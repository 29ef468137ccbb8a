"""What a change of `overrides:` means for a review: per owner (a route, a service, the API, ...), the arguments that
changed and those that make Terraform replace the resource.

The arguments compared are the overrides as routes.yaml gives them (plan.overrides_of); the replacement rules are the
catalogue's, the same ForceNew paths that hold for what the tool emits (a service's `type`, say). `diff` puts each
change on its owner's row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core import names
from ..language.model import Model
from ..terraform import catalogue
from ..terraform.plan import overrides_of

# The owner each overridable type belongs to, as a review names it (routes.yaml's words).
_OWNERS = {"aws_apigatewayv2_api": "api", "aws_apigatewayv2_stage": "api", "aws_apigatewayv2_vpc_link": "vpc_link",
           "aws_service_discovery_service": "service", "aws_apigatewayv2_authorizer": "authorizer",
           "aws_apigatewayv2_route": "route", "aws_apigatewayv2_integration": "route"}


@dataclass(frozen=True)
class OverrideChange:
    kind: str  # api | vpc_link | service | authorizer | route
    key: str  # the service or authorizer key, the route id; "" for the API and the VPC link
    address: str  # the Terraform address of the resource overridden
    paths: tuple[str, ...]  # the argument paths that changed, sorted
    forcing: tuple[str, ...]  # those among them that force a replacement

    @property
    def owner(self) -> str:
        return f"{self.kind} {self.key}".strip()

    def detail(self) -> str:
        text = f"override of {self.address}: {', '.join(self.paths)}"
        return text + (f" (forces replacement: {', '.join(self.forcing)})" if self.forcing else " (in place)")


def override_changes(base: Model, head: Model) -> list[OverrideChange]:
    """Every resource whose override differs between two models, with what changed."""
    before, after = overrides_of(base), overrides_of(head)
    keys = _keys(base) | _keys(head)
    found = []
    for type_, name in sorted(before.keys() | after.keys()):
        paths = tuple(sorted(changed_paths(before.get((type_, name), {}), after.get((type_, name), {}))))
        if not paths:
            continue
        kind = catalogue.of(type_)
        found.append(OverrideChange(_OWNERS[type_], keys.get((type_, name), ""), names.address(type_, name), paths,
                                    tuple(p for p in paths if kind.forces_replacement(p))))
    return found


def _keys(model: Model) -> dict[tuple[str, str], str]:
    """(type, name) -> the routes.yaml key of its owner (service key, authorizer key, route id)."""
    found = {("aws_service_discovery_service", s.logical_id): s.key for s in model.services}
    found.update({("aws_apigatewayv2_authorizer", a.logical_id): a.key for a in model.authorizers})
    for route in model.routes:
        found[("aws_apigatewayv2_route", route.id)] = route.id
        found[("aws_apigatewayv2_integration", names.integration(route.id))] = route.id
    return found


def changed_paths(old: Any, new: Any, path: str = "") -> set[str]:
    """Argument paths (`default_route_settings.detailed_metrics_enabled`) whose values differ; a single block
    written as a list of one compares as the block."""
    old, new = _single(old), _single(new)
    if isinstance(old, dict) and isinstance(new, dict):
        out: set[str] = set()
        for key in old.keys() | new.keys():
            child = f"{path}.{key}" if path else key
            out |= changed_paths(old.get(key), new.get(key), child) if key in old and key in new else {child}
        return out
    return set() if old == new else {path}


def _single(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict) else value
