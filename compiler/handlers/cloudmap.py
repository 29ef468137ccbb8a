"""What Cloud Map returns, read as untrusted data: an instance's address, and a namespace's HttpName.

Whoever may call RegisterInstance chooses an instance's attributes, so the address in them is parsed here, once,
for every reader: the fan-out function (fanout.py, shipped beside this module) and `serve`/`status`
(compiler.live.discovery). They agree on what is malformed; they differ only in the address classes they call
(`DEPLOYED`, `LOCAL`). Standard library only; nothing here raises for anything an instance or Cloud Map holds.

An address, as API Gateway reads it from a Cloud Map instance (developer guide, "Working with private
integrations": DiscoverInstances' `AWS_INSTANCE_IPV4` and `AWS_INSTANCE_PORT` attributes):

    AWS_INSTANCE_PORT   ASCII digits only, 1 to 5 of them, value 1-65535. No sign, space, underscore or other
                        Unicode digit ("²", Arabic-Indic digits pass str.isdigit(), and int() takes " 80", "+80",
                        "8_0"): refused.
    AWS_INSTANCE_IPV4   an ASCII dotted quad, each octet 0-255 written without a leading zero ("010.0.0.1" reads
                        as 8.0.0.1 to inet_aton, as 10.0.0.1 to others: refused). No host names.

Address classes (IANA IPv4 Special-Purpose Address Registry, RFC 6890) that are never a Cloud Map instance a
Lambda function may call:

    this-network  0.0.0.0/8        "0.0.0.0" connects to the caller itself on Linux
    loopback      127.0.0.0/8      inside Lambda: the function's own runtime API (AWS_LAMBDA_RUNTIME_API)
    link-local    169.254.0.0/16   the instance metadata service (169.254.169.254), ECS task metadata
    multicast     224.0.0.0/4
    reserved      240.0.0.0/4      includes the limited broadcast address 255.255.255.255

`DEPLOYED` (the fan-out function) calls none of them. `LOCAL` (`serve`, a tool on the developer's machine whose
static examples use 127.0.0.1) adds loopback and nothing else: serve never calls this-network, link-local,
multicast or reserved addresses either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Optional

IPV4, PORT = "AWS_INSTANCE_IPV4", "AWS_INSTANCE_PORT"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_DOTTED_QUAD = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")  # fullmatch only: `$` would allow a trailing newline
_PORT = re.compile(r"[0-9]{1,5}")  # [0-9], not \d: \d matches every Unicode digit
# (first octet range, class) for the classes above; 169.254/16 needs the second octet too.
_CLASSES = ((range(0, 1), "this-network"), (range(127, 128), "loopback"), (range(224, 240), "multicast"),
            (range(240, 256), "reserved"))
DEPLOYED: frozenset[str] = frozenset()  # classes the fan-out function may call besides ordinary unicast: none
LOCAL: frozenset[str] = frozenset({"loopback"})  # what `serve` calls besides: loopback, nothing else
SHOWN_CHARS = 40  # how much of a refused value an error message repeats


@dataclass(frozen=True)
class Address:
    ipv4: str
    port: int

    def __str__(self) -> str:
        return f"{self.ipv4}:{self.port}"


def parse_port(value: object) -> Optional[int]:
    """The port in an AWS_INSTANCE_PORT value, or None.

    >>> [parse_port(v) for v in ("8080", "65535", "0", "65536", " 80", "+80", "8_0", "²", "٨٠", 80)]
    [8080, 65535, None, None, None, None, None, None, None, None]
    """
    if not isinstance(value, str) or not _PORT.fullmatch(value):
        return None
    port = int(value)
    return port if 1 <= port <= 65535 else None


def parse_ipv4(value: object) -> Optional[str]:
    """The address in an AWS_INSTANCE_IPV4 value when it is a strict dotted quad, or None.

    >>> [parse_ipv4(v) for v in ("10.0.1.5", "010.0.1.5", "10.0.1.5\\n", "10.1", "localhost", "1.2.3.256")]
    ['10.0.1.5', None, None, None, None, None]
    """
    if not isinstance(value, str) or not _DOTTED_QUAD.fullmatch(value):
        return None
    return value


def address_class(ipv4: str) -> str:
    """The special-purpose class of a parsed dotted quad ("loopback", "link-local", ...), or "" for ordinary
    unicast (private ranges such as 10/8 included: that is where instances live).

    >>> [address_class(a) for a in ("10.0.1.5", "127.0.0.1", "169.254.169.254", "0.0.0.0", "224.0.0.1",
    ...                              "255.255.255.255", "169.255.0.1")]
    ['', 'loopback', 'link-local', 'this-network', 'multicast', 'reserved', '']
    """
    first, second = (int(part) for part in ipv4.split(".")[:2])
    if first == 169 and second == 254:
        return "link-local"
    return next((name for octets, name in _CLASSES if first in octets), "")


def shown(value: object) -> str:
    """A refused value for an error message: ASCII (control characters and non-ASCII escaped), cut short."""
    text = ascii(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "..."


def instance_address(attributes: object, allowed: frozenset[str] = DEPLOYED) -> tuple[Optional[Address], str]:
    """(the address to call, "") or (None, why it is not called), from an instance's Attributes.

    `allowed`: the special-purpose classes this caller may call (DEPLOYED: none; LOCAL: loopback).

    >>> instance_address({IPV4: "10.0.1.5", PORT: "8080"})
    (Address(ipv4='10.0.1.5', port=8080), '')
    >>> instance_address({IPV4: "127.0.0.1", PORT: "8080"})[1]
    'AWS_INSTANCE_IPV4 127.0.0.1 is a loopback address, never called'
    >>> instance_address({IPV4: "127.0.0.1", PORT: "8080"}, LOCAL)[0]
    Address(ipv4='127.0.0.1', port=8080)
    """
    if not isinstance(attributes, Mapping) or attributes.get(IPV4) is None or attributes.get(PORT) is None:
        return None, f"registered without {IPV4}/{PORT}"
    raw_ip, raw_port = attributes.get(IPV4), attributes.get(PORT)
    ipv4, port = parse_ipv4(raw_ip), parse_port(raw_port)
    if ipv4 is None:
        return None, f"{IPV4} {shown(raw_ip)} is not a dotted-quad IPv4 address"
    if port is None:
        return None, f"{PORT} {shown(raw_port)} is not a port (ASCII digits, 1-65535)"
    kind = address_class(ipv4)
    if kind and kind not in allowed:
        return None, f"{IPV4} {ipv4} is a {kind} address, never called"
    return Address(ipv4, port), ""


def http_name(namespace: object) -> tuple[str, str]:
    """(the name DiscoverInstances takes, how it was found) from a GetNamespace or ListNamespaces entry.

    DiscoverInstances' NamespaceName is "The HttpName name of the namespace ... In most cases, Name and HttpName
    match. However, if you reuse Name for namespace creation, a generated hash is added to HttpName to distinguish
    the two." (Cloud Map API reference, DiscoverInstances, NamespaceName). AWS returns HttpProperties.HttpName for
    every namespace type; when an answer lacks it (a local AWS, moto, leaves it out for DNS namespaces), the
    namespace's own Name is the fallback, and the second value says so. ("", why) when neither is a string.

    >>> http_name({"Name": "raft.internal", "Properties": {"HttpProperties": {"HttpName": "raft.internal-0a1b"}}})
    ('raft.internal-0a1b', 'HttpName')
    >>> http_name({"Name": "raft.internal", "Properties": {"HttpProperties": {}}})
    ('raft.internal', 'Name (the answer has no HttpName)')
    """
    if not isinstance(namespace, Mapping):
        return "", "the answer is not a namespace"
    properties = namespace.get("Properties")
    http = properties.get("HttpProperties") if isinstance(properties, Mapping) else None
    name = http.get("HttpName") if isinstance(http, Mapping) else None
    if isinstance(name, str) and name:
        return name, "HttpName"
    name = namespace.get("Name")
    if isinstance(name, str) and name:
        return name, "Name (the answer has no HttpName)"
    return "", "the answer has neither HttpName nor Name"
