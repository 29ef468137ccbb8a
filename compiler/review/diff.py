"""`diff`: two validated models -> their resource plans -> what Terraform will do, predicted from the provider's
replacement rules (compiler.terraform.catalogue), route by route."""

from __future__ import annotations

from typing import Any, Iterable

from ..core import names
from ..language.model import Model, Route
from ..terraform import catalogue
from ..terraform.plan import Block, Concat, Ref, ResourcePlan, build, terraform_value
from .overrides import OverrideChange, override_changes
from .summary import OwnerChange, ResourceChange, RouteChange, Summary


def diff_models(base: Model, head: Model, title: str) -> Summary:
    before, after = build(base), build(head)
    resources = diff_plans(before, after)
    by_address = {c.address: c for c in resources}
    base_routes, head_routes = {r.id: r for r in base.routes}, {r.id: r for r in head.routes}
    overridden = override_changes(base, head)
    routes = []
    for route_id in sorted(base_routes.keys() | head_routes.keys()):
        old, new = base_routes.get(route_id), head_routes.get(route_id)
        # Each route has its own integration, at the route's name (plan.py, names.integration).
        touched = [names.address("aws_apigatewayv2_route", route_id),
                   names.address("aws_apigatewayv2_integration", names.integration(route_id))]
        service = (new or old).service
        service_block = names.address("aws_service_discovery_service",
                                      (head if new else base).service(service).logical_id)
        touched.append(service_block)
        if old is None:
            change = RouteChange(new.key.text, route_id, "added", [f"reaches {_reach(new)}"], True)
        elif new is None:
            change = RouteChange(old.key.text, route_id, "removed", [f"reached {_reach(old)}"], True)
        else:
            details = _route_details(old, new) + [c.detail() for c in overridden if (c.kind, c.key) == ("route", route_id)]
            if old.throttling != new.throttling:
                touched.append(names.address("aws_apigatewayv2_stage", names.STAGE))
            replaced_service = by_address.get(service_block, ResourceChange("", "")).action == "replace"
            if replaced_service:
                details.append(f"service {service!r} is replaced: new Cloud Map service ARN")
            if not details:
                continue
            change = RouteChange(new.key.text, route_id, "changed", details,
                                 old.service != new.service or old.filter != new.filter or replaced_service)
        change.resources = [by_address[a] for a in dict.fromkeys(touched) if a in by_address]
        routes.append(change)
    return Summary(title, routes, resources, owners=_owner_rows(overridden, by_address))


def _owner_rows(overridden: list[OverrideChange], by_address: dict[str, ResourceChange]) -> list[OwnerChange]:
    """The override changes of everything but routes (whose own are on the route's row), one row per owner."""
    rows: dict[str, OwnerChange] = {}
    for change in overridden:
        if change.kind != "route":
            row = rows.setdefault(change.owner, OwnerChange(change.owner))
            row.details.append(change.detail())
            row.resources += [by_address[change.address]] if change.address in by_address else []
    return list(rows.values())


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
    return str(route.authorization) + scopes + (" (public)" if route.public else "")


def _throttle(route: Route) -> str:
    t = route.throttling
    return f"burst {t.burst_limit}, rate {t.rate_limit:g}/s" if t else "stage default"


def _ms(value: int | None) -> str:
    return f"{value} ms" if value else "default (30000 ms)"


def diff_plans(before: ResourcePlan, after: ResourcePlan) -> list[ResourceChange]:
    old = {b.address: (b, terraform_value(b.args)) for b in before.blocks if b.mode == names.MANAGED}
    new = {b.address: (b, terraform_value(b.args)) for b in after.blocks if b.mode == names.MANAGED}
    changes: dict[str, ResourceChange] = {}
    for address in sorted(old.keys() | new.keys()):
        kind = catalogue.of((new.get(address) or old[address])[0].type)
        if address not in old:
            changes[address] = ResourceChange(address, "create")
        elif address not in new:
            changes[address] = ResourceChange(address, "delete", consequence=kind.on_delete)
        else:
            changed = tuple(sorted(_changed_paths(old[address][1], new[address][1])))
            if changed:
                forcing = tuple(p for p in changed if kind.forces_replacement(p))
                changes[address] = (ResourceChange(address, "replace", forcing, kind.on_replace)
                                    if forcing else ResourceChange(address, "update", changed))
    _cascade(changes, [block for block, _ in new.values()])
    return sorted(changes.values(), key=lambda c: c.address)


def _cascade(changes: dict[str, ResourceChange], blocks: list[Block]) -> None:
    """A replaced resource gets new ids: whatever refers to it updates, or is replaced if that argument forces it.

    References are the plan's `Ref` objects (alone or in a `Concat`); literal text is never one, whatever it says.
    """
    refs_of = {block.address: _references(block.args) for block in blocks}
    pending = [c.address for c in changes.values() if c.action == "replace"]
    while pending:
        replaced = pending.pop()
        for block in blocks:
            address = block.address
            paths = tuple(path for path, targets in refs_of[address] if replaced in targets)
            triggers = tuple(t for key, value in block.lifecycle if key == "replace_triggered_by"
                             for t in value if t.startswith(replaced + "."))
            current = changes.get(address)
            if not (paths or triggers) or (current and current.action in ("replace", "create")):
                continue
            kind = catalogue.of(block.type)
            forcing = tuple(p for p in paths if kind.forces_replacement(p)) + tuple(
                f"lifecycle.replace_triggered_by ({t})" for t in triggers)
            if forcing:
                changes[address] = ResourceChange(address, "replace", forcing, kind.on_replace)
                pending.append(address)
            else:
                attributes = tuple(sorted(set(current.attributes if current else ()) | set(paths)))
                changes[address] = ResourceChange(address, "update", attributes)


def _references(args: dict[str, Any]) -> list[tuple[str, frozenset[str]]]:
    """(argument path, addresses it refers to) for every value in a block's arguments that holds a reference."""
    found = []
    for path, value in _leaves(args):
        parts = value.parts if isinstance(value, Concat) else (value,)
        targets = frozenset(p.address for p in parts if isinstance(p, Ref))
        if targets:
            found.append((path, targets))
    return found


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
