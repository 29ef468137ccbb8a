"""What a route does, read from the validated model once: its target, its authorization as API Gateway will
enforce it, what a request gets for 0, 1 and n matching instances, and the warnings that follow from the model.

Answers API Gateway gives itself (developer guide and field captures; /work/shared-notes/agw-paths.md, Q3):

- no matching instance: 500 `{"message":"Internal Server Error"}`. A field observation of Cloud Map private
  integrations, not a documented answer (the guide says only "API Gateway distributes requests across healthy
  resources that are returned from DiscoverInstances", docs.aws.amazon.com/apigateway/latest/developerguide/
  http-api-develop-integrations-private.html); `serve` answers the same.
- an integration timeout: 503 `{"message":"Service Unavailable"}` on an HTTP API (a REST API gives 504). Captured
  from AWS in cortexlabs/cortex#1225 (`< HTTP/2 503 ... {"message":"Service Unavailable"}` after a 29 s request)
  and reported in serverless/serverless#11222 ("must be greater than the lambda timeout to avoid getting a 503")
  and anomalyco/sst#2232 ("this "503 Service Unavailable" error is originating from API Gateway itself").
- a fan-out route's function answers for itself (handlers/fanout.py): 200 every matched instance succeeded, 207
  some failed, 502 all failed or none matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Optional

from ..language.model import DEFAULT_TIMEOUT_MS, AttributeFilter, FanOut, Model, Route, Throttling
from ..language.routekeys import RouteKey


class TargetKind(Enum):
    PROXY = "proxy"  # a Cloud Map private integration: each request goes to one matching instance
    FAN_OUT = "fan-out"  # a Lambda function calls every matching instance on each request


class Spread(Enum):
    ROUND_ROBIN = "round-robin"  # one instance per request, in turn
    CALL_ALL = "call all"  # every instance on every request


@dataclass(frozen=True)
class ServiceTarget:
    """The Cloud Map service a route reaches, as routes.yaml declares it."""

    key: str  # the key under `services`
    name: str  # the Cloud Map name (what DiscoverInstances takes)
    registered_by: str  # ecs | static | other
    has_health_check: bool


@dataclass(frozen=True)
class Target:
    """Who a request reaches and how: every option that changes it."""

    kind: TargetKind
    service: ServiceTarget
    filter: AttributeFilter
    timeout_ms: int  # the integration timeout (API Gateway's default when routes.yaml sets none)
    tls_server_name: Optional[str]
    strip_stage: bool  # a named stage is taken off the backend path
    fan_out: Optional[FanOut] = None  # the fan-out's own settings (include_unhealthy, headers, ...)

    @property
    def include_unhealthy(self) -> bool:
        return bool(self.fan_out and self.fan_out.include_unhealthy)

    def health_status(self, has_health_check: Optional[bool] = None) -> str:
        """DiscoverInstances' HealthStatus: ALL for a fan-out with include_unhealthy, or for a service without a
        health check (Cloud Map ignores the health filter there); HEALTHY otherwise."""
        checked = self.service.has_health_check if has_health_check is None else has_health_check
        return "ALL" if self.include_unhealthy or not checked else "HEALTHY"


class AuthKind(Enum):
    NONE = "none"
    IAM = "iam"
    JWT = "jwt"
    LAMBDA = "lambda"
    ALLOWLIST = "allowlist"

    @property
    def api_type(self) -> str:
        """API Gateway's AuthorizationType for it."""
        return {"none": "NONE", "iam": "AWS_IAM", "jwt": "JWT"}.get(self.value, "CUSTOM")


class IdentityKind(Enum):
    HEADER = "request.header"
    QUERYSTRING = "request.querystring"
    CONTEXT = "context"
    STAGE_VARIABLE = "stageVariables"


@dataclass(frozen=True)
class IdentitySource:
    """Where the credentials are read from (an authorizer's identity source; IAM signs the Authorization header)."""

    kind: IdentityKind
    name: str

    @classmethod
    def parse(cls, text: str) -> Optional["IdentitySource"]:
        """`$request.header.Authorization` -> (HEADER, "Authorization"); None for anything else.

        >>> IdentitySource.parse("$context.identity.sourceIp")
        IdentitySource(kind=<IdentityKind.CONTEXT: 'context'>, name='identity.sourceIp')
        """
        for kind in IdentityKind:
            prefix = f"${kind.value}."
            if text.startswith(prefix) and len(text) > len(prefix):
                return cls(kind, text[len(prefix):])
        return None

    def __str__(self) -> str:
        return f"${self.kind.value}.{self.name}"


SIGV4_IDENTITY = IdentitySource(IdentityKind.HEADER, "Authorization")  # an IAM route's signature


@dataclass(frozen=True)
class RouteAuthorization:
    """A route's authorization as API Gateway enforces it, with its authorizer's settings resolved."""

    kind: AuthKind
    authorizer: Optional[str] = None  # the key under `authorizers`
    identity: Optional[IdentitySource] = None
    scopes: tuple[str, ...] = ()  # JWT: the token must carry one of them
    issuer: Optional[str] = None
    audiences: tuple[str, ...] = ()
    function_arn: Optional[str] = None  # lambda: the authorizer function
    cidrs: tuple[str, ...] = ()  # allowlist: the source networks admitted, as written
    result_ttl_seconds: Optional[int] = None  # lambda and allowlist: how long an answer is cached
    simple_responses: Optional[bool] = None  # lambda
    public: bool = False  # declared deliberately public (routes.yaml only: nothing in AWS)

    @property
    def required(self) -> bool:
        return self.kind is not AuthKind.NONE

    def __str__(self) -> str:
        """`operators scopes raft/admin`, `iam`, `none`: what a review shows."""
        scopes = f" scopes {', '.join(self.scopes)}" if self.scopes else ""
        return (self.authorizer or self.kind.value) + scopes


