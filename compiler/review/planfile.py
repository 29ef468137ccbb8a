"""`summarize-plan`: what Terraform says it will do (`terraform show -json`), route by route."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from ..core import names
from ..core.diagnostics import Diagnostic, at_file
from ..core.files import read_capped, unreadable
from ..core.text import visible
from ..terraform import catalogue
from ..terraform.catalogue import is_managed
from .summary import ResourceChange, RouteChange, Summary

PLAN_MAX_BYTES = 32 * 1024 * 1024  # a plan of 300 routes is a few MB; more is not one routes stack
PLAN_MAX_DEPTH = 64  # nesting of a value in before/after; provider schemas nest a handful of levels


class PlanError(ValueError):
    """The JSON is not what `terraform show -json` writes: what is wrong, and where (a JSON path)."""

    def __init__(self, what: str, path: str) -> None:
        super().__init__(f"{what} at {path}")
        self.what, self.path = what, path


@dataclass(frozen=True)
class PlannedChange:
    """One element of a plan's resource_changes, checked: every field has the type the code below relies on."""

    address: str
    mode: str
    type: str
    name: str
    actions: tuple[str, ...]
    before: dict
    after: dict
    unknown: dict
    replace_paths: tuple[tuple[str | int, ...], ...]
    path: str  # where it is in the file, for later errors

    @property
    def action(self) -> str:
        return _ACTIONS.get(self.actions, "/".join(self.actions))


_ACTIONS = {("create",): "create", ("delete",): "delete", ("update",): "update", ("no-op",): "no-op",
            ("read",): "read", ("forget",): "forget", ("delete", "create"): "replace", ("create", "delete"): "replace"}
_JSON_NAMES = {dict: "an object", list: "an array", str: "a string", int: "a number", type(None): "null"}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float):
        return "a number"
    return _JSON_NAMES.get(type(value), type(value).__name__)


def _typed(value: Any, types: tuple[type, ...], path: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, types):  # JSON true/false are never what we read
        raise PlanError(f"expected {' or '.join(_JSON_NAMES[t] for t in types)}, found {_kind(value)}", path)
    return value


def _field(obj: dict, key: str, types: tuple[type, ...], path: str, required: bool = False) -> Any:
    if key not in obj:
        if required:
            raise PlanError(f"missing {key!r}", path)
        return None
    return _typed(obj[key], types, f"{path}.{key}")


def _depth_checked(value: Any, path: str) -> Any:
    """Refuse absurd nesting before anything compares the value (comparisons recurse)."""
    stack = [(value, 0, path)]
    while stack:
        current, depth, where = stack.pop()
        if depth > PLAN_MAX_DEPTH:
            raise PlanError(f"nesting deeper than {PLAN_MAX_DEPTH} levels", where)
        if isinstance(current, dict):
            stack.extend((v, depth + 1, f"{where}.{k}") for k, v in current.items() if isinstance(v, (dict, list)))
        elif isinstance(current, list):
            stack.extend((v, depth + 1, f"{where}[{i}]") for i, v in enumerate(current) if isinstance(v, (dict, list)))
    return value


def parse_plan(plan: Any) -> list[PlannedChange]:
    """The resource changes of `terraform show -json` output, checked; raises PlanError naming what and where."""
    _typed(plan, (dict,), "$")
    version = _field(plan, "format_version", (str,), "$", required=True)
    if version.split(".")[0] != "1":
        raise PlanError(f"format_version {visible(version)!r} is not 1.x", "$.format_version")
    changes = []
    for i, item in enumerate(_field(plan, "resource_changes", (list, type(None)), "$") or []):
        at = f"$.resource_changes[{i}]"
        _typed(item, (dict,), at)
        change = _field(item, "change", (dict,), at, required=True)
        actions = _field(change, "actions", (list,), f"{at}.change", required=True)
        if not actions:
            raise PlanError("no actions", f"{at}.change.actions")
        for j, action in enumerate(actions):
            _typed(action, (str,), f"{at}.change.actions[{j}]")
        replace_paths = []
        for j, steps in enumerate(_field(change, "replace_paths", (list, type(None)), f"{at}.change") or []):
            _typed(steps, (list,), f"{at}.change.replace_paths[{j}]")
            for k, step in enumerate(steps):
                _typed(step, (str, int), f"{at}.change.replace_paths[{j}][{k}]")
            replace_paths.append(tuple(steps))
        values = {}
        for key in ("before", "after", "after_unknown"):
            value = _field(change, key, (dict, type(None)), f"{at}.change") or {}
            values[key] = _depth_checked(value, f"{at}.change.{key}")
        changes.append(PlannedChange(
            address=_field(item, "address", (str,), at, required=True),
            mode=_field(item, "mode", (str, type(None)), at) or "managed",
            type=_field(item, "type", (str,), at, required=True),
            name=_field(item, "name", (str,), at, required=True),
            actions=tuple(actions), before=values["before"], after=values["after"], unknown=values["after_unknown"],
            replace_paths=tuple(replace_paths), path=at))
    return changes


