"""What a route reaches now: a description (description.py) plus the instances Cloud Map returns, and optionally
what the API has deployed. Pure: the callers read AWS (status) or their own registry (serve) and pass the answers.

Every instance is given one standing: it serves, it is selected but cannot be called (no usable
AWS_INSTANCE_IPV4/AWS_INSTANCE_PORT: API Gateway and the fan-out function read the address from these), it is
kept out by its health, or it does not match the filter. With an attribute lag (an instance's attributes changed
a moment ago, and Cloud Map may still match the old ones), an instance the old attributes match still serves.
Everything here comes from AWS and is untrusted: nothing raises on it.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Iterable, Optional

from ..language.model import AttributeFilter, IntegrationUri
from .description import Concern, ReachWarning, TargetKind, selects_one

if TYPE_CHECKING:
    from .description import RouteReach

IPV4 = "AWS_INSTANCE_IPV4"
PORT = "AWS_INSTANCE_PORT"
_PORT = re.compile(r"^[0-9]{1,5}$")


class Health(Enum):
    HEALTHY = "HEALTHY"
    UNHEALTHY = "UNHEALTHY"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def of(cls, text: object) -> "Health":
        """DiscoverInstances' HealthStatus; anything unexpected is UNKNOWN."""
        return next((h for h in cls if h.value == text), cls.UNKNOWN)


@dataclass(frozen=True)
class Registration:
    """One instance as Cloud Map returns it (DiscoverInstances), or as routes.yaml registers it."""

    id: str
    attributes: tuple[tuple[str, str], ...]  # every attribute, AWS_* included, sorted
    health: Health = Health.HEALTHY
    earlier: Optional[tuple[tuple[str, str], ...]] = None  # its attributes before a change still within the lag

    @property
    def attribute_map(self) -> dict[str, str]:
        return dict(self.attributes)

    @property
    def address_problem(self) -> str:
        """Why the instance cannot be called, or "" when its address is usable."""
        attributes = self.attribute_map
        ipv4, port = attributes.get(IPV4), attributes.get(PORT)
        if ipv4 is None or port is None:
            return f"no {IPV4}/{PORT}"
        try:
            ipaddress.IPv4Address(ipv4)
        except ValueError:
            return f"{IPV4} {ipv4!r} is not an IPv4 address"
        if not _PORT.match(port) or not 0 < int(port) < 65536:
            return f"{PORT} {port!r} is not a port"
        return ""

    @property
    def address(self) -> Optional[tuple[str, int]]:
        if self.address_problem:
            return None
        attributes = self.attribute_map
        return attributes[IPV4], int(attributes[PORT])

    @property
    def address_text(self) -> str:
        return f"{self.address[0]}:{self.address[1]}" if self.address else f"(no {IPV4}/{PORT})"


class Standing(Enum):
    SERVES = "serves"
    SERVES_BY_LAG = "serves (its earlier attributes match, within the attribute lag)"
    CANNOT_BE_CALLED = "cannot be called"
    UNHEALTHY = "kept out by its health"
    NOT_MATCHED = "does not match the filter"

    @property
    def selected(self) -> bool:
        """Whether requests go to it (whether or not they succeed)."""
        return self in (Standing.SERVES, Standing.SERVES_BY_LAG, Standing.CANNOT_BE_CALLED)


@dataclass(frozen=True)
class Seen:
    registration: Registration
    standing: Standing
    reason: str = ""  # for CANNOT_BE_CALLED: what is wrong with the address; for UNHEALTHY: the health

    @property
    def id(self) -> str:
        return self.registration.id


@dataclass(frozen=True)
class DeployedAuthorization:
    """A deployed route's authorization: AuthorizationType, its authorizer's name (routes.yaml's key: the plan
    names authorizers by key) and its scopes."""

    api_type: str
    authorizer: Optional[str] = None
    scopes: tuple[str, ...] = ()

    def __str__(self) -> str:
        scopes = f" scopes {', '.join(self.scopes)}" if self.scopes else ""
        return (f"{self.api_type} {self.authorizer}" if self.authorizer else self.api_type) + scopes


