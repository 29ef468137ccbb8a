"""examples/overrides.yaml applied to the local AWS with real Terraform: every owner's override (API, stage, VPC
link, service, authorizer, route, integration) reaches AWS, `${` as written, and a second plan changes nothing."""

from __future__ import annotations

import json

import pytest

from compiler.review.diff import diff_models
from compiler.review.planfile import summarize_plan

from .conftest import ROOT
from .localaws import DEFAULT_REGION, LocalAccount, LocalStack, MotoServer
from .synthesis import model_of
from .terraform import available, terraform_env

pytestmark = [pytest.mark.localaws, pytest.mark.terraform,
              pytest.mark.skipif(not available(), reason="terraform is not on PATH (README: Terraform is required)")]


@pytest.fixture(scope="module")
def applied(tmp_path_factory):
    root = tmp_path_factory.mktemp("overrides")
    moto = MotoServer(root / "moto.log")
    text = (ROOT / "examples" / "overrides.yaml").read_text()
    region = model_of(text).region or DEFAULT_REGION
    stack = LocalStack(root, moto, terraform_env(root), region)
    stack.text = LocalAccount.create(moto, region, text).localise(text)
    stack.synth(stack.text)
    stack.terraform.init()
    stack.terraform.apply()
    yield stack
    moto.stop()


def test_a_second_plan_has_no_changes(applied):
    assert applied.terraform.plan_changes() == []


def test_the_api_and_stage_overrides_reach_aws(applied):
    agw, api_id = applied.client("apigatewayv2"), applied.api_id()
    assert agw.get_api(ApiId=api_id)["Version"] == "2024-06-01"
    stage = agw.get_stage(ApiId=api_id, StageName="v1")
    assert stage["Description"] == "Production stage (${not interpolated})"  # the literal text, not evaluated
    assert stage["DefaultRouteSettings"]["DetailedMetricsEnabled"] is True
    assert (stage["DefaultRouteSettings"]["ThrottlingBurstLimit"], stage["DefaultRouteSettings"]["ThrottlingRateLimit"]) \
        == (100, 50)  # merged: api.throttling's numbers stay
    assert stage["StageVariables"] == {"backend_version": "3"}


def test_the_vpc_link_and_service_tags_merge_with_api_tags(applied):
    link = applied.client("apigatewayv2").get_vpc_links()["Items"][0]
    assert link["Tags"] == {"team": "platform", "cost-center": "networking"}
    sd = applied.client("servicediscovery")
    arn = applied.terraform.outputs()["service_raft_arn"]
    tags = {t["Key"]: t["Value"] for t in sd.list_tags_for_resource(ResourceARN=arn)["Tags"]}
    assert tags == {"team": "platform", "owner": "raft-team"}


def test_the_route_and_integration_overrides_reach_aws(applied):
    agw, api_id = applied.client("apigatewayv2"), applied.api_id()
    routes = {r["RouteKey"]: r for r in agw.get_routes(ApiId=api_id)["Items"]}
    assert routes["GET /"]["OperationName"] == "ListNodes"
    assert routes["GET /leader"]["RequestParameters"] == {"route.request.querystring.verbose": {"Required": False}}
    integration = agw.get_integration(ApiId=api_id, IntegrationId=routes["GET /"]["Target"].split("/", 1)[1])
    assert integration["Description"] == "Every node"
    assert integration["RequestParameters"] == {"append:header.x-forwarded-api": "tuned-api",
                                                "overwrite:path": "$request.path"}
    assert integration["ResponseParameters"] == {"500": {"overwrite:statuscode": "503"}}


def test_the_authorizer_with_its_override_exists(applied):
    """`timeouts` is Terraform's own (how long it waits), so AWS has nothing to show but the authorizer."""
    agw, api_id = applied.client("apigatewayv2"), applied.api_id()
    route = next(r for r in agw.get_routes(ApiId=api_id)["Items"] if r["RouteKey"] == "GET /")
    assert agw.get_authorizer(ApiId=api_id, AuthorizerId=route["AuthorizerId"])["Name"] == "operators"


def test_the_registry_output_carries_the_container(applied):
    registry = applied.terraform.outputs()["service_raft_registry"]
    assert registry == {"registry_arn": applied.terraform.outputs()["service_raft_arn"], "container_name": "raft",
                        "container_port": 8080}


def test_diff_and_terraforms_plan_agree_on_an_override_change_and_the_replacement_it_forces(applied):
    """An integration's overridden description changes in place, on its route's row; a service's overridden `type`
    (ForceNew) replaces it: `diff` predicts both from routes.yaml, and summarize-plan reads the same from Terraform."""
    local = applied
    text = local.text
    head = text.replace("description: Every node", "description: All nodes").replace(
        "      tags: {owner: raft-team}", "      tags: {owner: raft-team}\n      type: HTTP")
    assert head.count("type: HTTP") == 1 and "All nodes" in head
    local.synth(head)
    local.terraform.run("plan", "-input=false", "-out=tfplan")
    planned = summarize_plan(json.loads(local.terraform.run("show", "-json", "tfplan").stdout), "override")
    predicted = diff_models(model_of(text), model_of(head), "override")
    assert {(c.address, c.action) for c in planned.resources} == {(c.address, c.action) for c in predicted.resources}
    replaced = {c.address: c.attributes for c in planned.replacements}
    assert replaced["aws_service_discovery_service.raft"] == ("type",)
    assert {c.address: c.attributes for c in predicted.replacements}["aws_service_discovery_service.raft"] == ("type",)
    row = next(r for r in predicted.routes if r.route_id == "get_root")
    assert "override of aws_apigatewayv2_integration.get_root: description (in place)" in row.details
    assert [o.details for o in predicted.owners if o.owner == "service raft"] == [
        ["override of aws_service_discovery_service.raft: type (forces replacement: type)"]]
    planned_row = next(r for r in planned.routes if r.route_id == "get_root")
    assert ("aws_apigatewayv2_integration.get_root", "update") in {(c.address, c.action) for c in planned_row.resources}
    local.synth(text)  # back to what is applied


def test_destroy_leaves_nothing_behind(applied):
    applied.terraform.destroy()
    assert applied.client("apigatewayv2").get_apis()["Items"] == []
    assert applied.client("servicediscovery").list_services()["Services"] == []
