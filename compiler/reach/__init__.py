"""What a route does: one answer that diff, summarize-plan, status and serve share.

    describe(model)                          -> {route id: RouteReach}     the model alone (description.py)
    observe(reach, instances, deployed=None) -> RouteObservation           plus Cloud Map and the deployed API
    authorization_of(model, route)           -> RouteAuthorization         the hook `serve` authorizes with
    aspects.values(reach)                    -> {Aspect: value}            what a review compares (aspects.py)

A description holds the route's target (a Cloud Map service with its filter, proxied to one instance per request,
or a fan-out over every matching instance, with every option that changes who is reached or how), its
authorization as it will be enforced, what a request gets for 0, 1 and n matching instances, and the warnings that
follow from routes.yaml. Every route option is declared once (options.py). Pure functions: no boto3, no I/O.
"""

from __future__ import annotations

from dataclasses import replace

from ..language.model import Model, Service
from .description import (
    AuthKind,
    Concern,
    IdentityKind,
    IdentitySource,
    ReachWarning,
    RouteAuthorization,
    RouteReach,
    Target,
    TargetKind,
    authorization_of,
    describe_route,
)
from .observation import (
    Deployed,
    DeployedAuthorization,
    Health,
    Registration,
    RouteObservation,
    Seen,
    Standing,
    observe,
)

__all__ = ["AuthKind", "Concern", "Deployed", "DeployedAuthorization", "Health", "IdentityKind", "IdentitySource",
           "ReachWarning", "Registration", "RouteAuthorization", "RouteObservation", "RouteReach", "Seen", "Standing",
           "Target", "TargetKind", "authorization_of", "describe", "observe", "static_registrations"]


def static_registrations(service: Service) -> tuple[Registration, ...]:
    """routes.yaml's `instances` as Terraform registers them: the address attributes plus the custom ones."""
    from .observation import IPV4, PORT
    return tuple(Registration(i.id, tuple(sorted({IPV4: i.ipv4, PORT: str(i.port), **dict(i.attributes)}.items())))
                 for i in service.instances)


def describe(model: Model) -> dict[str, RouteReach]:
    """Every route's description, by route id. For a service with static instances, what they are known to give
    (a filter that matches none, a leader filter that matches two) is among the route's warnings."""
    out = {}
    for route in model.routes:
        reach = describe_route(model, route)
        service = model.service(route.service)
        if service.instances:
            known = observe(reach, static_registrations(service))
            extra = tuple(w for w in known.warnings if w.concern is not Concern.UNSETTABLE_FILTER)
            if not known.selected:
                extra += (ReachWarning(Concern.NO_INSTANCE, f"filter {route.filter} matches none of the static "
                                       f"instances of {service.key!r}", "W401"),)
            reach = replace(reach, warnings=reach.warnings + extra)
        out[route.id] = reach
    return out
