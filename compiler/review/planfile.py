"""`summarize-plan`: what Terraform says it will do (`terraform show -json`), route by route."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Optional

from .. import reach
from ..core import names
from ..core.diagnostics import Diagnostic, at_file
from ..core.files import read_capped, unreadable
from ..core.text import visible
from ..language.model import AttributeFilter, IntegrationUri, Model
from ..reach import aspects
from ..reach.aspects import Aspect
from ..reach.description import RouteReach
from ..terraform import catalogue
from ..terraform.catalogue import is_managed
from ..terraform.owners import Owner, OwnerKind, by_address
from ..terraform.plan import build
from .diff import ordered
from .planned import NOTHING, UNKNOWN, Side, Values, aspects_of, reach_of
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


def summarize_plan(plan: Any, title: str, model: Optional[Model] = None) -> Summary:
    """Raises PlanError when `plan` is not `terraform show -json` output.

    Resource changes land on the routes they serve through the plan's owners (compiler.terraform.owners) of
    `model`, the routes.yaml the plan was made from: a route's own resources (its route, integration, a fan-out's
    function and what it needs), its service's and its authorizer's, and the stage when its throttling changes.
    Each route's aspects (compiler.reach.aspects) are read from its resources before and after (planned.py); a
    value known only after apply is the model's. A resource the model does not own (a deleted route's) is linked
    by the ids its values hold: a route's target names its integration, an integration's URI its function.
    Services are named by their routes.yaml key (from the owner of their block; without a model, from the
    block's address and name) and by id when routes.yaml does not create them.
    """
    changes = parse_plan(plan)
    resources, unmanaged = _resource_changes(changes)
    context = _Plan(changes, resources, model, _configured_uris(plan))
    routes = [change for change in map(context.route_change, context.units()) if change is not None]
    return Summary(title, routes, sorted(resources, key=attrgetter("address")),
                   sorted(unmanaged, key=attrgetter("address")))


def _resource_changes(changes: list[PlannedChange]) -> tuple[list[ResourceChange], list[ResourceChange]]:
    resources, unmanaged = [], []
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
    return resources, unmanaged


@dataclass
class _Unit:
    """One route's planned resources."""

    route_id: str
    description: Optional[RouteReach] = None  # the model's, when the route is in it
    route: Optional[PlannedChange] = None
    integration: Optional[PlannedChange] = None
    function: Optional[PlannedChange] = None  # a fan-out route's
    own: list[PlannedChange] = field(default_factory=list)


# The attributes of an integration that the aspects explain (the rest are named as they are).
_EXPLAINED = ("integration_uri", "timeout_milliseconds", "tls_config", "request_parameters", "integration_type")


class _Plan:
    """The plan, indexed for attributing its changes to routes."""

    def __init__(self, changes: list[PlannedChange], resources: list[ResourceChange], model: Optional[Model],
                 configured: dict[str, str]) -> None:
        self.planned = {c.address: c for c in changes if c.mode != "data"}
        self.by_address = {r.address: r for r in resources}
        self.model = model
        self.owners = by_address(build(model).blocks) if model else {}
        self.descriptions = reach.describe(model) if model else {}
        self.services = _ServiceNames(changes, configured, self.owners, model)
        self.owned: dict[Owner, list[PlannedChange]] = {}
        for address, change in self.planned.items():
            if address in self.owners:
                self.owned.setdefault(self.owners[address], []).append(change)
        self.by_id = {(c.type, c.before["id"]): c for c in self.planned.values() if isinstance(c.before.get("id"), str)}
        self.by_invoke_arn = {c.before["invoke_arn"]: c for c in self.planned.values()
                              if isinstance(c.before.get("invoke_arn"), str)}
        self.authorizer_names = {values["id"]: values["name"] for c in self.planned.values()
                                 if c.type == "aws_apigatewayv2_authorizer" for values in (c.before, c.after)
                                 if isinstance(values.get("id"), str) and isinstance(values.get("name"), str)}

    def units(self) -> list[_Unit]:
        units = {}
        for route_id, description in self.descriptions.items():
            unit = units[route_id] = _Unit(route_id, description, own=self.owned.get(Owner.route(route_id), []))
            for change in unit.own:
                self._place(unit, change)
        claimed = {c.address for unit in units.values() for c in unit.own}
        for change in self.planned.values():  # routes the model does not have: linked by their ids
            if change.type == "aws_apigatewayv2_route" and change.address not in claimed:
                unit = units.setdefault(change.name, _Unit(change.name))
                unit.route = change
                target = _string(change.before, "target", f"{change.path}.change.before") or ""
                unit.integration = unit.integration or self.by_id.get(
                    ("aws_apigatewayv2_integration", target.removeprefix("integrations/")))
                uri = unit.integration.before.get("integration_uri") if unit.integration else None
                unit.function = unit.function or self.by_invoke_arn.get(uri)
                unit.own += [c for c in (change, unit.integration, unit.function) if c and c not in unit.own]
        return [units[key] for key in sorted(units)]

    @staticmethod
    def _place(unit: _Unit, change: PlannedChange) -> None:
        kind = {"aws_apigatewayv2_route": "route", "aws_apigatewayv2_integration": "integration",
                "aws_lambda_function": "function"}.get(change.type)
        if kind:
            setattr(unit, kind, change)

    # -- the two sides of a route -------------------------------------------------------------------------------

    def side(self, unit: _Unit, after: bool) -> Side:
        def values(change: Optional[PlannedChange]) -> Values:
            if change is None:
                return NOTHING
            return Values(change.after, change.unknown) if after else Values(change.before)
        route = values(unit.route)
        authorizer = self._authorizer(unit, route, after)
        owner = self.owners.get(authorizer.address) if authorizer else None
        allowlist = next((c for c in self.owned.get(owner, ()) if c.type == "aws_lambda_function"), None)
        stage = next((c for c in self.planned.values() if c.type == "aws_apigatewayv2_stage"), None)
        return Side(route, values(unit.integration), values(unit.function), values(authorizer), values(allowlist),
                    values(stage), self.services.key_of, self.authorizer_key)

    def authorizer_key(self, authorizer_id: Any) -> Any:
        """An authorizer's routes.yaml key: its name (the plan names authorizers by key)."""
        return UNKNOWN if authorizer_id is UNKNOWN else self.authorizer_names.get(authorizer_id)

    def _authorizer(self, unit: _Unit, route: Values, after: bool) -> Optional[PlannedChange]:
        """The authorizer a side's route names: by its id in the plan, else (after apply) the model's."""
        found = self.by_id.get(("aws_apigatewayv2_authorizer", route.text("authorizer_id")))
        key = unit.description.authorization.authorizer if unit.description and after else None
        if found is None and key:
            found = next((c for c in self.owned.get(Owner.authorizer(key), ())
                          if c.type == "aws_apigatewayv2_authorizer"), None)
        return found

    # -- the row ------------------------------------------------------------------------------------------------

    def route_change(self, unit: _Unit) -> Optional[RouteChange]:
        key = _route_key(unit)  # checked: a route key that is not a string is not terraform's output
        sides = self.side(unit, False), self.side(unit, True)
        route = self.by_address.get(unit.route.address) if unit.route else None
        action = route.action if route else "no-op"
        fallback = aspects.values(unit.description) if unit.description else None
        changes = [] if action in ("create", "delete") else aspects.changed(aspects_of(sides[0]),
                                                                             aspects_of(sides[1], fallback))
        details, reach_changed = self._details(unit, action, changes, sides)
        if not details and action not in ("create", "delete"):
            return None
        kind = {"create": "added", "delete": "removed"}.get(action, "changed")
        change = RouteChange(key or unit.route_id, unit.route_id, kind, details, reach_changed,
                             self.touched(unit, any(a is Aspect.THROTTLING for a, _, _ in changes)))
        change.aspects = [(aspect.label, old, new) for aspect, old, new in changes]
        return change

    def _details(self, unit: _Unit, action: str, changes: list, sides: tuple[Side, Side]) -> tuple[list[str], bool]:
        """The row's lines, as diff words them (the reach line where diff says service and filter), and whether
        what the route reaches changes."""
        details = [f"{aspect.label}: {old} -> {new}" for aspect, old, new in changes
                   if aspect not in (Aspect.SERVICE, Aspect.FILTER)]
        reach = self._reach_line(unit, action, self.reach_text(unit, sides[0], False),
                                 self.reach_text(unit, sides[1], True))
        if reach:
            details.insert(1 if changes and changes[0][0] is Aspect.ROUTE_KEY else 0, reach)
        retargeted = self._retargeted(unit)
        details += self._unexplained(unit) + (["now targets another integration"] if retargeted else [])
        return details, (action in ("create", "delete") or reach.startswith("reach:") or retargeted
                         or aspects.reach_changes(changes))

    @staticmethod
    def _retargeted(unit: _Unit) -> bool:
        if unit.route is None:
            return False
        at = f"{unit.route.path}.change"
        old = _string(unit.route.before, "target", f"{at}.before")
        new = _string(unit.route.after, "target", f"{at}.after")
        return bool(old and new and old != new)

    def _reach_line(self, unit: _Unit, action: str, old: Optional[str], new: Optional[str]) -> str:
        integration = self.by_address.get(unit.integration.address) if unit.integration else None
        if action == "delete" or (new is None and old):
            return f"reached {old}"
        if action == "create" or (integration is not None and integration.action == "create") or old is None:
            return f"reaches {new}" if new else ""
        return f"reach: {old} -> {new}" if old != new else ""

    def _unexplained(self, unit: _Unit) -> list[str]:
        integration = self.by_address.get(unit.integration.address) if unit.integration else None
        if integration is None or integration.action != "update":
            return []
        what = [a for a in integration.attributes if a not in _EXPLAINED]
        return [f"integration: {', '.join(what)} changed"] if what else []

    def reach_text(self, unit: _Unit, side: Side, after: bool) -> Optional[str]:
        """`raft (leader=true)` (`replaced raft (...)` for a service that gets a new id), None when the side has no
        integration; what the model (or the configured URI) says when the plan knows it only after apply."""
        carrier = unit.function if side.fan_out is True else unit.integration  # what holds the reach
        if carrier is None or (after and carrier.action == "delete") or (not after and not carrier.before):
            return None
        reached = reach_of(side)
        if reached is UNKNOWN and unit.description is not None:
            target = unit.description.target
            reached = (target.service.key, target.filter)
        elif reached is UNKNOWN:
            return self.services.configured_reach(unit.integration.address)
        if not isinstance(reached, tuple):
            return None
        label, filter_ = reached
        replaced = after and self.services.is_replaced(label)
        return f"{'replaced ' if replaced else ''}{label} ({_filters(filter_)})"

    def touched(self, unit: _Unit, throttled: bool) -> list[ResourceChange]:
        """The route's own resource changes, then its services' and authorizers' (before and after), and the
        stage's when its throttling changed."""
        own = ordered(self.by_address[c.address] for c in unit.own if c.address in self.by_address)
        found = [a for uri in _uris(unit) for a in self.services.addresses(uri)]  # the services it targeted
        if unit.function is not None:
            name = Values(unit.function.before).env("CLOUD_MAP_SERVICE")
            found += [self.services.address_by_label.get(self.services.key_of(name, True) or "", "")]
        if unit.route is not None:
            authorizer = self.by_id.get(("aws_apigatewayv2_authorizer", unit.route.before.get("authorizer_id")))
            found += [authorizer.address] if authorizer else []
        owners = [self.owners[a] for a in found if a in self.owners]  # each with all its owner has
        if unit.description:
            owners.append(Owner.service(unit.description.target.service.key))
            if unit.description.authorization.authorizer:
                owners.append(Owner.authorizer(unit.description.authorization.authorizer))
        shared = [a for a in found if a not in self.owners] + [c.address for o in dict.fromkeys(owners)
                                                               for c in self.owned.get(o, ())]
        rest = ordered(self.by_address[a] for a in dict.fromkeys(shared) if a in self.by_address)
        stage = [c for c in self.by_address.values() if throttled and c.type == "aws_apigatewayv2_stage"]
        return own + [c for c in rest if c not in own] + stage


def _route_key(unit: _Unit) -> Optional[str]:
    if unit.route is not None:
        at = f"{unit.route.path}.change"
        return _string(unit.route.after, "route_key", f"{at}.after") or _string(unit.route.before, "route_key",
                                                                                  f"{at}.before")
    return unit.description.key.text if unit.description else None


def _uris(unit: _Unit) -> list[str]:
    if unit.integration is None:
        return []
    return [u for u in (unit.integration.before.get("integration_uri"), unit.integration.after.get("integration_uri"))
            if isinstance(u, str)]


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
    """Cloud Map services as routes.yaml names them: by the key of the service their block belongs to (the
    plan's owners), found from the service's id before and after the change, or its Cloud Map name (a fan-out
    function's environment). Without a model, a created service's label is its block's name, or its Cloud Map
    name when the block was named after it; an existing service (existing_id/existing_arn) has no block: it
    keeps its id.
    """

    def __init__(self, changes: list[PlannedChange], configured: dict[str, str], owners: dict[str, Owner],
                 model: Optional[Model]) -> None:
        self.label_by_id: dict[str, str] = {}
        self.label_by_name: dict[str, str] = {s.name: s.key for s in model.services} if model else {}
        self.label_by_address: dict[str, str] = {}
        self.address_by_label: dict[str, str] = {}
        self.address_by_id: dict[str, str] = {}
        self.replaced: set[str] = set()  # addresses of services created or replaced: a new id
        self.configured = configured
        for change in changes:
            if change.type != "aws_service_discovery_service" or change.mode == "data":
                continue
            label = self._label(change, owners.get(change.address))
            self.label_by_address[change.address] = label
            self.address_by_label[label] = change.address
            for values in (change.before, change.after):
                service_id, name = values.get("id"), values.get("name")
                if isinstance(service_id, str) and service_id:
                    self.label_by_id[service_id] = label
                    self.address_by_id[service_id] = change.address
                if isinstance(name, str):
                    self.label_by_name.setdefault(name, label)
            if change.action in ("create", "replace"):
                self.replaced.add(change.address)

    @staticmethod
    def _label(change: PlannedChange, owner: Optional[Owner]) -> str:
        if owner is not None and owner.kind is OwnerKind.SERVICE:
            return owner.key
        label = change.name
        for values in (change.before, change.after):
            name = values.get("name")
            if isinstance(name, str) and names.slug(name) == change.name:
                label = name
        return label

    def key_of(self, text: str, by_name: bool) -> Optional[str]:
        return (self.label_by_name if by_name else self.label_by_id).get(text)

    def is_replaced(self, label: str) -> bool:
        return self.address_by_label.get(label) in self.replaced

    def addresses(self, uri: str) -> list[str]:
        """The Cloud Map service an integration URI points at, by its address in the plan."""
        parsed = IntegrationUri.parse(uri)
        address = self.address_by_id.get(parsed.service_id) if parsed else None
        return [address] if address else []

    def configured_reach(self, integration: str) -> str:
        """For a URI known only after apply and no model: what the integration's configured template says."""
        template = self.configured.get(integration)
        match = _SERVICE_ARN_REF.match(template or "")
        if match is None:
            return "(known after apply)"
        address = f"aws_service_discovery_service.{match.group(1)}"  # the reference, as the configuration writes it
        label = self.label_by_address.get(address, match.group(1))
        query = template[match.end():].removeprefix("?").replace("$${", "${").replace("%%{", "%{")
        return f"{'replaced ' if address in self.replaced else ''}{label} ({_filters(AttributeFilter.of_query(query))})"


def _filters(filter_: AttributeFilter) -> str:
    return ", ".join(f"{k}={v}" for k, v in filter_.pairs) or "all instances"


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
