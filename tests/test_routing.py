"""Stage and route selection as API Gateway documents it for HTTP APIs ("Routing API requests"), without a server.

The first cases are the developer guide's own table; the rest pin the decisions compiler/live/routing.py documents
where the guide is silent.
"""

from __future__ import annotations

import doctest
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.core import deployed
from compiler.live import routing, status
from compiler.live.routing import BadPath, Router, backend_path, backend_target, request_path, stage_path

from .conftest import ROOT
from .synthesis import model_of


def router_for(*keys: str, stage: str = "$default") -> Router:
    routes = "\n".join(f"  - {{route: '{key}', service: web, public: true}}" for key in keys)
    return Router(model_of(f"""version: 1
api: {{name: api, stage: '{stage}'}}
vpc_link: {{subnet_ids: [subnet-0a1b2c3d4e5f60718], security_group_ids: [sg-0c3d4e5f607182930]}}
namespace: {{type: http, name: ns}}
services:
  web: {{instances: [{{id: a, ipv4: 10.0.0.1, port: 80}}]}}
routes:
{routes}
""").routes)


def selected(router: Router, method: str, path: str) -> str | None:
    match = router.select(method, path)
    return match.route.key.text if match else None


# The guide's example: "an API with a $default stage and the following example routes".
AWS_EXAMPLE = ("GET /pets/dog/{id}", "GET /pets/{proxy+}", "ANY /{proxy+}", "$default")


@pytest.mark.parametrize("method, path, route", [
    ("GET", "/pets/dog/1", "GET /pets/dog/{id}"),  # "The request fully matches this route."
    ("GET", "/pets/cat/1", "GET /pets/{proxy+}"),  # "The route with a GET method and a greedy path variable"
    ("POST", "/test/5", "ANY /{proxy+}"),  # "ANY matches all methods ...; greedy ... higher priority than $default"
    ("GET", "/", "$default"),  # a greedy variable catches child resources: / has none
    ("DELETE", "/pets", "ANY /{proxy+}"),
])
def test_the_developer_guides_example(method, path, route):
    assert selected(router_for(*AWS_EXAMPLE), method, path) == route


def test_nothing_matching_and_no_default_route_is_not_found():
    router = router_for("GET /pets/dog/{id}", "GET /pets/{proxy+}")
    assert selected(router, "GET", "/cats") is None
    assert selected(router, "POST", "/pets/cat") is None  # the greedy route is GET only


def test_any_covers_only_the_methods_without_a_route_of_their_own():
    router = router_for("GET /items", "ANY /items")
    assert selected(router, "GET", "/items") == "GET /items"
    assert selected(router, "DELETE", "/items") == "ANY /items"
    assert selected(router, "HEAD", "/items") == "ANY /items"  # HEAD is its own method
    assert selected(router_for("GET /items"), "HEAD", "/items") is None


def test_a_parameter_matches_exactly_one_non_empty_segment():
    router = router_for("GET /items/{id}")
    match = router.select("GET", "/items/42")
    assert match.route.key.text == "GET /items/{id}" and match.parameters == (("id", "42"),)
    assert selected(router, "GET", "/items/42/parts") is None
    assert selected(router, "GET", "/items/") is None
    assert selected(router, "GET", "/items") is None
    # HTTP APIs decode the path before routing (a request to /a%2Fb arrives as rawPath /a/b): an encoded slash
    # separates segments like any other, so it cannot smuggle two segments into one parameter.
    assert selected(router, "GET", request_path("/items/a%2Fb")) is None
    assert router.select("GET", request_path("/items/a%20b")).parameters == (("id", "a b"),)


def test_a_greedy_variable_catches_every_child_and_needs_one():
    router = router_for("ANY /items/{proxy+}")
    assert router.select("PUT", "/items/a/b/c").parameters == (("proxy", "a/b/c"),)
    assert selected(router, "PUT", "/items") is None
    assert selected(router, "PUT", "/items/") is None


def test_the_most_specific_match_wins():
    router = router_for("GET /pets/dog/1", "GET /pets/dog/{id}", "GET /pets/{kind}/1", "ANY /pets/dog/{id}",
                        "GET /{proxy+}", "GET /pets/{proxy+}", "ANY /pets/dog/{proxy+}")
    assert selected(router, "GET", "/pets/dog/1") == "GET /pets/dog/1"  # a literal beats a parameter
    assert selected(router, "GET", "/pets/dog/2") == "GET /pets/dog/{id}"  # same path: GET beats ANY
    assert selected(router, "GET", "/pets/cat/1") == "GET /pets/{kind}/1"
    assert selected(router, "POST", "/pets/dog/2") == "ANY /pets/dog/{id}"
    assert selected(router, "GET", "/pets/dog/2/x") == "ANY /pets/dog/{proxy+}"  # the longest greedy prefix
    assert selected(router, "GET", "/pets/cat/2/x") == "GET /pets/{proxy+}"
    assert selected(router, "GET", "/toys/1") == "GET /{proxy+}"