def _string(values: dict, key: str, path: str) -> str | None:
    """values[key] as a string, None when absent or null."""
    return _field(values, key, (str, type(None)), path)


def summarize_plan(plan: Any, title: str) -> Summary:
    """Raises PlanError when `plan` is not `terraform show -json` output.

    Routes, services and integrations are named as routes.yaml names them wherever the plan allows: a route by its
    address (the route id), its integration by the same name (each route has its own, plan.py), and a Cloud Map
    service in a reach by its key, found from the service's address and the ids before and after the change, or,
    for an integration URI known only after apply, from the URI template in the plan's configuration.
    """
    changes = parse_plan(plan)
    resources, routes, unmanaged = [], [], []
    integrations: dict[str, PlannedChange] = {}  # by id before the change, and by address
    for change in changes:
        if change.mode == "data":
            continue
        action = change.action
        if not is_managed(change.type):
            unmanaged.append(ResourceChange(change.address, action))
        if action in ("no-op", "read"):
            continue
        before, after, unknown = change.before, change.after, change.unknown
        if action == "replace":
            paths = tuple(".".join(str(p) for p in path if not isinstance(p, int)) for path in change.replace_paths)
            resource = ResourceChange(change.address, "replace", paths, catalogue.of(change.type).on_replace)
        elif action == "update":
            resource = ResourceChange(change.address, "update", tuple(sorted(
                k for k in set(before) | set(after) | set(unknown)
                if k not in ("id", "tags_all") and (before.get(k) != after.get(k) or unknown.get(k) is True))))
        else:
            consequence = catalogue.of(change.type).on_delete if action == "delete" else ""
            resource = ResourceChange(change.address, action, consequence=consequence)
        resources.append(resource)
        if change.type == "aws_apigatewayv2_integration":
            integrations[_string(before, "id", f"{change.path}.change.before") or change.address] = change
            integrations[change.address] = change
    services = _ServiceNames(changes, _configured_uris(plan))
    by_address = {r.address: r for r in resources}
    planned = {c.address: c for c in changes if c.mode != "data"}
    for change in changes:
        if change.type != "aws_apigatewayv2_route" or change.mode == "data":
            continue
        at = f"{change.path}.change"
        before, after = change.before, change.after
        old_key, new_key = _string(before, "route_key", f"{at}.before"), _string(after, "route_key", f"{at}.after")
        old_auth = _string(before, "authorization_type", f"{at}.before")
        new_auth = _string(after, "authorization_type", f"{at}.after")
        old_target, new_target = _string(before, "target", f"{at}.before"), _string(after, "target", f"{at}.after")
        details = []
        resource = by_address.get(change.address)
        if resource and resource.action in ("create", "delete"):
            details.append({"create": "added", "delete": "removed"}[resource.action])
        if old_key and new_key and old_key != new_key:
            details.append(f"route key: {old_key} -> {new_key}")
        if old_auth and new_auth and old_auth != new_auth:
            details.append(f"authorization: {old_auth} -> {new_auth}")
        touched = [resource] if resource else []
        reach_changed = bool(resource and resource.action in ("create", "delete"))
        # The route's integration: the one its target names, else its own (named like the route: plan.py).
        integration = integrations.get((old_target or "").removeprefix("integrations/")) or integrations.get(
            names.address("aws_apigatewayv2_integration", names.integration(change.name)))
        if integration is not None:
            where = f"{integration.path}.change"
            old_uri = _string(integration.before, "integration_uri", f"{where}.before")
            new_uri = _string(integration.after, "integration_uri", f"{where}.after")
            old_reach = services.reach(old_uri) if old_uri else None
            new_reach = None if integration.action == "delete" else services.reach(new_uri, integration.address)
            if integration.action == "create" or old_reach is None:
                if new_reach:
                    details.append(f"reaches {new_reach}")
            elif integration.action == "delete" or new_reach is None:
                details.append(f"reached {old_reach}")
            elif old_uri != new_uri:
                details.append(f"reach: {old_reach} -> {new_reach}")
                reach_changed = True
            elif integration.action == "update":
                what = [a for a in by_address[integration.address].attributes if a != "integration_uri"]
                details.append(f"integration: {', '.join(what) or 'updated'} changed")
            touched += [r for r in resources if r.address == integration.address]
            touched += [by_address[a] for a in services.targets(old_uri, integration.address)
                        if a in by_address and by_address[a] not in touched]
        fan_out = _fan_out_reach(change.name, planned, by_address)
        if fan_out:
            details.append(fan_out[0])
            reach_changed = reach_changed or fan_out[1]
            touched += [r for r in fan_out[2] if r not in touched]
        if old_target != new_target and new_target is not None and old_target:
            details.append("now targets another integration")
            reach_changed = True
        if details or touched:
            kind = "added" if "added" in details else "removed" if "removed" in details else "changed"
            routes.append(RouteChange(new_key or old_key or change.name, change.name, kind,
                                      [d for d in details if d not in ("added", "removed")], reach_changed, touched))
    return Summary(title, routes, sorted(resources, key=lambda c: c.address),
                   sorted(unmanaged, key=lambda c: c.address))


