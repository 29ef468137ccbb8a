"""What a review says: the route-level and resource-level changes of one change, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    warnings: list[str] = field(default_factory=list)  # introduced by the change: `W403: message`
    # (aspect label, before, after) for each aspect of the route's description that changes: what `details`
    # says in words, as data (diff and summarize-plan agree on it; tests/test_agreement.py)
    aspects: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class OwnerChange:
    """A change to something other than a route (the API, a service, ...) that its row shows: an override's."""

    owner: str  # `api`, `service raft`, `vpc_link`, `authorizer tokens`
    details: list[str] = field(default_factory=list)
    resources: list[ResourceChange] = field(default_factory=list)


@dataclass
class Summary:
    title: str
    routes: list[RouteChange]
    resources: list[ResourceChange]
    unmanaged: list[ResourceChange] = field(default_factory=list)  # in the plan, not of a type this tool emits
    warnings: list[str] = field(default_factory=list)  # introduced by the change, about no one route
    owners: list[OwnerChange] = field(default_factory=list)  # override changes of the API, services, ... (diff)

    @property
    def replacements(self) -> list[ResourceChange]:
        return [c for c in self.resources if c.action == "replace" or (c.action == "delete" and c.consequence)]

    @property
    def unchanged(self) -> bool:
        return not self.routes and not self.resources and not self.warnings
