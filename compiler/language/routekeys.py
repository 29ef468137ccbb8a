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
PATH_SEGMENT = re.compile(r"^[A-Za-z0-9._~:@!$&'()*,;=+-]+$")
PARAM = re.compile(r"^\{([A-Za-z0-9_.-]+)(\+?)\}$")


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
            if not segment:
                return None, f"path {path!r} has an empty segment ('//')", "remove the extra '/'"
            param = PARAM.match(segment)
            if param:
                name, greedy = param.groups()
                if greedy and i != len(segments) - 1:
                    return None, f"greedy parameter {segment} must be the last segment", f"move {segment} to the end"
                if name in seen:
                    return None, f"parameter {{{name}}} appears twice in {path!r}", "give each parameter its own name"
                seen.add(name)
            elif "{" in segment or "}" in segment:
                return (None, f"segment {segment!r} mixes a parameter with text",
                        "a parameter must be a whole segment: /{name}")
            elif not PATH_SEGMENT.match(segment):
                return (None, f"segment {segment!r} has characters not allowed in a route path",
                        "use letters, digits and . _ ~ -")
        return cls(method, path), "", ""


parse_route_key = RouteKey.parse  # the name earlier versions exported (validator.parse_route_key)


def normalised(text: str) -> str:
    """The route key two spellings share when API Gateway would take them as one route: `get /a/` -> `GET /a`."""
    method, _, path = text.strip().partition(" ")
    path = path.strip()
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return f"{method.upper()} {path}" if path else method
