"""Route and stage selection as API Gateway does it for an HTTP API. Pure functions over the model's routes.

The rules are the developer guide's (API Gateway developer guide, HTTP APIs, "Create routes for HTTP APIs",
section "Routing API requests": docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html):

    "When a client sends an API request, API Gateway first determines which stage to route the request to. If the
    request explicitly matches a stage, API Gateway sends the request to that stage. If no stage fully matches
    the request, API Gateway sends the request to the $default stage. If there's no $default stage, then the API
    returns {"message":"Not Found"}."

    "After selecting a stage, API Gateway selects a route. API Gateway selects the route with the most-specific
    match, using the following priorities:
      1. Full match for a route and method.
      2. Match for a route and method with a greedy path variable ({proxy+}).
      3. The $default route.
    If no routes match a request, API Gateway returns {"message":"Not Found"} to the client."

and from the same page: "you can use the ANY method to match all methods that you haven't defined for a
resource", "the GET /pets/{petID} route catches a GET request [to] .../pets/6", "A greedy path variable catches
all child resources of a route ... The greedy path variable must be at the end of the resource path", and "When
the $default route receives a request, API Gateway sends the full request path to the integration".

The path routes are selected on is the request path as API Gateway reads it (`request_path`): percent-decoded
(the developer guide: "API Gateway decodes URL-encoded request parameters before passing them to your backend
integration"; payload 2.0's rawPath arrives decoded, e.g. a request to /a%2Fb gives "rawPath": "/a/b",
fastify/aws-lambda-fastify#169), with runs of slashes as one (brefphp/symfony-bridge#53: "if I pass // or ////,
it always ends up as just one slash"). The backend receives that same path (`backend_target` re-encodes it for the
request line), so a request can never be routed by one path and reach the backend at another. Where AWS's
behaviour is not known, the safe reading: a `.` or `..` segment (written as is or percent-encoded), a decoded
`?`, `#` or control character (HTTP APIs are reported to cut the path at a decoded `?`: middleapi/standard-server
PR #93, from hotsock/voker#8's captures), a path that is not UTF-8 once decoded, and a request target that is not
a path (absolute-form `http://host/x`, `*`) are refused with 400 before any route is chosen.

Where the guide is silent, this module decides, and the tests pin each decision:
- a `{param}` matches exactly one non-empty segment; a greedy `{proxy+}` needs at least one segment (so
  `ANY /{proxy+}` does not catch `/`); paths and literal segments compare case-sensitively;
- between two matches of the same priority the more specific path wins (segment by segment from the left, a
  literal beats a `{param}`; a greedy route with a longer literal prefix beats a shorter one), and for the same
  path a route of the request's own method beats `ANY`;
- `HEAD` is its own method (a `GET` route does not catch it; `ANY` does).

Example (the guide's table, with a $default stage and routes GET /pets/dog/{id}, GET /pets/{proxy+},
ANY /{proxy+}, $default):

    GET  /pets/dog/1 -> GET /pets/dog/{id}   (full match)
    GET  /pets/cat/1 -> GET /pets/{proxy+}   (greedy, GET beats ANY's shorter prefix)
    POST /test/5     -> ANY /{proxy+}        (ANY covers POST; greedy beats $default)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generic, Optional, Sequence, TypeVar
from urllib.parse import quote, unquote_to_bytes

DEFAULT_STAGE = "$default"
REFUSED_IN_PATH = re.compile(r"[\x00-\x1f\x7f?#]")  # once decoded: controls, and what would end the path
PATH_SAFE = "/:@!$&'()*+,;=-._~"  # RFC 3986 pchar and "/": left as they are in the backend's request line

R = TypeVar("R")  # a route: anything with .key.method and .key.path ("" and "" for $default), e.g. model.Route


@dataclass(frozen=True)
class Match(Generic[R]):
    route: R
    parameters: tuple[tuple[str, str], ...]  # path parameters, decoded: (("id", "1"),) or (("proxy", "a/b"),)


@dataclass(frozen=True)
class _Compiled:
    method: str  # "" for $default
    literals: tuple[Optional[str], ...]  # one per segment before a greedy variable: text, or None for {param}
    names: tuple[Optional[str], ...]  # the {param} name per segment (None for literals)
    greedy: Optional[str]  # the greedy variable's name, e.g. "proxy"

    @property
    def specificity(self) -> tuple:
        """Smaller is more specific: longer literal prefix first, then literals before {param}, left to right."""
        return (-len(self.literals), tuple(0 if s is not None else 1 for s in self.literals))


class BadPath(ValueError):
    """A request target `serve` refuses with 400 (see the module's docstring)."""


def request_path(target: str) -> str:
    """The decoded, normalized path of a request target (the part before `?`); BadPath says why not.

    >>> request_path("/admin%2Fx"), request_path("//admin//x/"), request_path("/a%20b?q=%2F")
    ('/admin/x', '/admin/x/', '/a b')
    >>> request_path("/x/%2e%2e/admin/x")
    Traceback (most recent call last):
    ...
    compiler.live.routing.BadPath: the path has a '.' or '..' segment
    """
    raw = target.split("?", 1)[0]
    if not raw.startswith("/"):
        raise BadPath("the request target is not a path (absolute-form and * are not served)")
    try:
        path = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise BadPath("the path is not UTF-8 once percent-decoded") from None
    if REFUSED_IN_PATH.search(path):
        raise BadPath("the decoded path holds a control character, '?' or '#'")
    path = re.sub("/{2,}", "/", path)
    if any(segment in (".", "..") for segment in path.split("/")):
        raise BadPath("the path has a '.' or '..' segment")
    return path


def backend_target(path: str) -> str:
    """A decoded path as the request line carries it to the backend: what is not a path character is
    percent-encoded (a literal `%` too), so the backend decodes exactly the path the route was chosen by.

    >>> backend_target("/a b/100%/é")
    '/a%20b/100%25/%C3%A9'
    """
    return quote(path, safe=PATH_SAFE)


def segments(path: str) -> list[str]:
    """The segments of a (decoded) path: "/" -> [], "/a/b" -> ["a", "b"], "/a/" -> ["a", ""]."""
    return [] if path in ("", "/") else path[1:].split("/") if path.startswith("/") else path.split("/")


def _compile(method: str, path: str) -> _Compiled:
    literals: list[Optional[str]] = []
    names: list[Optional[str]] = []
    greedy = None
    parts = segments(path)
    for i, part in enumerate(parts):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            if name.endswith("+") and i == len(parts) - 1:
                greedy = name[:-1]
                break
            literals.append(None)
            names.append(name)
        else:
            literals.append(part)
            names.append(None)
    return _Compiled(method, tuple(literals), tuple(names), greedy)


class Router(Generic[R]):
    """Selects a route for (method, path); `path` is the decoded path (`request_path`) after stage selection
    (`stage_path`)."""

    def __init__(self, routes: Sequence[R]) -> None:
        self._routes = [(route, _compile(route.key.method, route.key.path)) for route in routes if route.key.method]
        self._default = next((route for route in routes if not route.key.method), None)

    def select(self, method: str, path: str) -> Optional[Match[R]]:
        method = method.upper()
        request = segments(path)
        best: Optional[tuple] = None
        for order, (route, compiled) in enumerate(self._routes):
            if compiled.method not in (method, "ANY"):
                continue
            parameters = _match(compiled, request)
            if parameters is None:
                continue
            rank = (1 if compiled.greedy is not None else 0, compiled.specificity,
                    0 if compiled.method == method else 1, order)
            if best is None or rank < best[0]:
                best = (rank, Match(route, parameters))
        if best is not None:
            return best[1]
        return Match(self._default, ()) if self._default is not None else None


def _match(compiled: _Compiled, request: list[str]) -> Optional[tuple[tuple[str, str], ...]]:
    fixed = len(compiled.literals)
    if compiled.greedy is None and len(request) != fixed:
        return None
    if compiled.greedy is not None and len(request) <= fixed:
        return None  # a greedy variable catches child resources: at least one segment
    parameters = []
    for literal, name, segment in zip(compiled.literals, compiled.names, request):
        if literal is not None:
            if segment != literal:
                return None
        elif not segment:
            return None
        else:
            parameters.append((name, segment))
    if compiled.greedy is not None:
        rest = request[fixed:]
        if not any(rest):
            return None
        parameters.append((compiled.greedy, "/".join(rest)))
    return tuple(parameters)


def stage_path(stage: str, path: str) -> Optional[str]:
    """The path a route is selected on, or None when no stage matches (API Gateway: 404, no access log line).

    >>> stage_path("$default", "/prod/leader"), stage_path("prod", "/prod/leader"), stage_path("prod", "/prod")
    ('/prod/leader', '/leader', '/')
    >>> stage_path("prod", "/production/leader") is None
    True
    """
    if stage == DEFAULT_STAGE:
        return path or "/"
    prefix = "/" + stage
    if path == prefix:
        return "/"
    if path.startswith(prefix + "/"):
        return path[len(prefix):]
    return None


def backend_path(stage: str, path: str, route_path: str, strip_stage: bool) -> str:
    """The path the integration receives. A private integration behind a named stage gets the stage as the first
    segment (AWS-FACTS 3.4) unless the integration overwrites the path with `$request.path` (the request path
    without the stage), which is what routes.yaml does unless a route says `forward_stage_in_path`.

    >>> backend_path("prod", "/prod/a", "/a", True), backend_path("prod", "/prod/a", "/a", False)
    ('/a', '/prod/a')
    """
    if stage == DEFAULT_STAGE or not strip_stage:
        return path or "/"
    return route_path