def test_a_full_match_through_any_beats_a_greedy_match_of_the_method():
    router = router_for("ANY /pets/dog/{id}", "GET /pets/{proxy+}")
    assert selected(router, "GET", "/pets/dog/1") == "ANY /pets/dog/{id}"


def test_paths_are_case_sensitive_and_trailing_slashes_count():
    router = router_for("GET /leader")
    assert selected(router, "GET", "/leader") == "GET /leader"
    assert selected(router, "GET", "/Leader") is None
    assert selected(router, "GET", "/leader/") is None
    assert selected(router, "get", "/leader") == "GET /leader"


def test_a_named_stage_is_the_first_segment():
    assert stage_path("prod", "/prod/leader") == "/leader"
    assert stage_path("prod", "/prod") == "/"
    assert stage_path("prod", "/prod/") == "/"
    assert stage_path("prod", "/leader") is None  # no stage matches, and there is no $default stage: Not Found
    assert stage_path("prod", "/production/leader") is None
    assert stage_path("$default", "/prod/leader") == "/prod/leader"


def test_the_backend_path_keeps_the_stage_only_when_the_route_forwards_it():
    assert backend_path("prod", "/prod/items/1", "/items/1", strip_stage=True) == "/items/1"
    assert backend_path("prod", "/prod/items/1", "/items/1", strip_stage=False) == "/prod/items/1"
    assert backend_path("$default", "/store/checkout", "/store/checkout", strip_stage=False) == "/store/checkout"


def test_the_named_stage_example_routes_and_strips_as_routes_yaml_says():
    model = model_of((ROOT / "examples" / "named-stage.yaml").read_text())
    router = Router(model.routes)
    cases = {"/prod/items/7": ("GET /items/{id}", "/items/7"),
             "/prod/legacy/a/b": ("GET /legacy/{proxy+}", "/prod/legacy/a/b")}
    for raw, (key, backend) in cases.items():
        path = stage_path(model.api.stage, raw)
        route = router.select("GET", path).route
        assert (route.key.text, backend_path(model.api.stage, raw, path, route.options.strip_stage)) == (key, backend)
    assert stage_path(model.api.stage, "/items/7") is None


# -- the request path: decoded once, routed and forwarded the same (issue 18, item 9) ---------------------


@pytest.mark.parametrize("target, path", [
    ("/admin%2Fx", "/admin/x"),  # rawPath arrives decoded: /a%2Fb gave "rawPath": "/a/b" (aws-lambda-fastify#169)
    ("//admin/x", "/admin/x"),  # `//` and `////` end up as one slash (brefphp/symfony-bridge#53)
    ("/a////b/", "/a/b/"),
    ("/a%20b/%C3%A9?x=%2F", "/a b/é"),  # the query is not the path
    ("/%252e%252e/x", "/%2e%2e/x"),  # decoded once: a literal "%2e%2e" segment, not a dot segment
])
def test_the_request_path_is_decoded_and_slashes_merged(target, path):
    assert request_path(target) == path


@pytest.mark.parametrize("target", [
    "/x/../admin/x", "/x/%2e%2e/admin/x", "/x/%2E%2E/admin/x", "/x/.%2e/admin", "/./admin", "/admin/.", "/..",
    "/a%00b", "/a%0d%0aX-Injected:%201", "/a%3Fb", "/a%23b", "/%ff", "http://127.0.0.1/admin/x", "*", "",
])
def test_paths_serve_will_not_guess_are_refused(target):
    with pytest.raises(BadPath):
        request_path(target)


def test_no_request_reaches_a_protected_routes_backend_path_through_a_public_route():
    router = router_for("GET /admin/{proxy+}", "ANY /{proxy+}")
    for target in ("//admin/x", "/admin%2Fx", "/admin%2fx", "///admin//x", "/x/../admin/x", "/x/%2e%2e/admin/x"):
        try:
            path = request_path(target)
        except BadPath:
            continue
        route = router.select("GET", path).route.key.text
        assert route == "GET /admin/{proxy+}" or not path.startswith("/admin/"), (target, path, route)
        assert route == "GET /admin/{proxy+}", (target, path)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_the_backend_decodes_exactly_the_path_the_route_was_chosen_by(text):
    path = "/" + text
    target = backend_target(path)
    assert target.isascii() and not set(target) & set(" ?#\r\n\x00")
    assert unquote(target) == path


def test_docstring_examples():
    for module in (routing, deployed, status):
        assert doctest.testmod(module).failed == 0, module.__name__
