"""Stage 8 (review): route-level summaries of a change, for pull requests. Plain Python; never imports jsii.

`diff` compares two routes.yaml versions through their resource plans and predicts what Terraform will do from
the provider's replacement rules (compiler.catalogue); `summarize-plan` reads what Terraform says it will do
(`terraform show -json`). Both produce a Summary, rendered as Markdown (a PR comment) or text (a terminal).
The functions here return data; the CLI (compiler.cli) prints it and decides exit codes.

Everything a summary prints may come from the pull request's author (routes.yaml) or from a plan file, so the
renderer escapes every value it prints in one place (`_markdown` / `visible`, the templates' `finalize`).
Inputs are read as `check` reads them: regular files only, at most loader.MAX_BYTES, strict UTF-8.
"""

from __future__ import annotations

import json
import os
import re
import stat
import string
import subprocess
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable
from urllib.parse import parse_qsl

from . import catalogue, compile_file, compile_text, names
from .catalogue import is_managed
from .diagnostics import Diagnostic, at_file
from .loader import MAX_BYTES, decode
from .model import Model, Route
from .plan import Block, Concat, Ref, ResourcePlan, build, terraform_value

PLAN_MAX_BYTES = 32 * 1024 * 1024  # a plan of 300 routes is a few MB; more is not one routes stack
PLAN_MAX_DEPTH = 64  # nesting of a value in before/after; provider schemas nest a handful of levels


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
    unmanaged: list[ResourceChange] = field(default_factory=list)  # in the plan, not of a type this tool emits

    @property
    def replacements(self) -> list[ResourceChange]:
        return [c for c in self.resources if c.action == "replace" or (c.action == "delete" and c.consequence)]

    @property
    def unchanged(self) -> bool:
        return not self.routes and not self.resources


# --- diff: two routes.yaml versions ---------------------------------------------------------------------

class UsageError(Exception):
    """A command-line argument this command refuses (exit 2)."""


def compile_version(spec: str, environment: str | None = None) -> tuple[Model | None, list[Diagnostic]]:
    """Compile a file path, or a git revision of one (`origin/main:routes.yaml`), as `check` would.

    A path that exists is a file, read by `check`'s own reader (compile_file: the same size limit, UTF-8 rule and
    diagnostics) once it is known to be a regular file or a directory, never a FIFO or a device that could block.
    Otherwise a spec with a `:` is a git REV:PATH, held to the same limit. Raises UsageError for a revision that
    git would take for an option.
    """
    if ":" in spec and not os.path.lexists(spec):
        if spec.startswith("-"):
            raise UsageError(f"{spec!r}: a git revision cannot start with '-'")
        raw, why = _git_blob(spec, MAX_BYTES)
        if raw is None:
            return None, _unreadable(why, spec)
        if len(raw) > MAX_BYTES:
            return None, at_file([Diagnostic(0, 0, "E100", f"the blob is larger than the limit of {MAX_BYTES:,} "
                                             "bytes (1 MiB)", "split the API into several files")], spec)
        text, problems = decode(raw)
        return (None, at_file(problems, spec)) if text is None else compile_text(text, spec, environment)
    try:
        mode = os.stat(spec).st_mode
    except OSError:
        mode = None  # missing, or a path through a file: compile_file reports it as `check` does
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        return None, _unreadable("not a regular file", spec)
    return compile_file(spec, environment)


def _unreadable(why: str, path: str) -> list[Diagnostic]:
    return at_file([Diagnostic(0, 0, "E100", f"cannot read the file: {why}", "check the path")], path)


