"""`main.py status`: what each route of a routes.yaml reaches in the deployed system, right now. Read-only.

For each route: is it deployed, does its integration still say what routes.yaml says (drift: another service,
another filter, another authorization, or no such route), which instances DiscoverInstances returns for its filter
now, and the verdict that follows (compiler.reach: what the route's description and these instances imply). A
proxied route: zero matches, every request fails with 500; one, it serves all; more, round-robin; an instance
registered without a usable address counts as failing (one request in four with four instances). A fan-out route:
zero matches, its function answers 502; otherwise every instance on each request, 207 when some cannot be called.
It warns about unhealthy matches and a leader filter that matches several instances (split brain). It calls only
Get*/List* and DiscoverInstances; it never changes anything.

The API is found by name plus the `cloudmap-routes:stack` tag synth puts on it (`deployed.STACK_TAG`), or given
with `--api-id`. Each route's integration (one per route) is read with GetRoutes and GetIntegration; its URI is
`<Cloud Map service ARN>?<filter>`, which is what API Gateway turns into DiscoverInstances' QueryParameters.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Optional, TextIO

from .. import reach
from ..core.aws import aws_client
from ..core.aws import pages as _pages
from ..core.deployed import DEFAULT_STACK, STACK_TAG
from ..core.diagnostics import ERROR
from ..core.diagnostics import render_text as render_diagnostics
from ..language import compile_file
from ..language.model import ECS_ATTRIBUTES, IntegrationUri, Model, Route
from ..reach.observation import IPV4, NO_INSTANCE, PORT
from .discovery import Found, discover, has_health_check, namespace_http_name, resolve_service
from .ecs import task_line


@dataclass(frozen=True)
class InstanceView:
    id: str
    address: str  # "ip:port", or "" when the address attributes are missing
    attributes: dict[str, str]  # custom attributes (the address ones left out)
    health: str
    ecs_task: Optional[str] = None  # `ECS task <ARN>, task definition <family>` for a task ECS registered (live.ecs)

    @classmethod
    def of(cls, seen: reach.Seen, service_arn: Optional[str] = None) -> "InstanceView":
        registration = seen.registration
        custom = {k: v for k, v in registration.attributes if k not in (IPV4, PORT)}
        return cls(seen.id, registration.address_text if registration.address else "", custom,
                   registration.health.value, task_line(seen.id, custom, service_arn))


@dataclass
class RouteView:
    route: str  # the route key, e.g. "GET /leader"
    id: Optional[str]  # the routes.yaml id; None for a deployed route routes.yaml does not have
    deployed: bool
    # The service the integration targets, by its routes.yaml key when it is one of routes.yaml's services (else
    # `<Cloud Map name> (<id>)`), or routes.yaml's own when the route is not deployed; and its Cloud Map name.
    service: str = ""
    cloud_map_service: str = ""
    filter: dict[str, str] = field(default_factory=dict)
    drift: list[str] = field(default_factory=list)
    instances: list[InstanceView] = field(default_factory=list)  # what DiscoverInstances returns (what is reached)
    verdict: str = ""
    warnings: list[str] = field(default_factory=list)
    target: str = ""  # proxy | fan-out
    authorization: str = ""  # as routes.yaml says it (drift names the deployed one when it differs)
    failing: list[str] = field(default_factory=list)  # instances reached that cannot be called (no usable address)

    @property
    def ok(self) -> bool:
        return not self.drift and bool(self.instances) and not self.failing


@dataclass
class Report:
    file: str
    api: str  # the API's name in routes.yaml
    api_id: Optional[str]
    stage: str
    routes: list[RouteView]
    problems: list[str] = field(default_factory=list)  # API-level drift: no API, an ambiguous name

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.routes)

    def to_json(self) -> dict:
        out = asdict(self)
        out["ok"] = self.ok
        for view, data in zip(self.routes, out["routes"]):
            data["ok"] = view.ok
        return out


# -- reading ------------------------------------------------------------------------------------------------



def find_api(agw, model: Model, stack: str, api_id: Optional[str]) -> tuple[Optional[dict], list[str]]:
    """The deployed API: --api-id, else the one named like routes.yaml's api and tagged with this stack."""
    if api_id:
        return agw.get_api(ApiId=api_id), []
    named = [a for a in _pages(agw.get_apis, "Items") if a.get("Name") == model.api.name]
    tagged = [a for a in named if (a.get("Tags") or {}).get(STACK_TAG) == stack]
    if len(tagged) == 1:
        return tagged[0], []
    if len(tagged) > 1:
        ids = ", ".join(sorted(a["ApiId"] for a in tagged))
        return None, [f"{len(tagged)} APIs are named {model.api.name!r} with tag {STACK_TAG}={stack} ({ids}); "
                      f"pass --api-id"]
    untagged = [a for a in named if STACK_TAG not in (a.get("Tags") or {})]
    if len(untagged) == 1 and len(named) == 1:  # deployed before synth tagged APIs: unambiguous all the same
        return untagged[0], []
    if named:
        ids = ", ".join(sorted(a["ApiId"] for a in named))
        return None, [f"no API named {model.api.name!r} carries tag {STACK_TAG}={stack} (found {ids}); "
                      f"pass --stack or --api-id"]
    return None, [f"no API named {model.api.name!r} is deployed"]


