"""Every option of a route and of an authorizer, declared once: its key in routes.yaml (the schema entry, its
documentation and default, in language/schema.py), the aspect of the description it lands on (aspects.py), and so
what it changes (the aspect's effect: reach, how instances are called, authorization, ...).

The description (description.py), `diff` and, after the import split, `import` read these declarations; a test
walks the schema and fails for an option declared nowhere, so a new option cannot be forgotten by the tools that
explain routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ..language import schema
from ..language.model import DEFAULT_TIMEOUT_MS
from .aspects import Aspect, Effect


@dataclass(frozen=True)
class Option:
    key: str  # under a route (or an authorizer); nested keys dotted: `fan_out.concurrency`
    aspect: Optional[Aspect]  # None: the option changes only the Terraform address (a route's `id`)
    whole: bool = False  # an object or map compared as one value; its own keys are not options
    aws_default: Any = None  # the value AWS applies when routes.yaml sets none and the schema gives no default
    raw: bool = False  # raw Terraform arguments (`overrides:`): no aspect; review.overrides lists each one changed

    @property
    def effect(self) -> Effect:
        if self.raw:
            return Effect.RAW
        return self.aspect.effect if self.aspect else Effect.ADDRESS

    def field(self, root: schema.Obj) -> schema.Field:
        """The schema entry declaring this option under `root` (schema.ROUTE or schema.AUTHORIZER)."""
        obj, field = root, None
        for part in self.key.split("."):
            field = obj.fields[part]
            obj = field.type if isinstance(field.type, schema.Obj) else None
        return field

    def default(self, root: schema.Obj) -> Any:
        written = self.field(root).default
        return self.aws_default if written is None else written


ROUTE_OPTIONS = (
    Option("route", Aspect.ROUTE_KEY),
    Option("id", None),
    Option("service", Aspect.SERVICE),
    Option("filter", Aspect.FILTER, whole=True),
    Option("timeout_ms", Aspect.TIMEOUT, aws_default=DEFAULT_TIMEOUT_MS),
    Option("authorization", Aspect.AUTHORIZATION),
    Option("scopes", Aspect.AUTHORIZATION),
    Option("public", Aspect.PUBLIC),
    Option("forward_stage_in_path", Aspect.STAGE_STRIPPED),
    Option("tls_server_name", Aspect.TLS_SERVER_NAME),
    Option("throttling", Aspect.THROTTLING, whole=True),
    Option("fan_out", Aspect.FAN_OUT),
    Option("fan_out.per_instance_timeout_ms", Aspect.PER_INSTANCE_TIMEOUT),
    Option("fan_out.concurrency", Aspect.CONCURRENCY),
    Option("fan_out.include_unhealthy", Aspect.INCLUDE_UNHEALTHY),
    Option("fan_out.forward_headers", Aspect.FORWARD_HEADERS),
    Option("fan_out.max_body_bytes", Aspect.MAX_BODY_BYTES),
    Option("overrides", None, whole=True, raw=True),
)

AUTHORIZER_OPTIONS = (
    Option("type", Aspect.AUTHORIZATION),
    Option("issuer", Aspect.JWT_ISSUER),
    Option("audiences", Aspect.JWT_AUDIENCES),
    Option("identity_source", Aspect.IDENTITY_SOURCE),
    Option("function_arn", Aspect.AUTHORIZER_FUNCTION),
    Option("result_ttl_seconds", Aspect.AUTHORIZER_CACHE),
    Option("simple_responses", Aspect.SIMPLE_RESPONSES),
    Option("cidrs", Aspect.ALLOWED_CIDRS),
    Option("overrides", None, whole=True, raw=True),
)


def declared(key: str, options: tuple[Option, ...] = ROUTE_OPTIONS) -> Optional[Option]:
    return next((o for o in options if o.key == key), None)
