"""What each plan block belongs to: a route, a service, an authorizer, or a part of the stack they share.

The plan stamps every block with its owner where it creates the block (plan.build, section by section), so the
readers of a plan (diff and summarize-plan) group resource changes by owner through one reverse lookup,
`by_address`, instead of working out from names and types which route a resource serves.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import Iterable, TypeVar


class OwnerKind(Enum):
    STACK = "stack"  # the data sources the stack reads (partition, region, account, the link's VPC)
    API = "api"  # the HTTP API, its stage, its access logs and custom domain
    VPC_LINK = "vpc link"
    NAMESPACE = "namespace"
    NETWORK = "network"  # what fan-out functions share to reach Cloud Map (the interface endpoint and its group)
    SERVICE = "service"  # a Cloud Map service and its static instances
    AUTHORIZER = "authorizer"  # an authorizer and what it runs on (an allow-list's function, role, logs)
    ROUTE = "route"  # a route, its integration, and a fan-out route's function with all it needs


@dataclass(frozen=True)
class Owner:
    kind: OwnerKind
    key: str = ""  # the route id, service key or authorizer key; "" for the shared parts

    @classmethod
    def route(cls, route_id: str) -> "Owner":
        return cls(OwnerKind.ROUTE, route_id)

    @classmethod
    def service(cls, key: str) -> "Owner":
        return cls(OwnerKind.SERVICE, key)

    @classmethod
    def authorizer(cls, key: str) -> "Owner":
        return cls(OwnerKind.AUTHORIZER, key)

    def __str__(self) -> str:
        return f"{self.kind.value} {self.key}" if self.key else self.kind.value


B = TypeVar("B")  # plan.Block (this module does not import the plan that imports it)


def stamped(owner: Owner, blocks: Iterable[B]) -> list[B]:
    """The blocks of one section (or one route, service, authorizer), each with its owner."""
    return [replace(block, owner=owner) for block in blocks]


def by_address(blocks: Iterable) -> dict[str, Owner]:
    """The reverse lookup: a block's address -> its owner."""
    return {block.address: block.owner for block in blocks}
