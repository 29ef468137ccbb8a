"""Instances a route can reach: from routes.yaml's static `instances`, or from Cloud Map's `DiscoverInstances`.

What API Gateway does for a Cloud Map private integration (developer guide, "Working with private integrations
for HTTP APIs"; AWS-FACTS 3.3, 3.6, 3.9): it calls DiscoverInstances with the integration URI's query as
`QueryParameters` (only instances that match **all** pairs are returned), reads each instance's address from its
`AWS_INSTANCE_IPV4` and `AWS_INSTANCE_PORT` attributes, and spreads requests over the healthy ones. Cloud Map
ignores the health filter for a service without a health check and returns every instance.

boto3 is imported only when a Cloud Map client is made, so `check` and a static `serve` never load it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

from ..handlers.cloudmap import IPV4, LOCAL, PORT, http_name, instance_address
from ..language.model import AttributeFilter, Model, Service


@dataclass(frozen=True)
class Found:
    """One instance as DiscoverInstances returns it."""

    id: str
    attributes: tuple[tuple[str, str], ...]  # every attribute, AWS_* included, sorted
    health: str = "HEALTHY"  # HEALTHY | UNHEALTHY | UNKNOWN

    @property
    def attribute_map(self) -> dict[str, str]:
        return dict(self.attributes)

    @property
    def custom(self) -> dict[str, str]:
        """The attributes a filter can name (everything but the address)."""
        return {k: v for k, v in self.attributes if k not in (IPV4, PORT)}

    @property
    def address(self) -> Optional[tuple[str, int]]:
        """(ipv4, port) `serve` calls, or None (`unreachable` says why). Parsed by the fan-out function's own
        parser (handlers/cloudmap.py), so both agree on what is malformed; `serve` also calls loopback
        (cloudmap.LOCAL), which the deployed function never does."""
        address, _ = instance_address(self.attribute_map, LOCAL)
        return (address.ipv4, address.port) if address else None

    @property
    def unreachable(self) -> str:
        """Why `address` is None ("" when it is not): missing attributes, malformed ones, or an address class
        never called."""
        return instance_address(self.attribute_map, LOCAL)[1]

    @property
    def address_text(self) -> str:
        return f"{self.address[0]}:{self.address[1]}" if self.address else "(no AWS_INSTANCE_IPV4/AWS_INSTANCE_PORT)"


def static_instances(service: Service) -> list[Found]:
    """routes.yaml's `instances`, as Terraform registers them (address attributes plus the custom ones)."""
    return [Found(i.id, tuple(sorted({IPV4: i.ipv4, PORT: str(i.port), **dict(i.attributes)}.items())))
            for i in service.instances]


def health_parameter(has_health_check: bool) -> str:
    """HealthStatus for DiscoverInstances: HEALTHY, or ALL for a service without a health check (Cloud Map
    ignores the health filter there and returns every instance; asking for ALL says so)."""
    return "HEALTHY" if has_health_check else "ALL"


def discover(client, namespace: str, service: str, query: dict[str, str], health: str) -> list[Found]:
    """One DiscoverInstances call (the data-plane API API Gateway itself calls). MaxResults is AWS's maximum."""
    answer = client.discover_instances(NamespaceName=namespace, ServiceName=service, QueryParameters=query,
                                       HealthStatus=health, MaxResults=1000)
    return sorted((found(i) for i in answer.get("Instances", [])), key=lambda f: f.id)


def found(instance: object) -> Found:
    """A DiscoverInstances entry as a Found, whatever it holds (what is not a string is left out)."""
    instance = instance if isinstance(instance, dict) else {}
    attributes = instance.get("Attributes")
    pairs = attributes.items() if isinstance(attributes, dict) else ()
    health = instance.get("HealthStatus")
    return Found(_string(instance.get("InstanceId")),
                 tuple(sorted((k, v) for k, v in pairs if isinstance(k, str) and isinstance(v, str))),
                 health if isinstance(health, str) else "UNKNOWN")


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class CloudMapService:
    """Where DiscoverInstances finds one routes.yaml service: the namespace's HTTP name and the service's name."""

    namespace: str
    name: str
    has_health_check: bool


def resolve_service(client, model: Model, service: Service) -> CloudMapService:
    """Names for DiscoverInstances. A created service is named by routes.yaml; an existing one is read (GetService,
    GetNamespace: the namespace's HttpName, which defaults to its name)."""
    service_id = service.existing_id or (service.existing_arn.rsplit("/", 1)[-1] if service.existing_arn else None)
    if service_id:
        found = client.get_service(Id=service_id)["Service"]
        has_check = has_health_check(found)
        return CloudMapService(namespace_http_name(client, found["NamespaceId"]), found["Name"], has_check)
    namespace = model.namespace
    if namespace is None:
        raise LookupError(f"service {service.key!r} has no namespace in routes.yaml")
    name = namespace_http_name(client, namespace.existing_id) if namespace.existing_id else created_http_name(
        client, model)
    return CloudMapService(name, service.name, service.health_check != "none")