@dataclass(frozen=True)
class Deployed:
    """What the deployed route says (status reads it): its integration's URI, the health check of the Cloud Map
    service it targets (None when not read), and its authorization."""

    uri: str = ""
    has_health_check: Optional[bool] = None
    authorization: Optional[DeployedAuthorization] = None

    @property
    def kind(self) -> Optional[TargetKind]:
        if IntegrationUri.parse(self.uri):
            return TargetKind.PROXY
        return TargetKind.FAN_OUT if ":lambda:" in self.uri else None  # a function's invoke ARN


@dataclass(frozen=True)
class RouteObservation:
    reach: "RouteReach"
    filter: AttributeFilter  # the filter traffic meets: the deployed integration's, else routes.yaml's
    instances: tuple[Seen, ...]  # sorted by id
    drift: tuple[str, ...] = ()
    warnings: tuple[ReachWarning, ...] = ()

    @property
    def selected(self) -> tuple[Seen, ...]:
        return tuple(s for s in self.instances if s.standing.selected)

    @property
    def serving(self) -> tuple[Seen, ...]:
        return tuple(s for s in self.instances if s.standing in (Standing.SERVES, Standing.SERVES_BY_LAG))

    @property
    def failing(self) -> tuple[Seen, ...]:
        return tuple(s for s in self.instances if s.standing is Standing.CANNOT_BE_CALLED)

    @property
    def ok(self) -> bool:
        """As deployed as declared, and every request reaches an instance that can answer."""
        return not self.drift and bool(self.serving) and not self.failing

    @property
    def verdict(self) -> str:
        return verdict(self)


def observe(reach: "RouteReach", instances: Iterable[Registration],
            deployed: Optional[Deployed] = None) -> RouteObservation:
    """What the route reaches with these instances (every instance of its service, or those DiscoverInstances
    returned for its filter: the filter is applied here either way) and, if given, as deployed."""
    drift = tuple(_drift(reach, deployed)) if deployed else ()
    uri = IntegrationUri.parse(deployed.uri) if deployed else None
    filter_ = uri.filter if uri and reach.target.kind is TargetKind.PROXY else reach.target.filter
    checked = deployed.has_health_check if deployed and deployed.has_health_check is not None \
        else reach.target.service.has_health_check
    everyone = reach.target.health_status(checked) == "ALL"
    seen = tuple(standing(r, filter_, everyone) for r in sorted(instances, key=lambda r: r.id))
    observation = RouteObservation(reach, filter_, seen, drift)
    return RouteObservation(reach, filter_, seen, drift, tuple(_warnings(observation)))


def standing(registration: Registration, filter_: AttributeFilter, everyone: bool) -> Seen:
    """One instance's standing for a filter; `everyone`: health does not keep anyone out (HealthStatus ALL)."""
    if filter_.matches(registration.attribute_map):
        lagging = False
    elif registration.earlier is not None and filter_.matches(dict(registration.earlier)):
        lagging = True
    else:
        return Seen(registration, Standing.NOT_MATCHED)
    if not everyone and registration.health is not Health.HEALTHY:
        return Seen(registration, Standing.UNHEALTHY, registration.health.value)
    problem = registration.address_problem
    if problem:
        return Seen(registration, Standing.CANNOT_BE_CALLED, problem)
    return Seen(registration, Standing.SERVES_BY_LAG if lagging else Standing.SERVES)


