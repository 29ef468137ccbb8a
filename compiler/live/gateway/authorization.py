"""Who may call a route, decided as the deployed API decides it where `serve` can, by presence where it cannot.

One function, `authorize`, takes plain model values (the route's `Authorization`, and the `Authorizer` it names)
and what an authorizer may read of the request (`Caller`), so any description of a route's authorization can feed
it. What each kind gets:

    none       admitted.
    allowlist  the shipped allow-list handler's own decision (handlers/allowlist.py `decide`, as the deployed
               Lambda authorizer runs it) on the request's source address: the TCP peer, as API Gateway's
               `$context.identity.sourceIp` ("The source IP address of the TCP connection making the request to
               API Gateway"), never a header. Inside the CIDRs: admitted; outside: 403, whatever the headers say.
    jwt        presence only: the identity source (by default `$request.header.Authorization`) must be there and
               not empty, or 401. The token is not verified (no issuer, audience, expiry or scope check).
    lambda     presence only: every identity source must be there, or 401, as API Gateway answers before it
               invokes the function; the function is not run.
    iam        presence only: a SigV4 `Authorization` header (or a presigned `X-Amz-Signature` query
               parameter), or 401. The signature is not verified.

`serve` says at start which routes get only the presence check (`presence_only`).

Sources: developer guide, "Working with AWS Lambda authorizers for HTTP APIs", Identity sources: "If you specify
identity sources, clients must include them in the request. If the client's request doesn't include the identity
sources, API Gateway doesn't invoke your Lambda authorizer, and the client receives a 401 error."; "Troubleshooting
issues with HTTP API JWT authorizers": `401 {"message":"Unauthorized"}`. A simple-response authorizer answering
`isAuthorized: false` gives 403; the body `{"message":"Forbidden"}` follows API Gateway's `{"message": <reason
phrase>}` form (no public HTTP API capture of it was found: shared-notes/agw-paths.md Q4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

from ...handlers import allowlist
from ...language.model import Authorization, Authorizer

PRESENCE_ONLY = ("jwt", "lambda", "iam")  # the kinds serve cannot verify


@dataclass(frozen=True)
class Caller:
    """What an authorizer may read of a request: headers (names lower-case), query parameters, the TCP peer."""

    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    source_ip: str = ""


@dataclass(frozen=True)
class Decision:
    """`status` 0: admitted; otherwise the answer (401, 403, 500). `error` is $context.authorizer.error."""

    status: int
    error: str = ""

    @property
    def admitted(self) -> bool:
        return self.status == 0


ADMITTED = Decision(0)


def authorize(authorization: Authorization, authorizer: Optional[Authorizer], caller: Caller) -> Decision:
    """The decision for one request to a route with this authorization (see the module's docstring)."""
    kind = authorization.kind
    if kind == "none":
        return ADMITTED
    if kind == "iam":
        signed = caller.headers.get("authorization") or caller.query.get("X-Amz-Signature")
        return ADMITTED if signed else Decision(401, "Unauthorized: no SigV4 Authorization header")
    if authorizer is None:
        return Decision(500, f"authorizer {authorization.authorizer!r} is not in routes.yaml")
    if kind == "allowlist":
        event = {"requestContext": {"http": {"sourceIp": caller.source_ip}}}
        admitted, why = allowlist.decide(event, ",".join(authorizer.cidrs))
        return ADMITTED if admitted else Decision(403, why)
    missing = [source for source in identity_sources(authorizer) if not present(source, caller)]
    return Decision(401, f"Unauthorized: missing {', '.join(missing)}") if missing else ADMITTED


def identity_sources(authorizer: Authorizer) -> list[str]:
    """The authorizer's identity sources; a Lambda authorizer may list several, comma-separated."""
    return [s.strip() for s in (authorizer.identity_source or "").split(",") if s.strip()]


def present(source: str, caller: Caller) -> bool:
    """Whether a request carries an identity source: a header or query parameter must be there and not empty.
    Context and stage variables are always there (serve has no stage variables to check them against)."""
    header, query = "$request.header.", "$request.querystring."
    if source.startswith(header):
        return bool(caller.headers.get(source[len(header):].lower()))
    if source.startswith(query):
        return bool(caller.query.get(source[len(query):]))
    return True


def presence_only(authorization: Authorization) -> bool:
    """True for the authorizations serve checks only for the presence of credentials."""
    return authorization.kind in PRESENCE_ONLY


def caller_of(headers, query, source_ip: str) -> Caller:
    """A Caller from a request's headers (any case; the first of repeated ones), query (the first of repeated
    parameters) and TCP peer."""
    lowered: dict[str, str] = {}
    for name, value in headers:
        lowered.setdefault(name.lower(), value)
    parameters: dict[str, str] = {}
    for name, value in query:
        parameters.setdefault(name, value)
    return Caller(lowered, parameters, source_ip)
