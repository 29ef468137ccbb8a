"""What the shipped functions are configured with, from the model: the stack emits it, `serve` runs it.

`fanout_environment(model, route, namespace, service)` and `allowlist_environment(authorizer)` are the functions'
environment variables (handlers/settings.py describes them); `serve` reads the same settings, so a fan-out route
behaves locally as the deployed function is configured. Only the handlers' settings module is imported, never
their runtime.
"""

from __future__ import annotations

from ..handlers.settings import ALLOWED_CIDRS, Settings, environment
from .model import Authorizer, Model, Route, fan_out_total_ms


def fanout_settings(model: Model, route: Route, namespace: str, service: str) -> Settings:
    """A fan-out route's handler settings. `namespace` is the namespace's HTTP name (what DiscoverInstances takes),
    `service` the Cloud Map service name."""
    spec = route.fan_out
    if spec is None:
        raise ValueError(f"route {route.id!r} does not fan out")
    return Settings(
        namespace=namespace, service=service, filter=route.filter.pairs, include_unhealthy=spec.include_unhealthy,
        per_instance_timeout_ms=spec.per_instance_timeout_ms, concurrency=spec.concurrency,
        total_timeout_ms=fan_out_total_ms(route), strip_stage=route.options.strip_stage, stage=model.api.stage,
        forward_headers=frozenset(h.lower() for h in spec.forward_headers), max_body_bytes=spec.max_body_bytes,
        tls_server_name=route.options.tls_server_name or "")


def fanout_environment(model: Model, route: Route, namespace: str, service: str) -> dict[str, str]:
    """The fan-out function's environment variables (sorted), as `fanout.Settings.from_environ` reads them."""
    return environment(fanout_settings(model, route, namespace, service))


def allowlist_environment(authorizer: Authorizer) -> dict[str, str]:
    """The allow-list authorizer's environment: ALLOWED_CIDRS, comma-separated, as written in routes.yaml."""
    return {ALLOWED_CIDRS: ",".join(authorizer.cidrs)}


# The interface endpoint services (com.amazonaws.<region>.<api>) a fan-out function in the VPC calls.
CLOUD_MAP_DATA_API, CLOUD_MAP_CONTROL_API = "data-servicediscovery", "servicediscovery"


def reads_http_name(model: Model) -> bool:
    """Whether the fan-out function must read the namespace's HttpName with GetNamespace: Cloud Map adds a generated
    hash to HttpName when a Name is reused (DiscoverInstances API reference, NamespaceName), which two environments
    in one account and region do. The provider reads an HTTP namespace's http_name back, so the stack passes it as
    written; it exposes none for DNS namespaces, whose function asks GetNamespace once per container."""
    return model.namespace.has_dns


def cloud_map_apis(model: Model) -> tuple[str, ...]:
    """The Cloud Map APIs the fan-out function calls: the data API (DiscoverInstances) always, and the control API
    (servicediscovery.<region>, GetNamespace) when it reads the HttpName. Each needs its endpoint in the VPC."""
    return (CLOUD_MAP_DATA_API, CLOUD_MAP_CONTROL_API) if reads_http_name(model) else (CLOUD_MAP_DATA_API,)