def _drift(reach: "RouteReach", deployed: Deployed) -> Iterable[str]:
    uri = deployed.uri or "(no URI)"
    if reach.target.kind is TargetKind.FAN_OUT and deployed.kind is not TargetKind.FAN_OUT:
        yield f"a fan-out route's integration should invoke its function, not {uri}"
    elif reach.target.kind is TargetKind.PROXY:
        parsed = IntegrationUri.parse(deployed.uri)
        if parsed is None:
            yield f"the integration does not target a Cloud Map service: {uri}"
        elif parsed.filter != reach.target.filter:
            yield f"filter: the integration says {parsed.filter}, routes.yaml says {reach.target.filter}"
    authorization = deployed.authorization
    wanted = reach.authorization
    if authorization is not None and (authorization.api_type, authorization.authorizer, authorization.scopes) != (
            wanted.kind.api_type, wanted.authorizer, wanted.scopes):
        yield (f"authorization: the route says {authorization}, routes.yaml says "
               f"{DeployedAuthorization(wanted.kind.api_type, wanted.authorizer, wanted.scopes)}")


def _warnings(observation: RouteObservation) -> Iterable[ReachWarning]:
    target, selected = observation.reach.target, observation.selected
    fan_out = target.kind is TargetKind.FAN_OUT
    for seen in observation.instances:
        if seen.standing is Standing.UNHEALTHY:
            yield ReachWarning(Concern.UNHEALTHY, f"{seen.id} ({seen.registration.address_text}) matches but is "
                               f"{seen.reason}: it receives no traffic")
        elif seen.standing is Standing.CANNOT_BE_CALLED:
            consequence = ("the fan-out function cannot call it, and reports it failed in every answer" if fan_out else
                           f"API Gateway cannot reach it, and requests sent to it fail: 1 request in {len(selected)}")
            yield ReachWarning(Concern.CANNOT_BE_CALLED, f"{seen.id} has {seen.reason}: {consequence}")
    if len(selected) > 1 and selects_one(observation.filter):
        ids = ", ".join(s.id for s in selected)
        yield ReachWarning(Concern.SPLIT_BRAIN, f"filter {observation.filter} should select one instance, but "
                           f"{len(selected)} match ({ids}): split brain, "
                           + ("each is called on every request" if fan_out else "requests go to each in turn"))
    if not selected:
        yield from (w for w in observation.reach.warnings if w.concern is Concern.UNSETTABLE_FILTER)


NO_INSTANCE = "no instance: every request fails with 500"
NO_INSTANCE_FAN_OUT = "no instance: every request gets 502 from the fan-out function"


def verdict(observation: RouteObservation) -> str:
    """What traffic meets, in a line: how many instances, how requests spread, and what fails."""
    selected, failing = observation.selected, observation.failing
    if observation.reach.target.kind is TargetKind.FAN_OUT:
        return _fan_out_verdict(selected, failing)
    if not selected:
        return NO_INSTANCE
    if len(selected) == 1:
        only = selected[0]
        return (f"one instance: {only.id} cannot be called ({only.reason}): every request fails with 500" if failing
                else f"one instance: {only.id} serves all")
    spread = f"{len(selected)} instances, round-robin"
    if len(failing) == len(selected):
        return f"{spread}: none can be called, every request fails with 500"
    if failing:
        ids = ", ".join(s.id for s in failing)
        requests = "1 request" if len(failing) == 1 else f"{len(failing)} requests"
        return f"{spread}: {requests} in {len(selected)} fail{'s' if len(failing) == 1 else ''} with 500 ({ids} " \
               f"cannot be called)"
    return spread


def _fan_out_verdict(selected: tuple[Seen, ...], failing: tuple[Seen, ...]) -> str:
    if not selected:
        return NO_INSTANCE_FAN_OUT
    called = f"all {len(selected)} instances," if len(selected) > 1 else f"one instance, {selected[0].id},"
    text = f"fan-out: {called} each request"
    if len(failing) == len(selected):
        return f"{text}; none can be called: every answer is 502"
    if failing:
        return f"{text}; {', '.join(s.id for s in failing)} cannot be called: every answer is 207 (some failed)"
    return text
