"""The graph every picture draws: what a request meets, stage by stage, left to right.

    route -> authorization -> integration (proxy or fan-out) -> service + filter -> instances

One route owns its route, authorization and integration nodes (each route has its own integration in the stack,
and a node shared by two routes would hide which of them goes where); routes that reach the same service with the
same filter share that node, and every instance of a service is one node that each matching filter points at. An
edge to an instance that matches but is kept out by its health is drawn blocked: it receives no traffic.

The graph is built in one function, `build`, from one `RoutePath` per route: what the picture needs to know of
a route. `paths_of` reads those from the validated model; it is the one adapter to replace once the reach core
(one typed description per route) is on main, so that the picture says what every other tool says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Iterable, Mapping, Optional, Sequence

from ..core.text import visible
from ..language.model import ECS_ATTRIBUTES, AttributeFilter, Model, Route

MAX_LINE = 44  # characters of one label line in a drawn node; the full text stays in the node's tooltip
MAX_LINES_LISTED = 3  # CIDRs, attributes: the first few, then "+N more"


class Stage(Enum):
    """The columns of a picture, left to right."""

    ROUTE = "route"
    AUTHORIZATION = "authorization"
    INTEGRATION = "integration"
    SERVICE = "service"
    INSTANCE = "instance"

    @property
    def column(self) -> int:
        return list(Stage).index(self)


class Mark(Enum):
    """How a change between two revisions highlights a route (and everything it owns)."""

    NONE = ""
    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"


@dataclass(frozen=True)
class Node:
    id: str  # generated, [a-z0-9-] only: never text from routes.yaml or AWS
    stage: Stage
    title: str  # untrusted text: every renderer escapes it
    lines: tuple[str, ...] = ()  # further lines, untrusted too
    mark: Mark = Mark.NONE
    state: str = ""  # instances: healthy | unhealthy | unknown | missing (no instance known)
    route: str = ""  # the route id, for a node that belongs to one route


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    mark: Mark = Mark.NONE
    blocked: bool = False  # the instance matches the filter but its health keeps requests away
    before: bool = False  # where a changed route went before the change


@dataclass(frozen=True)
class Graph:
    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    def of_stage(self, stage: Stage) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.stage is stage)

    @property
    def marked(self) -> bool:
        return any(n.mark is not Mark.NONE for n in self.nodes)


@dataclass(frozen=True)
class RoutePath:
    """What a picture shows of one route."""

    id: str
    key: str  # `GET /leader`, `$default`
    authorization: str  # `none`, `iam`, `jwt operators`, `allow-list office`
    authorization_lines: tuple[str, ...]  # scopes, the networks an allow-list admits, `declared public`
    fan_out: bool
    integration_lines: tuple[str, ...]  # how requests spread, timeouts
    service: str  # the key under `services`
    service_name: str  # its Cloud Map name
    filter: AttributeFilter
    has_health_check: bool
    include_unhealthy: bool = False  # a fan-out that calls unhealthy instances too (HealthStatus ALL)


@dataclass(frozen=True)
class Instance:
    """One registered instance, from routes.yaml's `instances` or from Cloud Map's DiscoverInstances."""

    id: str
    address: str  # `10.0.1.10:8080`, or "" when the address attributes are missing
    attributes: tuple[tuple[str, str], ...]  # the custom attributes, sorted
    health: str = "HEALTHY"  # HEALTHY | UNHEALTHY | UNKNOWN


# -- the adapter: the validated model -> one RoutePath per route ------------------------------------------------


def paths_of(model: Model) -> list[RoutePath]:
    """Every route of the model as the picture shows it, sorted by route key."""
    return sorted((path_of(model, route) for route in model.routes), key=lambda p: (p.key, p.id))


def path_of(model: Model, route: Route) -> RoutePath:
    service = model.service(route.service)
    authorization, lines = _authorization(model, route)
    return RoutePath(route.id, route.key.text, authorization, lines, route.fan_out is not None,
                     _integration_lines(route), service.key, service.name, route.filter,
                     service.health_check != "none", bool(route.fan_out and route.fan_out.include_unhealthy))


def _authorization(model: Model, route: Route) -> tuple[str, tuple[str, ...]]:
    kind = route.authorization.kind
    lines = [f"scopes {', '.join(route.scopes)}"] if route.scopes else []
    if kind == "allowlist":
        authorizer = next(a for a in model.authorizers if a.key == route.authorization.authorizer)
        lines += listed(authorizer.cidrs)
    if route.public:
        lines.append("declared public")
    title = {"none": "no authorization", "iam": "IAM (SigV4)"}.get(kind)
    if title is None:
        title = f"{'allow-list' if kind == 'allowlist' else kind} {route.authorization.authorizer}"
    return title, tuple(lines)


def _integration_lines(route: Route) -> tuple[str, ...]:
    timeout = f"timeout {route.timeout_ms} ms"
    if route.fan_out is None:
        return "one instance per request, round-robin", timeout
    fan_out = route.fan_out
    return (f"a function calls every instance, {fan_out.concurrency} at a time",
            f"{fan_out.per_instance_timeout_ms} ms per instance, {timeout}")


def static_instances(model: Model) -> dict[str, tuple[Instance, ...]]:
    """routes.yaml's `instances`, by service key (a service without any has an empty tuple)."""
    return {s.key: tuple(Instance(i.id, f"{i.ipv4}:{i.port}", i.attributes) for i in s.instances)
            for s in model.services}


