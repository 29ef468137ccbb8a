"""The plan as the single source of truth: catalogue records, explicit block modes, located diagnostics. No jsii."""

from __future__ import annotations

from dataclasses import replace

import pytest

from compiler.core import names
from compiler.language import compile_text
from compiler.language.routekeys import RouteKey
from compiler.review.diff import diff_plans
from compiler.terraform import catalogue
from compiler.terraform.plan import Block, Concat, Ref, build

from .conftest import EXAMPLES, ROOT, example_id
from .synthesis import model_of

BUNDLED = (ROOT / "routes.yaml").read_text()


@pytest.mark.parametrize("path", EXAMPLES, ids=example_id)
def test_every_block_has_a_catalogue_record_and_its_lifecycle(path):
    for block in build(model_of(path.read_text())).blocks:
        record = catalogue.TYPES[(block.mode, block.type)]
        # The type's lifecycle; a route adds the trigger that replaces it with its integration.
        own = tuple(item for item in block.lifecycle if item[0] != "replace_triggered_by")
        assert own == record.lifecycle, block.address
        if block.type == "aws_apigatewayv2_route":
            assert dict(block.lifecycle)["replace_triggered_by"] == (
                f"aws_apigatewayv2_integration.{block.name}.integration_type",)
        for key, value in block.args.items():
            if key in record.map_arguments:
                assert isinstance(value, dict), (block.address, key)


def test_data_sources_have_their_own_mode_not_a_type_prefix():
    plan = build(model_of((ROOT / "examples" / "existing.yaml").read_text()))
    data = [b for b in plan.blocks if b.mode == names.DATA]
    assert sorted(b.address for b in data) == ["data.aws_caller_identity.current", "data.aws_partition.current",
                                               "data.aws_region.current"]
    region = plan.block("data.aws_region.current")
    assert region.type == "aws_region" and region.construct_id == "data_aws_region.current"
    assert str(region.ref("name")) == "${data.aws_region.current.name}"
    assert str(Ref("aws_apigatewayv2_api", "api", "id")) == "${aws_apigatewayv2_api.api.id}"


def test_the_cascade_follows_references_and_replacement_triggers():
    """A route's target is Concat(("integrations/", Ref(integration))), and the route's lifecycle replaces it with
    its integration: replacing the integration replaces the route (which Terraform deletes first)."""
    before = build(model_of(BUNDLED))
    target = before.block("aws_apigatewayv2_route.leader").args["target"]
    assert isinstance(target, Concat) and target.parts[1].address == "aws_apigatewayv2_integration.leader"
    after = replace(before, blocks=tuple(
        replace(b, args={**b.args, "integration_type": "HTTP"}) if b.address == "aws_apigatewayv2_integration.leader"
        else b for b in before.blocks))
    changes = {c.address: (c.action, c.attributes) for c in diff_plans(before, after)}
    assert changes == {"aws_apigatewayv2_integration.leader": ("replace", ("integration_type",)),
                       "aws_apigatewayv2_route.leader": ("replace", (
                           "lifecycle.replace_triggered_by (aws_apigatewayv2_integration.leader.integration_type)",))}


def test_blocks_follow_the_sections_in_dependency_order():
    plan = build(model_of(BUNDLED))
    order = [b.type for b in plan.blocks]
    firsts = [order.index(t) for t in ("aws_service_discovery_private_dns_namespace", "aws_service_discovery_service",
                                       "aws_apigatewayv2_vpc_link", "aws_apigatewayv2_api",
                                       "aws_lambda_function",  # a fan-out's function, before the integration
                                       "aws_apigatewayv2_authorizer", "aws_apigatewayv2_integration")]
    # The access log group (a function's own log group comes with the function) and then the stage.
    firsts += [[b.address for b in plan.blocks].index("aws_cloudwatch_log_group.access_logs"),
               order.index("aws_apigatewayv2_stage")]
    assert firsts == sorted(firsts)


def test_route_keys_are_parsed_once_onto_the_model():
    assert RouteKey.parse("GET /leader") == (RouteKey("GET", "/leader"), "", "")
    assert RouteKey.parse("$default")[0].text == "$default"
    key, problem, hint = RouteKey.parse("GET /a/")
    assert key is None and problem == "path '/a/' must not end with '/'" and hint == "write GET /a"
    model = model_of(BUNDLED)
    assert all(r.id == names.route(r.key.method, r.key.path, r.id) for r in model.routes)


def test_registered_by_defaults_to_static_when_instances_are_listed():
    text = (ROOT / "examples" / "http-static.yaml").read_text()
    model = model_of(text)
    assert {s.registered_by for s in model.services if s.instances} == {"static"}


def test_diagnostics_carry_their_loc_from_the_root():
    text = BUNDLED.replace("service: raft\n", "service: rafts\n", 1).replace("timeout_ms: 5000", "timeout_ms: 5")
    _, diagnostics = compile_text(text)
    locs = {d.code: d.loc for d in diagnostics}
    assert locs["E302"].startswith("routes[") and locs["E302"].endswith("].service")
    assert locs["E205"].endswith("].timeout_ms")
    assert all("loc" in d.as_dict() for d in diagnostics)
    assert all(d.render() == replace(d, loc="").render() for d in diagnostics)  # text output: no loc


def test_a_block_without_a_mode_is_a_resource():
    assert Block("aws_apigatewayv2_api", "api", {}).address == "aws_apigatewayv2_api.api"