def _filter_text(pairs: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(pairs.items())) or "(all instances)"


class _Reader:
    def __init__(self, model: Model, agw, sd) -> None:
        self.model, self.agw, self.sd = model, agw, sd
        self.descriptions = reach.describe(model)
        self._services: dict[str, dict] = {}
        self._namespaces: dict[str, str] = {}
        self._authorizers: dict[str, Optional[str]] = {}

    def service(self, service_id: str) -> dict:
        if service_id not in self._services:
            self._services[service_id] = self.sd.get_service(Id=service_id)["Service"]
        return self._services[service_id]

    def namespace(self, namespace_id: str) -> str:
        if namespace_id not in self._namespaces:
            self._namespaces[namespace_id] = namespace_http_name(self.sd, namespace_id)
        return self._namespaces[namespace_id]

    def key_of(self, service_id: str, found: dict) -> Optional[str]:
        """The routes.yaml key of a deployed Cloud Map service: the service routes.yaml declares by that ARN or
        id, or creates under that name in its namespace; None when routes.yaml has no such service."""
        for declared in self.model.services:
            if declared.existing_arn or declared.existing_id:
                if found.get("Arn") == declared.existing_arn or service_id == declared.existing_id:
                    return declared.key
            elif found["Name"] == declared.name and self._in_namespace(found):
                return declared.key
        return None

    def _in_namespace(self, found: dict) -> bool:
        namespace = self.model.namespace
        return namespace is None or (
            found.get("NamespaceId") == namespace.existing_id if namespace.existing_id
            else self.namespace(found["NamespaceId"]) == namespace.name or found.get("NamespaceId") == namespace.name)

    def expected_service_drift(self, route: Route, service_id: str, found: dict) -> Optional[str]:
        declared = self.model.service(route.service)
        deployed = f"{found['Name']} ({service_id})"
        other = self.key_of(service_id, found)
        if other is not None and other != route.service:  # another of routes.yaml's services
            return f"service: the integration targets {other} ({found['Name']}, {service_id}), routes.yaml says " \
                   f"{route.service}"
        if declared.existing_arn:
            if found.get("Arn") != declared.existing_arn:
                return f"service: the integration targets {deployed}, routes.yaml says {declared.existing_arn}"
            return None
        if declared.existing_id:
            if service_id != declared.existing_id:
                return f"service: the integration targets {deployed}, routes.yaml says {declared.existing_id}"
            return None
        namespace = self.model.namespace
        if found["Name"] != declared.name or not self._in_namespace(found):
            where = f" in namespace {namespace.name or namespace.existing_id}" if namespace else ""
            return f"service: the integration targets {deployed}, routes.yaml says {declared.name}{where}"
        return None

    def route(self, route: Route, deployed: Optional[dict], api_id: Optional[str]) -> RouteView:
        from botocore.exceptions import ClientError
        try:
            return self._route(route, deployed, api_id)
        except ClientError as exc:  # a dangling reference: the integration or the service is gone
            return RouteView(route.key.text, route.id, deployed is not None, drift=[
                f"cannot read what the route targets: {exc}"], verdict=NO_INSTANCE)

    def _route(self, route: Route, deployed: Optional[dict], api_id: Optional[str]) -> RouteView:
        description = self.descriptions[route.id]
        view = RouteView(route.key.text, route.id, deployed is not None, target=description.target.kind.value,
                         authorization=str(description.authorization))
        facts, service_drift, target = None, [], None  # what the deployed route says; where to discover
        service_arn = None  # the deployed service's: its account and partition are an ECS task's
        label = route.service
        if deployed is None:
            view.drift.append("not deployed: the API has no route with this key" if api_id else "not deployed")
        else:
            integration_id = (deployed.get("Target") or "").partition("integrations/")[2]
            if not integration_id:
                view.drift.append("the deployed route has no integration (no target)")
            else:
                uri = self.agw.get_integration(ApiId=api_id, IntegrationId=integration_id).get("IntegrationUri", "")
                facts = reach.Deployed(uri if isinstance(uri, str) else "", None, self.authorization(deployed, api_id))
                parsed = IntegrationUri.parse(facts.uri)
                if route.fan_out is None and parsed is not None:  # a fan-out's function discovers what we say
                    found = self.service(parsed.service_id)
                    service_arn = found.get("Arn")
                    service_drift = [p for p in [self.expected_service_drift(route, parsed.service_id, found)] if p]
                    target = (self.namespace(found["NamespaceId"]), found["Name"], has_health_check(found))
                    label = self.key_of(parsed.service_id, found) or deployed_label(found["Name"], parsed.service_id)
                    facts = reach.Deployed(facts.uri, target[2], facts.authorization)
        if target is None:
            names = resolve_service(self.sd, self.model, self.model.service(route.service))
            target = (names.namespace, names.name, names.has_health_check)
        return self._reached(view, description, facts, target, label, service_drift, service_arn)

    def _reached(self, view: RouteView, description: reach.RouteReach, facts: Optional[reach.Deployed],
                 target: tuple[str, str, bool], label: str, service_drift: list[str],
                 service_arn: Optional[str] = None) -> RouteView:
        """What DiscoverInstances returns now (every health status: reach decides who is kept out), observed."""
        namespace, name, _ = target
        parsed = IntegrationUri.parse(facts.uri) if facts else None
        query = parsed.filter if parsed and description.target.kind is reach.TargetKind.PROXY \
            else description.target.filter
        view.service, view.cloud_map_service, view.filter = label, name, dict(query.pairs)
        problems = []
        try:
            found = discover(self.sd, namespace, name, dict(query.pairs), "ALL")
        except Exception as exc:  # ServiceNotFound, NamespaceNotFound, access denied  # noqa: BLE001
            found = []
            problems.append(f"DiscoverInstances failed for {name} in {namespace}: {exc}")
        observation = reach.observe(description, [registration(f) for f in found], facts)
        view.drift += list(observation.drift) + service_drift
        view.instances = [InstanceView.of(s, service_arn) for s in observation.selected]
        view.failing = [s.id for s in observation.failing]
        view.verdict = observation.verdict
        view.warnings = problems + [w.message for w in observation.warnings]
        return view

    def authorization(self, route: dict, api_id: Optional[str]) -> reach.DeployedAuthorization:
        """A deployed route's authorization: its type, its authorizer's name (GetAuthorizer), its scopes."""
        authorizer_id = route.get("AuthorizerId")
        if authorizer_id and authorizer_id not in self._authorizers:
            self._authorizers[authorizer_id] = self.agw.get_authorizer(ApiId=api_id, AuthorizerId=authorizer_id).get(
                "Name")
        scopes = route.get("AuthorizationScopes") or []
        return reach.DeployedAuthorization(str(route.get("AuthorizationType") or "NONE"),
                                           self._authorizers.get(authorizer_id) if authorizer_id else None,
                                           tuple(str(s) for s in scopes if isinstance(s, str)))