def has_health_check(service: dict) -> bool:
    """GetService's answer: a Route 53 or a custom health check (an empty custom config `{}` is one)."""
    return service.get("HealthCheckConfig") is not None or service.get("HealthCheckCustomConfig") is not None


def namespace_http_name(client, namespace_id: str) -> str:
    """GetNamespace's HttpName for this id (its Name when the answer has none: handlers/cloudmap.http_name)."""
    name, read = http_name(client.get_namespace(Id=namespace_id).get("Namespace"))
    if not name:
        raise LookupError(f"GetNamespace(Id={namespace_id!r}): {read}")
    return name


NAMESPACE_TYPES = {"http": "HTTP", "private_dns": "DNS_PRIVATE", "public_dns": "DNS_PUBLIC"}  # model -> Cloud Map


def created_http_name(client, model: Model) -> str:
    """The HttpName of the namespace the stack creates. Not its plain name: Cloud Map adds a generated hash to
    HttpName when a Name is reused ("if you reuse Name for namespace creation, a generated hash is added to
    HttpName to distinguish the two": DiscoverInstances API reference, NamespaceName), which two environments in
    one account and region do. So the namespace is looked up (ListNamespaces, by name and type); of several, the
    one tagged exactly as the stack tags it (routes.yaml's api.tags; `aws:` tags aside). LookupError when none
    or more than one is left, naming the candidates."""
    namespace = model.namespace
    kind = NAMESPACE_TYPES[namespace.type]
    pages = client.get_paginator("list_namespaces").paginate(
        Filters=[{"Name": "TYPE", "Values": [kind], "Condition": "EQ"}])
    candidates = [n for page in pages for n in page.get("Namespaces", [])
                  if n.get("Name") == namespace.name and n.get("Type") == kind]
    if len(candidates) > 1:
        wanted = dict(model.api.tags)
        candidates = [n for n in candidates if _tags(client, n.get("Arn", "")) == wanted] or candidates
    if len(candidates) != 1:
        where = f"namespace {namespace.name!r} ({kind})"
        if not candidates:
            raise LookupError(f"{where} is not in Cloud Map (not deployed yet?)")
        listed = ", ".join(f"{n.get('Id')} (HttpName {http_name(n)[0]!r})" for n in candidates)
        raise LookupError(f"{where} exists {len(candidates)} times and the stack's tags ({dict(model.api.tags)}) "
                          f"do not tell which one this stack created: {listed}; give the environments "
                          "different api.tags, or the namespaces different names")
    name, read = http_name(candidates[0])
    return name if read == "HttpName" else namespace_http_name(client, candidates[0]["Id"])


def _tags(client, arn: str) -> dict[str, str]:
    tags = client.list_tags_for_resource(ResourceARN=arn).get("Tags", [])
    return {t["Key"]: t["Value"] for t in tags if not str(t.get("Key", "")).startswith("aws:")}


class AttributeLag:
    """`--attribute-lag SECONDS`: after an instance's attributes change, filters matching the old attributes keep
    matching it for that long, besides those matching the new ones.

    An observation from the field (an attribute change took about 30 s, during which both the old and the new
    filter matched), not a documented guarantee. The window starts when a change is first seen here, i.e. at the
    first request after it. Registering and deregistering have no such window (seen taking effect at once).
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        # (service, instance id) -> (attributes now, attributes before the last change or None, since when)
        self._seen: dict[tuple[str, str], tuple[tuple, Optional[tuple], float]] = {}

    def observe(self, service: str, instances: list[Found]) -> None:
        now = self._clock()
        with self._lock:
            for instance in instances:
                key = (service, instance.id)
                seen = self._seen.get(key)
                if seen is None:
                    self._seen[key] = (instance.attributes, None, now)
                elif seen[0] != instance.attributes:
                    self._seen[key] = (instance.attributes, seen[0], now)

    def matches(self, service: str, instance: Found, route_filter: AttributeFilter) -> bool:
        if route_filter.matches(instance.attribute_map):
            return True
        with self._lock:
            seen = self._seen.get((service, instance.id))
        if not seen or seen[1] is None or self._clock() - seen[2] >= self.seconds:
            return False
        return route_filter.matches(dict(seen[1]))