@dataclass(frozen=True)
class Answer:
    status: int
    body: Optional[str] = None  # API Gateway's own JSON body; None when the fan-out function writes its aggregate


INTERNAL_SERVER_ERROR = Answer(500, '{"message":"Internal Server Error"}')
SERVICE_UNAVAILABLE = Answer(503, '{"message":"Service Unavailable"}')
FAN_OUT_OK, FAN_OUT_PARTIAL, FAN_OUT_FAILED = Answer(200), Answer(207), Answer(502)


@dataclass(frozen=True)
class Answers:
    """What a request gets, by how many instances match (module docstring for the sources)."""

    spread: Spread  # 1 or more matching instances
    no_instance: Answer
    cannot_call: Answer  # a request that meets an instance without a usable address (proxy), or a fan-out that
    # reaches only such instances
    partial: Optional[Answer]  # a fan-out where some instances answered and some failed
    timeout: Answer = SERVICE_UNAVAILABLE


PROXY_ANSWERS = Answers(Spread.ROUND_ROBIN, INTERNAL_SERVER_ERROR, INTERNAL_SERVER_ERROR, None)
FAN_OUT_ANSWERS = Answers(Spread.CALL_ALL, FAN_OUT_FAILED, FAN_OUT_FAILED, FAN_OUT_PARTIAL)


class Concern(Enum):
    UNSETTABLE_FILTER = "unsettable filter"  # no registration can carry the attribute: nothing matches
    NO_INSTANCE = "no instance"
    SPLIT_BRAIN = "split brain"  # a filter that must select one instance selects several
    CANNOT_BE_CALLED = "cannot be called"  # matches, but has no usable address
    UNHEALTHY = "unhealthy"  # matches, but health keeps it out


@dataclass(frozen=True)
class ReachWarning:
    concern: Concern
    message: str
    code: Optional[str] = None  # the diagnostic `check` reports for the same finding, if any


@dataclass(frozen=True)
class RouteReach:
    """One route's description: what every tool says about it."""

    id: str
    key: RouteKey
    target: Target
    authorization: RouteAuthorization
    throttling: Optional[Throttling]
    answers: Answers
    warnings: tuple[ReachWarning, ...] = ()  # what follows from routes.yaml alone


# A filter pair that names the one holder of a role: `leader: "true"`, `role: primary`. Such a filter must select
# one instance; two is split brain. (Words of the Raft/replication vocabulary; any other filter may select many.)
SINGLE_HOLDER_WORDS = frozenset({"leader", "primary", "master", "writer"})
SINGLE_HOLDER_KEYS = SINGLE_HOLDER_WORDS | {f"is{w}" for w in SINGLE_HOLDER_WORDS}
TRUE_WORDS = frozenset({"true", "yes", "1"})


def selects_one(filter_: AttributeFilter) -> bool:
    for key, value in filter_.pairs:
        word, text = re.sub(r"[^a-z]", "", key.lower()), value.strip().lower()
        if text in SINGLE_HOLDER_WORDS or (word in SINGLE_HOLDER_KEYS and text in TRUE_WORDS):
            return True
    return False


def target_of(model: Model, route: Route) -> Target:
    service = model.service(route.service)
    return Target(TargetKind.FAN_OUT if route.fan_out else TargetKind.PROXY,
                  ServiceTarget(service.key, service.name, service.registered_by, service.health_check != "none"),
                  route.filter, route.options.timeout_ms or DEFAULT_TIMEOUT_MS, route.options.tls_server_name,
                  route.options.strip_stage, route.fan_out)


def authorization_of(model: Model, route: Route) -> RouteAuthorization:
    """The route's authorization as it will be enforced: the hook `serve` reads to authorize a request."""
    kind = AuthKind(route.authorization.kind)
    if kind is AuthKind.NONE:
        return RouteAuthorization(kind, public=route.public)
    if kind is AuthKind.IAM:
        return RouteAuthorization(kind, identity=SIGV4_IDENTITY, public=route.public)
    authorizer = next(a for a in model.authorizers if a.key == route.authorization.authorizer)
    common = dict(authorizer=authorizer.key, identity=IdentitySource.parse(authorizer.identity_source),
                  public=route.public)
    if kind is AuthKind.JWT:
        return RouteAuthorization(kind, scopes=route.scopes, issuer=authorizer.issuer, audiences=authorizer.audiences,
                                  **common)
    if kind is AuthKind.LAMBDA:
        return RouteAuthorization(kind, function_arn=authorizer.function_arn,
                                  result_ttl_seconds=authorizer.result_ttl_seconds,
                                  simple_responses=authorizer.simple_responses, **common)
    return RouteAuthorization(kind, cidrs=authorizer.cidrs, result_ttl_seconds=authorizer.result_ttl_seconds, **common)


def unsettable_filter(model: Model, route: Route) -> list[ReachWarning]:
    """A filter on an attribute the service's registrar never sets matches nothing (check's W403)."""
    service = model.service(route.service)
    return [ReachWarning(Concern.UNSETTABLE_FILTER,
                         f"ECS never sets the attribute {key!r}, so no task of {service.key!r} matches this filter "
                         "unless your application adds it", "W403")
            for key, _ in route.filter.pairs if not service.sets_attribute(key)]


def describe_route(model: Model, route: Route) -> RouteReach:
    """One route's description, without the static instances' observation (`reach.describe` adds it)."""
    target = target_of(model, route)
    return RouteReach(route.id, route.key, target, authorization_of(model, route), route.throttling,
                      FAN_OUT_ANSWERS if target.kind is TargetKind.FAN_OUT else PROXY_ANSWERS,
                      tuple(unsettable_filter(model, route)))
