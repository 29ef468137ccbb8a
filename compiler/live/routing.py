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

from dataclasses import dataclass
from typing import Generic, Optional, Sequence, TypeVar
from urllib.parse import unquote

DEFAULT_STAGE = "$default"

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


def segments(path: str) -> list[str]:
    """The raw (still percent-encoded) segments of a path: "/" -> [], "/a/b" -> ["a", "b"], "/a/" -> ["a", ""]."""
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
    """Selects a route for (method, path); `path` is the path after stage selection (`stage_path`)."""

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
            if unquote(segment) != literal:
                return None
        elif not segment:
            return None
        else:
            parameters.append((name, unquote(segment)))
    if compiled.greedy is not None:
        rest = request[fixed:]
        if not any(rest):
            return None
        parameters.append((compiled.greedy, unquote("/".join(rest))))
    return tuple(parameters)


def stage_path(stage: str, raw_path: str) -> Optional[str]:
    """The path a route is selected on, or None when no stage matches (API Gateway: 404, no access log line).

    >>> stage_path("$default", "/prod/leader"), stage_path("prod", "/prod/leader"), stage_path("prod", "/prod")
    ('/prod/leader', '/leader', '/')
    >>> stage_path("prod", "/production/leader") is None
    True
    """
    if stage == DEFAULT_STAGE:
        return raw_path or "/"
    prefix = "/" + stage
    if raw_path == prefix:
        return "/"
    if raw_path.startswith(prefix + "/"):
        return raw_path[len(prefix):]
    return None


def backend_path(stage: str, raw_path: str, route_path: str, strip_stage: bool) -> str:
    """The path the integration receives. A private integration behind a named stage gets the stage as the first
    segment (AWS-FACTS 3.4) unless the integration overwrites the path with `$request.path` (the request path
    without the stage), which is what routes.yaml does unless a route says `forward_stage_in_path`.

    >>> backend_path("prod", "/prod/a", "/a", True), backend_path("prod", "/prod/a", "/a", False)
    ('/a', '/prod/a')
    """
    if stage == DEFAULT_STAGE or not strip_stage:
        return raw_path or "/"
    return route_path