def listed(items: Sequence[str]) -> list[str]:
    """The first few items, then `+N more`."""
    shown = list(items[:MAX_LINES_LISTED])
    return shown + ([f"+{len(items) - len(shown)} more"] if len(items) > len(shown) else [])


# -- the graph ------------------------------------------------------------------------------------------------


STATIC_NONE = "none in routes.yaml; --live reads Cloud Map"


def build(paths: Iterable[RoutePath], instances: Optional[Mapping[str, Sequence[Instance]]] = None,
          marks: Optional[Mapping[str, Mark]] = None, title: str = "",
          notes: Optional[Mapping[str, str]] = None, before: Optional[Mapping[str, RoutePath]] = None) -> Graph:
    """The graph of these routes. `instances` by service key (None: draw no instance column; a service missing
    from it or with none gets a `no instance known` node, saying why from `notes` by service key, else that
    routes.yaml lists none); `marks` by route id highlight what a change touches; `before` by route id: a changed
    route as it was, whose earlier service + filter is drawn too (marked removed) when it is another."""
    paths, marks = sorted(paths, key=lambda p: (p.key, p.id)), marks or {}
    earlier = {p.id: before[p.id] for p in paths if before and p.id in before and _target(before[p.id]) != _target(p)}
    nodes: list[Node] = []
    edges: list[Edge] = []
    services = _service_nodes(paths, marks, list(earlier.values()))
    for n, path in enumerate(paths):
        mark = marks.get(path.id, Mark.NONE)
        chain = [Node(f"r{n}", Stage.ROUTE, path.key, (f"id {path.id}",), mark, route=path.id),
                 Node(f"a{n}", Stage.AUTHORIZATION, path.authorization, path.authorization_lines, mark, route=path.id),
                 Node(f"i{n}", Stage.INTEGRATION, "fan-out" if path.fan_out else "proxy", path.integration_lines,
                      mark, route=path.id)]
        nodes += chain
        edges += [Edge(a.id, b.id, mark) for a, b in zip(chain, chain[1:])]
        edges.append(Edge(chain[-1].id, services[_target(path)].id, mark))
        if path.id in earlier:
            edges.append(Edge(chain[-1].id, services[_target(earlier[path.id])].id, Mark.REMOVED, before=True))
    nodes += services.values()
    if instances is not None:
        found, found_edges = _instance_nodes(paths, services, instances, notes or {})
        nodes += found
        edges += found_edges
    return Graph(title, tuple(nodes), tuple(dict.fromkeys(edges)))


def _target(path: RoutePath) -> tuple:
    return path.service, path.filter