def registration(found: Found) -> reach.Registration:
    """An instance DiscoverInstances returned, as reach reads it (its health checked, never trusted)."""
    return reach.Registration(found.id, found.attributes, reach.Health.of(found.health))


def deployed_label(name: str, service_id: str) -> str:
    """A deployed Cloud Map service routes.yaml does not declare: its name and id."""
    return f"{name} ({service_id})"


def read(model: Model, agw, sd, file: str = "routes.yaml", stack: str = DEFAULT_STACK,
         api_id: Optional[str] = None) -> Report:
    api, problems = find_api(agw, model, stack, api_id)
    report = Report(file, model.api.name, api["ApiId"] if api else None, model.api.stage, [], problems)
    deployed = {r["RouteKey"]: r for r in _pages(agw.get_routes, "Items", ApiId=api["ApiId"])} if api else {}
    reader = _Reader(model, agw, sd)
    for route in sorted(model.routes, key=lambda r: r.key.text):
        report.routes.append(reader.route(route, deployed.get(route.key.text), report.api_id))
    declared = {r.key.text for r in model.routes}
    for key in sorted(set(deployed) - declared):
        report.routes.append(RouteView(key, None, True, drift=["deployed, but routes.yaml has no such route"],
                                       verdict="not in routes.yaml"))
    return report