FAN_OUT_REACH = ("CLOUD_MAP_NAMESPACE", "CLOUD_MAP_SERVICE", "FILTER", "INCLUDE_UNHEALTHY")


def _fan_out_reach(route_id: str, planned: dict[str, PlannedChange],
                   by_address: dict[str, ResourceChange]) -> tuple[str, bool, list[ResourceChange]] | None:
    """A fan-out route's reach is in its function (plan.fan_out_blocks): the environment names the namespace,
    service and filter, and the role's policy the namespace's and service's ARNs. (detail, reach changed,
    resources) when either changes, else None."""
    function = planned.get(names.address("aws_lambda_function", names.fan_out(route_id)))
    policy = planned.get(names.address("aws_iam_role_policy", names.fan_out(route_id)))
    touched = [by_address[c.address] for c in (function, policy) if c is not None and c.address in by_address]
    if not touched:
        return None

    def reach(values: dict) -> dict:
        environment = values.get("environment")
        block = environment[0] if isinstance(environment, list) and environment else {}
        variables = block.get("variables") if isinstance(block, dict) else None
        return {k: variables.get(k) for k in FAN_OUT_REACH} if isinstance(variables, dict) else {}

    old = reach(function.before) if function else {}
    new = reach(function.after) if function else {}
    unknown = bool(function and function.unknown.get("environment"))
    new_arns = policy is not None and policy.action in ("update", "replace")  # a new namespace or service ARN
    if function is not None and function.action in ("create", "delete"):
        return ("fan-out function " + {"create": "added", "delete": "removed"}[function.action], True, touched)
    if old != new or unknown or new_arns:
        text = ", ".join(f"{k.lower()}: {old.get(k)} -> {new.get(k) if not unknown else '(known after apply)'}"
                         for k in FAN_OUT_REACH if old.get(k) != new.get(k) or unknown)
        return (f"fan-out reach: {text or 'new Cloud Map ARNs in its role'}", True, touched)
    return ("fan-out function updated", False, touched)


_SERVICE_ARN_REF = re.compile(r"\$\{aws_service_discovery_service\.([A-Za-z0-9_-]+)\.arn\}")


def _configured_uris(plan: Any) -> dict[str, str]:
    """Integration address -> its integration_uri as configured (a template such as
    `${aws_service_discovery_service.raft.arn}?leader=true`), from the plan's `configuration`; {} when the plan
    has none (it is optional: only what the URI template can tell is lost)."""
    found: dict[str, str] = {}
    module = plan.get("configuration", {}).get("root_module", {}) if isinstance(plan, dict) else {}
    resources = module.get("resources", []) if isinstance(module, dict) else []
    for resource in resources if isinstance(resources, list) else []:
        if not isinstance(resource, dict) or resource.get("type") != "aws_apigatewayv2_integration":
            continue
        expression = (resource.get("expressions") or {}).get("integration_uri") \
            if isinstance(resource.get("expressions"), dict) else None
        value = expression.get("constant_value") if isinstance(expression, dict) else None
        if isinstance(resource.get("address"), str) and isinstance(value, str):
            found[resource["address"]] = value
    return found