def _service_nodes(paths: list[RoutePath], marks: Mapping[str, Mark],
                   earlier: Sequence[RoutePath] = ()) -> dict[tuple, Node]:
    """One node per (service, filter) the routes reach, in service then filter order: changed when a marked route
    reaches it, removed when only what changed routes reached before."""
    reached: dict[tuple, list[RoutePath]] = {}
    for path in [*paths, *earlier]:
        reached.setdefault(_target(path), []).append(path)
    now = {_target(p) for p in paths if marks.get(p.id) is not Mark.REMOVED}
    out = {}
    for n, (key, by) in enumerate(sorted(reached.items(), key=lambda item: (item[0][0], item[0][1].pairs))):
        service, filter_ = key
        lines = [f"filter {filter_}" if filter_ else "filter: all instances"]
        if by[0].service_name != service:
            lines.append(f"Cloud Map name {by[0].service_name}")
        marked = any(marks.get(p.id, Mark.NONE) is not Mark.NONE for p in by)
        mark = Mark.REMOVED if key not in now else Mark.CHANGED if marked else Mark.NONE
        out[key] = Node(f"s{n}", Stage.SERVICE, service, tuple(lines), mark)
    return out


def _instance_nodes(paths: list[RoutePath], services: dict[tuple, Node],
                    instances: Mapping[str, Sequence[Instance]],
                    notes: Mapping[str, str]) -> tuple[list[Node], list[Edge]]:
    nodes, edges = [], []
    by_service: dict[str, list[tuple[RoutePath, Node]]] = {}
    for path in paths:
        by_service.setdefault(path.service, []).append((path, services[(path.service, path.filter)]))
    for service in sorted(by_service):
        known = sorted(instances.get(service, ()), key=lambda i: i.id)
        if not known:
            why = notes.get(service, STATIC_NONE)
            node = Node(f"n{len(nodes)}", Stage.INSTANCE, f"no instance of {service}", tuple(why.split("; ")),
                        state="missing")
            nodes.append(node)
            edges += [Edge(s.id, node.id, blocked=True) for _, s in by_service[service]]
            continue
        for instance in known:
            node = Node(f"n{len(nodes)}", Stage.INSTANCE, instance.id, _instance_lines(instance),
                        state=instance.health.lower() if instance.health in ("HEALTHY", "UNHEALTHY") else "unknown")
            nodes.append(node)
            custom = dict(instance.attributes)
            for path, service_node in by_service[service]:
                if path.filter.matches(custom):
                    kept_out = path.has_health_check and not path.include_unhealthy and instance.health != "HEALTHY"
                    edges.append(Edge(service_node.id, node.id, blocked=kept_out))
    return nodes, edges


def _instance_lines(instance: Instance) -> tuple[str, ...]:
    shown = [f"{k}={v}" for k, v in instance.attributes if k not in ECS_ATTRIBUTES]
    return (instance.address or "no AWS_INSTANCE_IPV4/PORT", *listed(shown), instance.health.lower())


def compared(base: Sequence[RoutePath], head: Sequence[RoutePath], marks: Mapping[str, Mark]) -> list[RoutePath]:
    """The routes of a change: head's, plus base's for the routes it removes (drawn as removed)."""
    return [*head, *(p for p in base if marks.get(p.id) is Mark.REMOVED)]


# Characters XML 1.0 does not allow in a document (section 2.2, Char): shown as escapes, like control characters.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def printable(text: str) -> str:
    """Text as every picture prints it: control and invisible characters, and those XML cannot hold, as escapes."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", visible(text))


def of_change(base: Sequence[RoutePath], head: Sequence[RoutePath], marks: Mapping[str, Mark],
              title: str = "") -> Graph:
    """The picture of a review: only the routes the change touches (head's side; removed ones as they were)."""
    before = {p.id: p for p in base if marks.get(p.id) is Mark.CHANGED}
    return build([p for p in compared(base, head, marks) if p.id in marks], marks=marks, title=title, before=before)


def mark_note(node: Node) -> str:
    """The words a marked node carries (a mark is never said in colour alone): on the route, what happened to it;
    on a service + filter, whether the change reaches it or it was reached before; "" elsewhere."""
    if node.mark is Mark.NONE or node.stage not in (Stage.ROUTE, Stage.SERVICE):
        return ""
    if node.stage is Stage.ROUTE:
        return node.mark.value
    return "reached before the change" if node.mark is Mark.REMOVED else "reached after the change"


def shorten(text: str, limit: int = MAX_LINE) -> str:
    """One drawn line of a label, printable: at most `limit` characters, an ellipsis marking what was cut."""
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