# -- rendering ----------------------------------------------------------------------------------------------


def _instance_text(i: InstanceView, view: RouteView, verbose: bool = False) -> str:
    """`task-0  10.0.1.10:8080  leader=true  HEALTHY`. The attributes ECS sets on every task are news only when
    the filter names them; --verbose shows them all."""
    shown = {k: v for k, v in i.attributes.items() if verbose or k not in ECS_ATTRIBUTES or k in view.filter}
    attributes = " ".join(f"{k}={v}" for k, v in sorted(shown.items()))
    return f"{i.id}  {i.address or '(no address)'}  {attributes or '-'}  {i.health}" + (
        f"  {i.ecs_task}" if i.ecs_task else "")


def summary(report: Report) -> str:
    drifted = sum(1 for r in report.routes if r.drift)
    empty = sum(1 for r in report.routes if r.id is not None and not r.instances)
    ok = sum(1 for r in report.routes if r.ok)
    failing = sum(1 for r in report.routes if r.failing)
    return f"{ok} of {len(report.routes)} route(s) ok; {drifted} drifted; {empty} reaching no instance" + (
        f"; {failing} reaching instances that cannot be called" if failing else "")


def render_text(report: Report, verbose: bool = False) -> str:
    lines = [f"{report.file}: API {report.api} ({'id ' + report.api_id if report.api_id else 'not found'}, "
             f"stage {report.stage})"]
    lines += [f"  problem: {p}" for p in report.problems]
    for view in report.routes:
        state = "DRIFT" if view.drift else "deployed, as in routes.yaml"
        lines.append(f"{view.route}{f'  [{view.id}]' if view.id else ''}  {state}")
        lines += [f"  drift: {d}" for d in view.drift]
        if view.id is None:
            continue
        cloud_map = f" (Cloud Map {view.cloud_map_service})" if view.cloud_map_service not in ("", view.service) \
            and not view.service.startswith(view.cloud_map_service + " (") else ""
        lines.append(f"  service {view.service}{cloud_map}, filter {_filter_text(view.filter)}")
        lines += [f"  {_instance_text(i, view, verbose)}" for i in view.instances]
        lines.append(f"  verdict: {view.verdict}")
        lines += [f"  warning: {w}" for w in view.warnings]
    lines.append(summary(report))
    return "\n".join(lines)


