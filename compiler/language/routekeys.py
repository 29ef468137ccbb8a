"""Route keys: `METHOD /path` or `$default`, checked once, when the value is built (like aws-cdk's HttpRouteKey).

`RouteKey.parse(text)` returns the key, or None with a problem and a hint; the validator reports those (E300)
and the model holds only parsed keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from ..core.diagnostics import did_you_mean

METHODS = ("ANY", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
MAX_PATH = 1000  # characters (aws-cdk's HttpRouteKey limit)
# CreateRoute checks every path part against one expression and answers 400 BadRequestException "One or more path
# parts appear to be invalid. Parts are validated against this regular expression: ^(\{[\w.-]+\+?\}|[a-zA-Z0-9._-]+)$"
# (a real deploy, anomalyco/sst#207); an AWS reviewer quotes the current one with ':' added,
# ^(\{[\w.:-]+\+?\}|[a-zA-Z0-9.:_-]+)$ (aws/aws-lambda-dotnet PR #1911). Literal parts: the newer set (':' included);
# parameter names: the set both agree on.
PATH_SEGMENT = re.compile(r"^[A-Za-z0-9._:-]+$")
PARAM = re.compile(r"^\{([A-Za-z0-9_.-]+)(\+?)\}$")
# `.` and `..` pass that expression, but no client sends them: RFC 3986 section 5.2.4 ("Remove Dot Segments") has
# every URI resolver drop them (browsers, curl without --path-as-is, HTTP libraries), so such a route could never be
# called as written.
DOT_SEGMENTS = (".", "..")


@dataclass(frozen=True)
class RouteKey:
    method: str  # "" for $default
    path: str  # "" for $default

    @property
    def text(self) -> str:
        return f"{self.method} {self.path}" if self.method else "$default"

    @classmethod
    def parse(cls, text: str) -> tuple[Optional[RouteKey], str, str]:
        """Parse `METHOD /path` or `$default`. Returns (key, problem, hint); key is None when malformed.

        `RouteKey.parse("GET /leader")` -> (RouteKey("GET", "/leader"), "", "");
        `RouteKey.parse("GET /a/")` -> (None, "path '/a/' must not end with '/'", "write GET /a").
        """
        if text == "$default":
            return cls("", ""), "", ""
        method, _, path = text.partition(" ")
        if not path:
            return None, f"route {text!r} must be 'METHOD /path' or '$default'", "for example: GET /leader"
        if method.upper() in METHODS and method != method.upper():
            return None, f"method {method!r} must be upper case", f"write {method.upper()} {path}"
        if method not in METHODS:
            return None, f"unknown method {method!r}", did_you_mean(method.upper(), METHODS)
        if path != path.strip() or " " in path:
            return None, f"route {text!r} has extra spaces", "one space between method and path, none elsewhere"
        if not path.startswith("/"):
            return None, f"path {path!r} must start with '/'", f"write {method} /{path}"
        if path != "/" and path.endswith("/"):
            return None, f"path {path!r} must not end with '/'", f"write {method} {path.rstrip('/') or '/'}"
        if len(path) > MAX_PATH:
            return None, f"path is longer than {MAX_PATH} characters", ""
        segments = path[1:].split("/") if path != "/" else []
        seen: set[str] = set()
        for i, segment in enumerate(segments):
            problem = _segment_problem(path, segment, last=i == len(segments) - 1, seen=seen)
            if problem:
                return (None, *problem)
        return cls(method, path), "", ""


def _segment_problem(path: str, segment: str, last: bool, seen: set[str]) -> Optional[tuple[str, str]]:
    """(problem, hint) for one path part of `path`, or None; a parameter's name is added to `seen`."""
    if not segment:
        return f"path {path!r} has an empty segment ('//')", "remove the extra '/'"
    param = PARAM.match(segment)
    if param:
        name, greedy = param.groups()
        if greedy and not last:
            return f"greedy parameter {segment} must be the last segment", f"move {segment} to the end"
        if name in seen:
            return f"parameter {{{name}}} appears twice in {path!r}", "give each parameter its own name"
        seen.add(name)
        return None
    if "{" in segment or "}" in segment:
        return f"segment {segment!r} mixes a parameter with text", "a parameter must be a whole segment: /{name}"
    if segment in DOT_SEGMENTS:
        return (f"segment {segment!r} in {path!r} is a dot segment, which clients remove before they send a request "
                "(RFC 3986 5.2.4), so no request reaches this route as written", "name the segment, or leave it out")
    if not PATH_SEGMENT.match(segment):
        return (f"segment {segment!r} has characters API Gateway refuses in a route path",
                "use letters, digits and . _ : - (CreateRoute's rule for path parts)")
    return None


parse_route_key = RouteKey.parse  # the name earlier versions exported (validator.parse_route_key)


def normalised(text: str) -> str:
    """The route key two spellings share when API Gateway would take them as one route: `get /a/` -> `GET /a`."""
    method, _, path = text.strip().partition(" ")
    path = path.strip()
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return f"{method.upper()} {path}" if path else method
