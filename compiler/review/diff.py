"""`diff`: two validated models -> their resource plans -> what Terraform will do, predicted from the provider's
replacement rules (compiler.terraform.catalogue), route by route."""

from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence

from .. import reach
from ..core import names
from ..language.model import Model
from ..reach import aspects
from ..reach.aspects import Aspect
from ..reach.description import Concern, RouteReach, TargetKind
from ..terraform import catalogue
from ..terraform.owners import Owner, OwnerKind, by_address
from ..terraform.plan import Block, Concat, Ref, ResourcePlan, build, terraform_value
from .overrides import OverrideChange, override_changes
from .summary import OwnerChange, ResourceChange, RouteChange, Summary
from .versions import Findings

# A route's own resources first, in this order (its route, its integration, a fan-out's function), then the rest.
PRIMARY = ("aws_apigatewayv2_route", "aws_apigatewayv2_integration", "aws_lambda_function")


def diff_models(base: Model, head: Model, title: str,
                findings: Optional[tuple[Findings, Findings]] = None) -> Summary:
    """The route-level review of base -> head: each route's description (compiler.reach) compared aspect by
    aspect, with the resource changes its plan owners group under it, and the warnings the change introduces
    (`findings`: what `check` said of each version; versions.findings)."""
    before, after = build(base), build(head)
    resources = diff_plans(before, after)
    owned = group_by_owner(resources, {**by_address(before.blocks), **by_address(after.blocks)})
    old, new = reach.describe(base), reach.describe(head)
    overridden = override_changes(base, head)
    base_findings, head_findings = findings or (Findings(), Findings())
    routes = []
    for route_id in sorted(old.keys() | new.keys()):
        overrides = [c.detail() for c in overridden if (c.kind, c.key) == ("route", route_id)]
        change = _route_change(old.get(route_id), new.get(route_id), owned, overrides)
        if change is None:
            continue
        change.warnings = introduced(base_findings.of(route_id), head_findings.of(route_id),
                                     old.get(route_id), new.get(route_id))
        if change.kind != "changed" or change.details or change.warnings:
            routes.append(change)
    return Summary(title, routes, resources,
                   warnings=introduced(base_findings.of(None), head_findings.of(None), None, None),
                   owners=_owner_rows(overridden, {c.address: c for c in resources}))


def _owner_rows(overridden: list[OverrideChange], by_address: dict[str, ResourceChange]) -> list[OwnerChange]:
    """The override changes of everything but routes (whose own are on the route's row), one row per owner."""
    rows: dict[str, OwnerChange] = {}
    for change in overridden:
        if change.kind != "route":
            row = rows.setdefault(change.owner, OwnerChange(change.owner))
            row.details.append(change.detail())
            row.resources += [by_address[change.address]] if change.address in by_address else []
    return list(rows.values())


def group_by_owner(resources: Iterable[ResourceChange], owners: dict[str, Owner]) -> dict[Owner, list[ResourceChange]]:
    """Resource changes by the owner their block has in the plan (the head's, else the base's for a deletion)."""
    grouped: dict[Owner, list[ResourceChange]] = {}
    for change in resources:
        owner = owners.get(change.address)
        if owner is not None:
            grouped.setdefault(owner, []).append(change)
    return grouped


def ordered(changes: Iterable[ResourceChange]) -> list[ResourceChange]:
    unique = list({c.address: c for c in changes}.values())
    return sorted(unique, key=lambda c: (PRIMARY.index(c.type) if c.type in PRIMARY else len(PRIMARY), c.address))


def _route_change(old: Optional[RouteReach], new: Optional[RouteReach], owned: dict[Owner, list[ResourceChange]],
                  overrides: Sequence[str] = ()) -> Optional[RouteChange]:
    """`overrides`: the route's override changes (review.overrides), each a detail on its row."""
    either = new or old
    if old is None or new is None:
        kind, verb = ("added", "reaches") if old is None else ("removed", "reached")
        change = RouteChange(either.key.text, either.id, kind, [f"{verb} {reach_text(either)}"], True)
        change.resources = route_resources(either, either, owned, False)
        return change
    changes = aspects.changed(aspects.values(old), aspects.values(new))
    details = [f"{aspect.label}: {a} -> {b}" for aspect, a, b in changes]
    replaced = sorted({r.target.service.key for r in (old, new)
                       if any(c.action == "replace" and c.type == "aws_service_discovery_service"
                              for c in owned.get(Owner.service(r.target.service.key), ()))})
    details += [f"service {key!r} is replaced: new Cloud Map service ARN" for key in replaced]
    details += overrides
    change = RouteChange(new.key.text, new.id, "changed", details, aspects.reach_changes(changes) or bool(replaced))
    change.aspects = [(aspect.label, a, b) for aspect, a, b in changes]
    throttled = any(aspect is Aspect.THROTTLING for aspect, _, _ in changes)
    change.resources = route_resources(old, new, owned, throttled) if details else []
    return change


def route_resources(old: RouteReach, new: RouteReach, owned: dict[Owner, list[ResourceChange]],
                    throttled: bool) -> list[ResourceChange]:
    """A route's own resources, then those of its service and authorizer (before and after), and the stage when
    its throttling changed (a route's throttling is an entry of the stage's route_settings)."""
    own = ordered(owned.get(Owner.route(new.id), ()))
    shared = [Owner.service(r.target.service.key) for r in (old, new)]
    shared += [Owner.authorizer(r.authorization.authorizer) for r in (old, new) if r.authorization.authorizer]
    rest = ordered(c for owner in dict.fromkeys(shared) for c in owned.get(owner, ()))
    stage = [c for c in owned.get(Owner(OwnerKind.API), ()) if throttled and c.type == "aws_apigatewayv2_stage"]
    return own + rest + stage


def reach_text(description: RouteReach) -> str:
    """`raft (leader=true)`: the service and filter a route reaches (and how, for a fan-out)."""
    target = description.target
    text = f"{target.service.key} ({', '.join(f'{k}={v}' for k, v in target.filter.pairs) or 'all instances'})"
    return text + (", every instance on each request (fan-out)" if target.kind is TargetKind.FAN_OUT else "")


def introduced(base: Iterable[tuple[str, str]], head: Iterable[tuple[str, str]],
               old: Optional[RouteReach], new: Optional[RouteReach]) -> list[str]:
    """The warnings head has and base has not: check's diagnostics (code and message), and what the description
    alone foresees that no diagnostic says (a leader filter two static instances match)."""
    seen = set(base) | {("", w.message) for w in (old.warnings if old else ()) if w.code is None}
    mine = list(head) + [("", w.message) for w in (new.warnings if new else ())
                         if w.code is None and w.concern is not Concern.UNSETTABLE_FILTER]
    return [f"{code}: {message}" if code else message for code, message in dict.fromkeys(mine) if (code, message)
            not in seen]


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
