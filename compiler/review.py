"""Stage 8 (review): route-level summaries of a change, for pull requests. Plain Python; never imports jsii.

`diff` compares two routes.yaml versions through their resource plans and predicts what Terraform will do from
the provider's replacement rules (REPLACED_BY); `summarize-plan` reads what Terraform says it will do
(`terraform show -json`). Both produce a Summary, rendered as Markdown (a PR comment) or text (a terminal).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any, Iterable
from urllib.parse import parse_qsl

from . import compile_text
from .diagnostics import has_errors, render_text
from .model import Model, Route
from .plan import ResourcePlan, build, group_integrations, resolved

# Arguments whose change makes Terraform replace the resource (ForceNew in hashicorp/aws 5.x; AWS-FACTS section 4).
REPLACED_BY: dict[str, tuple[str, ...]] = {
    "aws_apigatewayv2_api": ("protocol_type",),
    "aws_apigatewayv2_stage": ("api_id", "name"),
    "aws_apigatewayv2_route": ("api_id",),
    "aws_apigatewayv2_integration": ("api_id", "integration_type", "integration_subtype"),
    "aws_apigatewayv2_vpc_link": ("subnet_ids", "security_group_ids"),
    "aws_apigatewayv2_authorizer": ("api_id",),
    "aws_apigatewayv2_domain_name": ("domain_name",),
    "aws_apigatewayv2_api_mapping": ("api_id", "domain_name"),
    "aws_service_discovery_http_namespace": ("name", "description"),
    "aws_service_discovery_private_dns_namespace": ("name", "vpc", "description"),
    "aws_service_discovery_public_dns_namespace": ("name", "description"),
    "aws_service_discovery_service": ("name", "namespace_id", "type", "dns_config.namespace_id",
                                      "dns_config.routing_policy", "dns_config.dns_records.type",
                                      "health_check_config.type", "health_check_custom_config"),
    "aws_service_discovery_instance": ("instance_id", "service_id"),
    "aws_cloudwatch_log_group": ("name", "kms_key_id"),
    "aws_lambda_permission": ("statement_id", "action", "function_name", "principal", "source_arn"),
}

_NAMESPACE = "new namespace: every Cloud Map service in it is replaced too, with all that follows from that"
CONSEQUENCES: dict[str, str] = {
    "aws_service_discovery_service": "new Cloud Map service ID and ARN: every integration targeting it is rewritten, "
    "instances registered in the old service are gone, and ECS services registered to it must be recreated "
    "(ECS sets service discovery only when a service is created)",
    "aws_service_discovery_http_namespace": _NAMESPACE,
    "aws_service_discovery_private_dns_namespace": _NAMESPACE,
    "aws_service_discovery_public_dns_namespace": _NAMESPACE,
    "aws_apigatewayv2_vpc_link": "VPC link rebuilt: minutes in PENDING while API Gateway creates network "
    "interfaces; private integrations fail until the new link is AVAILABLE",
    "aws_apigatewayv2_stage": "stage recreated: its invoke URL changes and clients of the old stage path break",
    "aws_apigatewayv2_api": "new HTTP API: new id and endpoint URL",
    "aws_cloudwatch_log_group": "log group recreated: the old group and the access logs in it are deleted",
    "aws_service_discovery_instance": "instance deregistered and registered again: a brief gap in its traffic",
    "aws_apigatewayv2_domain_name": "custom domain recreated: DNS must point at its new regional domain name",
    "aws_apigatewayv2_integration": "integration recreated",
}
DELETE_CONSEQUENCES = {
    "aws_cloudwatch_log_group": "the log group and the access logs in it are deleted",
    "aws_service_discovery_service": "the Cloud Map service is deleted: ECS services registered to it lose discovery",
}


@dataclass
class ResourceChange:
    address: str
    action: str  # create | update | replace | delete
    attributes: tuple[str, ...] = ()  # what changed (or what forces the replacement)
    consequence: str = ""

    @property
    def type(self) -> str:
        return self.address.split(".")[0]


@dataclass
class RouteChange:
    route: str  # route key (after the change, or before for a removed route)
    route_id: str
    kind: str  # added | removed | changed
    details: list[str] = field(default_factory=list)
    reach_changed: bool = False
    resources: list[ResourceChange] = field(default_factory=list)


@dataclass
class Summary:
    title: str
    routes: list[RouteChange]
    resources: list[ResourceChange]

    @property
    def replacements(self) -> list[ResourceChange]:
        return [c for c in self.resources if c.action == "replace" or (c.action == "delete" and c.consequence)]

    @property
    def unchanged(self) -> bool:
        return not self.routes and not self.resources


# --- diff: two routes.yaml versions ---------------------------------------------------------------------

def read_version(spec: str) -> tuple[str | None, str]:
    """A file path, or a git revision of one (`origin/main:routes.yaml`). Returns (text or None, error)."""
    if os.path.exists(spec):
        with open(spec, encoding="utf-8", errors="replace") as handle:
            return handle.read(), ""
    if ":" in spec:
        result = subprocess.run(["git", "show", spec], capture_output=True, text=True)
        if result.returncode == 0:
            return result.stdout, ""
        return None, f"{spec}: not a file, and git cannot show it: {result.stderr.strip()}"
    return None, f"{spec}: no such file"


def diff_models(base: Model, head: Model, title: str) -> Summary:
    before, after = build(base), build(head)
    resources = diff_plans(before, after)
    by_address = {c.address: c for c in resources}
    base_routes, head_routes = {r.id: r for r in base.routes}, {r.id: r for r in head.routes}
    base_groups, head_groups = group_integrations(base), group_integrations(head)
    routes = []
    for route_id in sorted(base_routes.keys() | head_routes.keys()):
        old, new = base_routes.get(route_id), head_routes.get(route_id)
        touched = [f"aws_apigatewayv2_route.{route_id}"]
        if old:
            touched.append(f"aws_apigatewayv2_integration.{base_groups[route_id].name}")
        if new:
            touched.append(f"aws_apigatewayv2_integration.{head_groups[route_id].name}")
        service = (new or old).service
        service_block = f"aws_service_discovery_service.{(head if new else base).service(service).logical_id}"
        touched.append(service_block)
        if old is None:
            change = RouteChange(new.key.text, route_id, "added", [f"reaches {_reach(new)}"], True)
        elif new is None:
            change = RouteChange(old.key.text, route_id, "removed", [f"reached {_reach(old)}"], True)
        else:
            details = _route_details(old, new)
            if old.throttling != new.throttling:
                touched.append("aws_apigatewayv2_stage.stage")
            replaced_service = by_address.get(service_block, ResourceChange("", "")).action == "replace"
            if replaced_service:
                details.append(f"service {service!r} is replaced: new Cloud Map service ARN")
            if not details:
                continue
            change = RouteChange(new.key.text, route_id, "changed", details,
                                 old.service != new.service or old.filter != new.filter or replaced_service)
        change.resources = [by_address[a] for a in dict.fromkeys(touched) if a in by_address]
        routes.append(change)
    return Summary(title, routes, resources)


def _reach(route: Route) -> str:
    return f"{route.service} ({route.filter})"


def _route_details(old: Route, new: Route) -> list[str]:
    pairs = [("route key", old.key.text, new.key.text), ("service", old.service, new.service),
             ("filter", str(old.filter), str(new.filter)),
             ("authorization", _auth(old), _auth(new)),
             ("throttling", _throttle(old), _throttle(new)),
             ("timeout", _ms(old.options.timeout_ms), _ms(new.options.timeout_ms)),
             ("TLS server name", old.options.tls_server_name or "none", new.options.tls_server_name or "none"),
             ("stage prefix stripped", str(old.options.strip_stage).lower(), str(new.options.strip_stage).lower())]
    return [f"{name}: {a} -> {b}" for name, a, b in pairs if a != b]


def _auth(route: Route) -> str:
    scopes = f" scopes {', '.join(route.scopes)}" if route.scopes else ""
    return route.authorization + scopes + (" (public)" if route.public else "")


def _throttle(route: Route) -> str:
    t = route.throttling
    return f"burst {t.burst_limit}, rate {t.rate_limit:g}/s" if t else "stage default"


def _ms(value: int | None) -> str:
    return f"{value} ms" if value else "default (30000 ms)"


def diff_plans(before: ResourcePlan, after: ResourcePlan) -> list[ResourceChange]:
    old = {b.address: resolved(b.args) for b in before.blocks if not b.type.startswith("data_")}
    new = {b.address: resolved(b.args) for b in after.blocks if not b.type.startswith("data_")}
    changes: dict[str, ResourceChange] = {}
    for address in sorted(old.keys() | new.keys()):
        kind = address.split(".")[0]
        if address not in old:
            changes[address] = ResourceChange(address, "create")
        elif address not in new:
            changes[address] = ResourceChange(address, "delete", consequence=DELETE_CONSEQUENCES.get(kind, ""))
        else:
            changed = tuple(sorted(_changed_paths(old[address], new[address])))
            if changed:
                forcing = tuple(p for p in changed if _forces_replacement(kind, p))
                changes[address] = (ResourceChange(address, "replace", forcing, CONSEQUENCES.get(kind, ""))
                                    if forcing else ResourceChange(address, "update", changed))
    _cascade(changes, new)
    return sorted(changes.values(), key=lambda c: c.address)


def _cascade(changes: dict[str, ResourceChange], args: dict[str, Any]) -> None:
    """A replaced resource gets new ids: whatever refers to it updates, or is replaced if that argument forces it."""
    pending = [c.address for c in changes.values() if c.action == "replace"]
    while pending:
        replaced = pending.pop()
        needle = "${" + replaced + "."
        for address, values in args.items():
            refs = tuple(p for p, v in _leaves(values) if isinstance(v, str) and needle in v)
            current = changes.get(address)
            if not refs or (current and current.action in ("replace", "create")):
                continue
            kind = address.split(".")[0]
            forcing = tuple(p for p in refs if _forces_replacement(kind, p))
            if forcing:
                changes[address] = ResourceChange(address, "replace", forcing, CONSEQUENCES.get(kind, ""))
                pending.append(address)
            else:
                attributes = tuple(sorted(set(current.attributes if current else ()) | set(refs)))
                changes[address] = ResourceChange(address, "update", attributes)


def _leaves(value: Any, path: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v, path)
    else:
        yield path, value


def _changed_paths(old: Any, new: Any, path: str = "") -> set[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out: set[str] = set()
        for key in old.keys() | new.keys():
            child = f"{path}.{key}" if path else key
            if key not in old or key not in new:
                out.add(child)
            else:
                out |= _changed_paths(old[key], new[key], child)
        return out
    if isinstance(old, list) and isinstance(new, list) and old and new and all(isinstance(v, dict) for v in old + new):
        # Blocks: compare element by element; an added or removed element changes every argument it has
        # (so a new DNS record's `type`, which forces replacement, is seen as changed).
        out = set()
        for a, b in zip(old, new):  # noqa: B905 (lengths differ on purpose: the rest is handled below)
            out |= _changed_paths(a, b, path)
        for extra in old[len(new):] + new[len(old):]:
            out |= {p for p, _ in _leaves(extra, path)}
        return out
    return set() if old == new else {path}


def _forces_replacement(kind: str, path: str) -> bool:
    return any(path == p or path.startswith(p + ".") for p in REPLACED_BY.get(kind, ()))


# --- summarize-plan: what Terraform says it will do ------------------------------------------------------

def summarize_plan(plan: dict, title: str) -> Summary:
    resources, routes = [], []
    integrations: dict[str, tuple[dict, dict]] = {}
    for change in plan.get("resource_changes", []):
        actions = change["change"]["actions"]
        if actions == ["no-op"] or actions == ["read"] or change.get("mode") == "data":
            continue
        action = {("create",): "create", ("delete",): "delete", ("update",): "update"}.get(tuple(actions), "replace")
        before, after = change["change"].get("before") or {}, change["change"].get("after") or {}
        unknown = change["change"].get("after_unknown") or {}
        kind = change["type"]
        if action == "replace":
            paths = tuple(".".join(str(p) for p in path if not isinstance(p, int)) for path in change.get("replace_paths", []))
            resource = ResourceChange(change["address"], "replace", paths, CONSEQUENCES.get(kind, ""))
        elif action == "update":
            resource = ResourceChange(change["address"], "update", tuple(sorted(
                k for k in set(before) | set(after) | set(unknown)
                if k not in ("id", "tags_all") and (before.get(k) != after.get(k) or unknown.get(k) is True))))
        else:
            resource = ResourceChange(change["address"], action,
                                      consequence=DELETE_CONSEQUENCES.get(kind, "") if action == "delete" else "")
        resources.append(resource)
        if kind == "aws_apigatewayv2_integration":
            integrations[before.get("id") or change["name"]] = (before, after)
    changed_routes = {r.address: r for r in resources if r.type == "aws_apigatewayv2_route"}
    for change in plan.get("resource_changes", []):
        if change["type"] != "aws_apigatewayv2_route":
            continue
        before, after = change["change"].get("before") or {}, change["change"].get("after") or {}
        key = after.get("route_key") or before.get("route_key")
        details = []
        resource = changed_routes.get(change["address"])
        if resource and resource.action in ("create", "delete"):
            details.append({"create": "added", "delete": "removed"}[resource.action])
        if before.get("route_key") and after.get("route_key") and before["route_key"] != after["route_key"]:
            details.append(f"route key: {before['route_key']} -> {after['route_key']}")
        if before.get("authorization_type") and after.get("authorization_type") and \
                before["authorization_type"] != after["authorization_type"]:
            details.append(f"authorization: {before['authorization_type']} -> {after['authorization_type']}")
        touched = [resource] if resource else []
        reach_changed = bool(resource and resource.action in ("create", "delete"))
        integration_id = (before.get("target") or "").removeprefix("integrations/")
        if integration_id in integrations:
            old, new = integrations[integration_id]
            old_uri, new_uri = old.get("integration_uri"), new.get("integration_uri")
            if old_uri != new_uri:
                details.append(f"reach: {_uri_reach(old_uri)} -> {_uri_reach(new_uri)}")
                reach_changed = True
            integration_address = _address_of(plan, integration_id)
            touched += [r for r in resources if r.address == integration_address]
        if before.get("target") != after.get("target") and after.get("target") is not None and before.get("target"):
            details.append("now targets another integration")
            reach_changed = True
        if details:
            routes.append(RouteChange(key or change["name"], change["name"],
                                      "added" if "added" in details else "removed" if "removed" in details else "changed",
                                      [d for d in details if d not in ("added", "removed")], reach_changed, touched))
    return Summary(title, routes, sorted(resources, key=lambda c: c.address))


def _address_of(plan: dict, resource_id: str) -> str:
    for change in plan.get("resource_changes", []):
        if (change["change"].get("before") or {}).get("id") == resource_id:
            return change["address"]
    return ""


def _uri_reach(uri: str | None) -> str:
    if uri is None:
        return "(known after apply)"
    arn, _, query = uri.partition("?")
    filters = ", ".join(f"{k}={v}" for k, v in parse_qsl(query)) or "all instances"
    return f"{arn.rsplit('/', 1)[-1]} ({filters})"


# --- rendering --------------------------------------------------------------------------------------------

def render(summary: Summary, fmt: str) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("compiler", "templates"), trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    return env.get_template(f"summary.{'md' if fmt == 'markdown' else 'txt'}.j2").render(s=summary)


def run_diff(base_spec: str, head_spec: str, fmt: str) -> int:
    models = []
    for spec in (base_spec, head_spec):
        text, error = read_version(spec)
        if text is None:
            print(f"main.py: error: {error}", file=sys.stderr)
            return 2
        model, diagnostics = compile_text(text, spec)
        if has_errors(diagnostics):
            print(render_text(diagnostics), file=sys.stderr)
            print(f"{spec}: invalid; no summary", file=sys.stderr)
            return 1
        models.append(model)
    sys.stdout.write(render(diff_models(models[0], models[1], f"{base_spec} -> {head_spec}"), fmt))
    return 0


def run_summarize_plan(path: str, fmt: str) -> int:
    try:
        with open(path, encoding="utf-8") as handle:
            plan = json.load(handle)
    except (OSError, ValueError) as exc:
        print(f"main.py: error: {path}: not a readable `terraform show -json` file: {exc}", file=sys.stderr)
        return 1
    if not isinstance(plan, dict) or "format_version" not in plan:
        print(f"main.py: error: {path}: not `terraform show -json` output (no format_version)", file=sys.stderr)
        return 1
    sys.stdout.write(render(summarize_plan(plan, f"terraform plan ({os.path.basename(path)})"), fmt))
    return 0
