"""Source-address allow-list: a Lambda REQUEST authorizer for an HTTP API (payload format 2.0, simple responses).

An HTTP API has no resource policy, so "only these networks may call" is an authorizer. This one admits a
request only when `requestContext.http.sourceIp` lies inside one of the listed networks, and denies everything
else: an address outside them, a missing or malformed address, an empty or malformed list (fail closed).
IPv4 and IPv6 are both handled (module `ipaddress`); an IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) is checked
as the IPv4 address it carries, and as itself against IPv6 networks.

Runtime: python3.12 (works on 3.11+). Standard library only: the deployment zip holds this one module.

Environment (set by the stack):

    ALLOWED_CIDRS   comma-separated networks, IPv4 and/or IPv6, e.g. "10.0.0.0/8, 203.0.113.7/32, 2001:db8::/32";
                    a bare address means that one host. Host bits set (10.0.0.1/8) is an error: nothing is
                    admitted (`parse_cidrs` is the same check the compiler can run on routes.yaml).

Answer: {"isAuthorized": true|false} (the simple response format, developer guide "Working with AWS Lambda
authorizers for HTTP APIs", "Lambda function response for format 2.0"). One JSON line per denial on stdout.

Identity source and caching. The developer guide ("Working with AWS Lambda authorizers for HTTP APIs", section
"Identity sources": docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html
#http-api-lambda-authorizer.identity-sources) lists four kinds: header `$request.header.name`, query string
`$request.querystring.name`, context variable `$context.variableName` ("The value of a supported context
variable", linking the HTTP API access-log variables, which include `$context.identity.sourceIp`, "The source IP
address of the TCP connection making the request to API Gateway"), and stage variable
`$stageVariables.variableName`. Same page, "Caching authorizer responses": "When caching is enabled for an
authorizer, API Gateway uses the authorizer's identity sources as the cache key"; with simple responses the cached
answer "fully allows or denies all API requests that match the cached identity source values". The API reference
agrees (CreateAuthorizer `IdentitySource`: "headers, query string parameters, stage variables, and context
parameters ... For HTTP APIs, identity sources are also used as the cache key when caching is enabled").
So the authorizer's identity source is `$context.identity.sourceIp`: the cache keys on the caller's address, and
a request is never answered from another address's cached result. (Any header identity source would let a
client pick its own cache key; do not add one.)

What it cannot do: the address is the TCP peer of API Gateway. Behind CloudFront or another proxy it is the
proxy's address. A cached decision outlives a change of ALLOWED_CIDRS by up to the authorizer's TTL.
"""

from __future__ import annotations

import ipaddress
import json
import os
from typing import Mapping, Optional, Union

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IDENTITY_SOURCE = "$context.identity.sourceIp"  # what the stack sets as the authorizer's identity source


def parse_cidrs(text: str) -> tuple[Network, ...]:
    """The networks in ALLOWED_CIDRS; ValueError names the first bad entry.

    >>> [str(n) for n in parse_cidrs("10.0.0.0/8, 2001:db8::/32,203.0.113.7")]
    ['10.0.0.0/8', '2001:db8::/32', '203.0.113.7/32']
    """
    networks = []
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=True))
        except ValueError as exc:
            raise ValueError(f"ALLOWED_CIDRS: {item!r} is not a network: {exc}") from None
    return tuple(networks)


def source_address(event: Mapping) -> Optional[Address]:
    """requestContext.http.sourceIp, parsed; None when missing or malformed."""
    value = _raw_source(event)
    if not isinstance(value, str) or value != value.strip() or "%" in value:  # no zone ids: not a client address
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def admitted(address: Optional[Address], networks: tuple[Network, ...]) -> bool:
    if address is None:
        return False
    candidates = [address]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        candidates.append(address.ipv4_mapped)
    return any(a.version == n.version and a in n for a in candidates for n in networks)


def decide(event: Mapping, allowed_cidrs: str) -> tuple[bool, str]:
    """(admitted, why) for one request."""
    try:
        networks = parse_cidrs(allowed_cidrs)
    except ValueError as exc:
        return False, str(exc)
    if not networks:
        return False, "ALLOWED_CIDRS is empty"
    address = source_address(event)
    if address is None:
        return False, "requestContext.http.sourceIp is missing or not an IP address"
    if admitted(address, networks):
        return True, "inside ALLOWED_CIDRS"
    return False, f"{address} is outside ALLOWED_CIDRS"


def handler(event, context):
    """The Lambda entry point (`allowlist.handler`)."""
    ok, why = decide(event, os.environ.get("ALLOWED_CIDRS", ""))
    if not ok:
        print(json.dumps({"allowlist": "deny", "sourceIp": _raw_source(event), "reason": why}, default=repr))
    return {"isAuthorized": ok}


def _raw_source(event) -> object:
    """The sourceIp as it arrived, whatever it is (for the log line)."""
    node = event
    for key in ("requestContext", "http", "sourceIp"):
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node