def read_capped(path: str, limit: int) -> tuple[bytes | None, str]:
    """At most limit + 1 bytes of a regular file, or (None, why not). Never blocks on a FIFO or a device."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return None, exc.strerror or str(exc)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            return None, "Is a directory"
        if not stat.S_ISREG(mode):
            return None, "not a regular file"
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks), ""
    except OSError as exc:
        return None, exc.strerror or str(exc)
    finally:
        os.close(fd)


def _git_blob(spec: str, limit: int) -> tuple[bytes | None, str]:
    """The blob at REV:PATH, at most limit + 1 bytes. `--end-of-options`: nothing in spec is read as an option.

    `git cat-file blob` rather than `git show`: it refuses trees and commits, applies no textconv filter, and
    its output is read only up to the limit (then git is stopped), so a huge blob costs nothing.
    """
    try:
        proc = subprocess.Popen(["git", "cat-file", "blob", "--end-of-options", spec], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        return None, f"no such file, and git cannot run: {exc.strerror or exc}"
    assert proc.stdout is not None and proc.stderr is not None
    with proc:
        raw = proc.stdout.read(limit + 1)
        if len(raw) > limit:
            proc.kill()
            proc.wait()
            return raw, ""
        error = proc.stderr.read(4096).decode("utf-8", "replace")
        if proc.wait() != 0:
            reason = (error.strip().splitlines() or ["git failed"])[-1].removeprefix("fatal: ")
            return None, f"no such file, and git cannot read it as REV:PATH: {visible(reason)}"
    return raw, ""


def diff_models(base: Model, head: Model, title: str) -> Summary:
    before, after = build(base), build(head)
    resources = diff_plans(before, after)
    by_address = {c.address: c for c in resources}
    base_routes, head_routes = {r.id: r for r in base.routes}, {r.id: r for r in head.routes}
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
            details = _route_details(old, new)
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


# --- summarize-plan: what Terraform says it will do ------------------------------------------------------

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


# --- rendering --------------------------------------------------------------------------------------------
# Every value a template prints passes through `finalize`: `visible` for text, `_markdown` for Markdown. A value
# the template wants as code goes through the `code` filter, which escapes it too and marks it as done.

_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})  # controls, format (bidi, zero-width), surrogates, separators
_PUNCTUATION = frozenset(string.punctuation)


def visible(text: str) -> str:
    r"""Control and invisible characters as escapes (`\x1b`, `\n`, `\u202e`): nothing a terminal acts on."""
    if text.isascii() and text.isprintable():
        return text
    out = []
    for ch in text:
        if ch in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[ch])
        elif unicodedata.category(ch) in _INVISIBLE:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def _markdown(text: str) -> str:
    """Text that GitHub renders as exactly that text, in a paragraph, a list item or a table cell.

    Every ASCII punctuation character is backslash-escaped (CommonMark renders `\\X` as X for all of them), so no
    emphasis, link, image, HTML tag, entity, code span, table pipe or `www.`/`http:` autolink can start; control
    characters are shown as escapes, so no line break can end a table row; `@` and `#` get a zero-width space after
    them, so no @mention, team mention or issue reference notifies anyone.
    """
    escaped = "".join("\\" + ch if ch in _PUNCTUATION else ch for ch in visible(text))
    return escaped.replace("\\@", "\\@&#8203;").replace("\\#", "\\#&#8203;")


class _Rendered(str):
    """Markdown already made safe by `_code`; finalize prints it as it is."""


def _code(value: Any) -> _Rendered:
    """A value shown as code. A backtick code span renders nothing inside it (no HTML, links or mentions), so
    it is used as is when the text has no backtick, pipe, control character or edge space; otherwise the text is
    escaped inside a <code> element."""
    text = visible(str(value))
    if text and text == text.strip() and not set(text) & {"`", "|", "\\"}:
        return _Rendered(f"`{text}`")
    return _Rendered(f"<code>{_markdown(text)}</code>")


def _finalize_markdown(value: Any) -> str:
    return value if isinstance(value, _Rendered) else _markdown(str(value))


def _finalize_text(value: Any) -> str:
    return visible(str(value))


def render(summary: Summary, fmt: str) -> str:
    import jinja2

    markdown = fmt == "markdown"
    env = jinja2.Environment(loader=jinja2.PackageLoader("compiler", "templates"), trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
                             finalize=_finalize_markdown if markdown else _finalize_text)
    env.filters["code"] = _code if markdown else str
    return env.get_template(f"summary.{'md' if markdown else 'txt'}.j2").render(s=summary)


def load_plan(path: str) -> tuple[Any, list[Diagnostic]]:
    """The parsed JSON of a plan file, or file-level diagnostics (E100, as `check` reports an unreadable file).

    Raises PlanError when the content is not JSON, or nests deeper than the JSON reader can go."""
    raw, why = read_capped(path, PLAN_MAX_BYTES)
    if raw is None:
        return None, _unreadable(why, path)
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