class _ServiceNames:
    """Cloud Map services as routes.yaml names them: the service id (`srv-...`) -> the key under `services`.

    A created service's address is `aws_service_discovery_service.<key>` (names.service: the key as an identifier);
    its Cloud Map name is the key unless routes.yaml gave another `name`, so the name is shown when it is what the
    address was made from, else the address's own name. An existing service (existing_id/existing_arn) has no
    block: it keeps its id.
    """

    def __init__(self, changes: list[PlannedChange], configured: dict[str, str]) -> None:
        self.label_by_id: dict[str, str] = {}
        self.label_by_address: dict[str, str] = {}
        self.address_by_id: dict[str, str] = {}
        self.replaced: set[str] = set()  # addresses of services created or replaced: a new id
        self.configured = configured
        for change in changes:
            if change.type != "aws_service_discovery_service" or change.mode == "data":
                continue
            label = change.name
            for values in (change.before, change.after):
                name = values.get("name")
                if isinstance(name, str) and names.slug(name) == change.name:
                    label = name
            self.label_by_address[change.address] = label
            for values in (change.before, change.after):
                service_id = values.get("id")
                if isinstance(service_id, str) and service_id:
                    self.label_by_id[service_id] = label
                    self.address_by_id[service_id] = change.address
            if change.action in ("create", "replace"):
                self.replaced.add(change.address)

    def reach(self, uri: str | None, integration: str = "") -> str | None:
        """`raft (leader=true)`; for a URI known only after apply, what its configured template says."""
        if uri is not None:
            arn, _, query = uri.partition("?")
            service_id = arn.rsplit("/", 1)[-1]
            return f"{self.label_by_id.get(service_id, service_id)} ({_filters(query)})"
        template = self.configured.get(integration)
        match = _SERVICE_ARN_REF.match(template or "")
        if match is None:
            return "(known after apply)"
        address = names.address("aws_service_discovery_service", match.group(1))
        label = self.label_by_address.get(address, match.group(1))
        query = template[match.end():].removeprefix("?").replace("$${", "${").replace("%%{", "%{")
        return f"{'replaced ' if address in self.replaced else ''}{label} ({_filters(query)})"

    def targets(self, uri: str | None, integration: str) -> list[str]:
        """The addresses of the Cloud Map services an integration's URI points at, before and as configured."""
        found = []
        if uri:
            address = self.address_by_id.get(uri.partition("?")[0].rsplit("/", 1)[-1])
            if address:
                found.append(address)
        match = _SERVICE_ARN_REF.match(self.configured.get(integration, ""))
        if match:
            found.append(names.address("aws_service_discovery_service", match.group(1)))
        return list(dict.fromkeys(found))


def _filters(query: str) -> str:
    return ", ".join(f"{k}={v}" for k, v in parse_qsl(query)) or "all instances"


def load_plan(path: str) -> tuple[Any, list[Diagnostic]]:
    """The parsed JSON of a plan file, or file-level diagnostics (E100, as `check` reports an unreadable file).

    Raises PlanError when the content is not JSON, or nests deeper than the JSON reader can go."""
    raw, why = read_capped(path, PLAN_MAX_BYTES)
    if raw is None:
        return None, unreadable(why, path)
    if len(raw) > PLAN_MAX_BYTES:
        return None, at_file([Diagnostic(0, 0, "E100", f"the file is over the {PLAN_MAX_BYTES}-byte limit for a plan",
                                         "summarize the plan of one routes stack")], path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, at_file([Diagnostic(0, 0, "E100", f"byte 0x{raw[exc.start]:02x} at offset {exc.start} is not "
                                         "valid UTF-8", "terraform show -json writes UTF-8")], path)
    try:
        return json.loads(text), []
    except RecursionError:
        raise PlanError("nesting too deep to read", "$") from None
    except json.JSONDecodeError as exc:
        raise PlanError(f"invalid JSON ({exc.msg})", f"line {exc.lineno} column {exc.colno}") from None
    except ValueError as exc:  # e.g. an integer too long to convert
        raise PlanError(f"invalid JSON ({exc})", "$") from None