def render_markdown(report: Report) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")
    lines = [f"### `{report.api}` ({f'api `{report.api_id}`' if report.api_id else '**not found**'}, stage "
             f"`{report.stage}`)", ""]
    lines += [f"- **problem:** {cell(p)}" for p in report.problems]
    lines += ["" if report.problems else None, "| route | deployed | drift | instances reached | verdict |",
              "|---|---|---|---|---|"]
    for view in report.routes:
        instances = "<br>".join(f"`{i.id}` {i.address or '(no address)'} {i.health}" for i in view.instances) or "-"
        mark = "" if view.ok or view.id is None else " **✗**"
        lines.append(f"| `{cell(view.route)}` | {'yes' if view.deployed else '**no**'} | "
                     f"{cell('; '.join(view.drift)) or '-'} | {instances} | {cell(view.verdict)}{mark} |")
    warnings = [(v.route, w) for v in report.routes for w in v.warnings]
    if warnings:
        lines += ["", "Warnings:", ""] + [f"- `{cell(route)}`: {cell(w)}" for route, w in warnings]
    lines += ["", summary(report)]
    return "\n".join(line for line in lines if line is not None)


def render(report: Report, fmt: str, verbose: bool = False) -> str:
    if fmt == "json":
        return json.dumps(report.to_json(), indent=2)
    return render_markdown(report) if fmt == "markdown" else render_text(report, verbose)


def _snapshot(report: Report) -> dict[str, dict]:
    return {"(api)": {"problems": report.problems, "api_id": report.api_id},
            **{v.route: {"drift": v.drift, "reaches": [f"{i.id} {i.address} {i.health}" for i in v.instances],
                         "verdict": v.verdict, "warnings": v.warnings} for v in report.routes}}


def changes(before: Report, after: Report) -> list[dict]:
    """What differs between two reads, per route and aspect (for --watch)."""
    old, new = _snapshot(before), _snapshot(after)
    out = []
    for route in sorted(set(old) | set(new)):
        a, b = old.get(route, {}), new.get(route, {})
        for aspect in sorted(set(a) | set(b)):
            if a.get(aspect) != b.get(aspect):
                out.append({"route": route, "aspect": aspect, "before": a.get(aspect), "after": b.get(aspect)})
    return out


def _change_text(change: dict) -> str:
    def show(value) -> str:
        if value is None or value == []:
            return "(none)"
        return ", ".join(value) if isinstance(value, list) else str(value)
    return f"{change['route']}: {change['aspect']}: {show(change['before'])} -> {show(change['after'])}"


# -- the command --------------------------------------------------------------------------------------------


def run_status(file: str, fmt: str = "text", api_id: Optional[str] = None, stack: str = DEFAULT_STACK,
               local_aws: Optional[str] = None, watch: Optional[float] = None, out: Optional[TextIO] = None,
               err: Optional[TextIO] = None, environment: Optional[str] = None, verbose: bool = False) -> int:
    """Exit 0 when every route is deployed as declared and reaches instances that can answer; 1 when one has
    drifted, reaches none or reaches one that cannot be called (or routes.yaml is invalid); 2 when the deployed
    system cannot be read. `check`'s warnings are printed with `verbose` only (errors always)."""
    out, err = out or sys.stdout, err or sys.stderr
    model, diagnostics = compile_file(file, environment)
    shown = diagnostics if verbose or model is None else [d for d in diagnostics if d.severity == ERROR]
    if shown:
        print(render_diagnostics(shown), file=err)
    if model is None:
        return 1
    from botocore.exceptions import BotoCoreError, ClientError
    try:
        agw = aws_client("apigatewayv2", model.region, local_aws)
        sd = aws_client("servicediscovery", model.region, local_aws)
        report = read(model, agw, sd, file, stack, api_id)
    except (BotoCoreError, ClientError) as exc:
        print(f"main.py: error: cannot read the deployed API: {exc}", file=err)
        return 2
    print(render(report, fmt, verbose), file=out, flush=True)
    while watch:
        time.sleep(watch)
        try:
            latest = read(model, agw, sd, file, stack, api_id)
        except (BotoCoreError, ClientError) as exc:
            print(f"{time.strftime('%H:%M:%S')} cannot read the deployed API: {exc}", file=err, flush=True)
            continue
        stamp = time.strftime("%H:%M:%S")
        for change in changes(report, latest):
            line = json.dumps({"time": stamp, **change}) if fmt == "json" else f"{stamp} {_change_text(change)}"
            print(line, file=out, flush=True)
        report = latest
    return 0 if report.ok else 1

