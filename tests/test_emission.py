"""What matters in the synthesized JSON, asserted directly (beside the snapshots, which only pin it)."""

from __future__ import annotations

import pytest

from compiler.terraform.plan import build

from .conftest import EXAMPLES, ROOT, example_id
from .synthesis import model_of, resources, synth_json

BUNDLED = (ROOT / "routes.yaml").read_text()


@pytest.fixture(scope="module")
def bundled() -> dict:
    return resources(synth_json(BUNDLED))


def _integration_of(res: dict, route: str) -> dict:
    target = res[f"aws_apigatewayv2_route.{route}"]["target"]
    name = target.removeprefix("integrations/${aws_apigatewayv2_integration.").removesuffix(".id}")
    return res[f"aws_apigatewayv2_integration.{name}"]


def test_leader_follower_and_root_reach_the_right_instances(bundled):
    arn = "${aws_service_discovery_service.raft.arn}"
    assert _integration_of(bundled, "leader")["integration_uri"] == arn + "?leader=true"
    assert _integration_of(bundled, "follower")["integration_uri"] == arn + "?leader=false"
    assert _integration_of(bundled, "get_root")["integration_uri"] == arn


def test_integrations_are_private_http_proxies_over_the_vpc_link(bundled):
    for address, args in bundled.items():
        if address.startswith("aws_apigatewayv2_integration.") and args["integration_type"] != "AWS_PROXY":
            assert args["integration_type"] == "HTTP_PROXY"
            assert args["connection_type"] == "VPC_LINK"
            assert args["connection_id"] == "${aws_apigatewayv2_vpc_link.vpc_link.id}"
            assert args["integration_method"] == "ANY"
            assert args["payload_format_version"] == "1.0"
    proxies = {a for a, args in bundled.items()
               if a.startswith("aws_apigatewayv2_integration.") and args["integration_type"] == "AWS_PROXY"}
    assert proxies == {"aws_apigatewayv2_integration.reload"}  # only the fan-out route: it invokes its function


@pytest.mark.parametrize("path", EXAMPLES, ids=example_id)
def test_every_route_targets_an_integration_that_exists(path):
    res = resources(synth_json(path.read_text()))
    routes = [a for a in res if a.startswith("aws_apigatewayv2_route.")]
    assert routes
    for route in routes:
        assert _integration_of(res, route.split(".", 1)[1])


def test_cloud_map_service_sets_top_level_namespace_id_and_srv_records(bundled):
    service = bundled["aws_service_discovery_service.raft"]
    ns = "${aws_service_discovery_private_dns_namespace.namespace.id}"
    assert service["namespace_id"] == ns
    assert service["dns_config"] == {"namespace_id": ns, "routing_policy": "MULTIVALUE",
                                     "dns_records": [{"ttl": 10, "type": "SRV"}]}
    assert "health_check_custom_config" in service


def test_stage_auto_deploys_and_throttles_with_both_numbers(bundled):
    stage = bundled["aws_apigatewayv2_stage.stage"]
    assert stage["auto_deploy"] is True and stage["name"] == "$default"
    assert stage["default_route_settings"] == {"throttling_burst_limit": 100, "throttling_rate_limit": 50}
    assert not {"logging_level", "data_trace_enabled"} & set(stage.get("default_route_settings", {}))


def test_named_stage_strips_the_stage_from_the_backend_path_unless_opted_out():
    res = resources(synth_json((ROOT / "examples" / "named-stage.yaml").read_text()))
    assert _integration_of(res, "get_items_id")["request_parameters"] == {"overwrite:path": "$request.path"}
    assert "request_parameters" not in _integration_of(res, "legacy")
    assert res["aws_apigatewayv2_stage.stage"]["name"] == "prod"


def test_multi_attribute_filters_are_sorted_and_percent_encoded():
    res = resources(synth_json((ROOT / "examples" / "multi-filter.yaml").read_text()))
    assert _integration_of(res, "canary")["integration_uri"].endswith("?deployment=green&stage=prod&version=1.5%20rc")
    assert _integration_of(res, "any_proxy")["integration_uri"].endswith("?deployment=blue&stage=prod")


def test_each_route_has_its_own_integration_at_the_route_s_name():
    model = model_of((ROOT / "examples" / "shared.yaml").read_text())
    res = resources(synth_json((ROOT / "examples" / "shared.yaml").read_text()))
    integrations = sorted(a.split(".", 1)[1] for a in res if a.startswith("aws_apigatewayv2_integration."))
    assert len(model.routes) == 12
    assert integrations == sorted(r.id for r in model.routes)
    for route in model.routes:
        assert res[f"aws_apigatewayv2_route.{route.id}"]["target"] == \
            f"integrations/${{aws_apigatewayv2_integration.{route.id}.id}}"


@pytest.mark.parametrize("new_id", ["aaa", "zzz", "get_a"])
def test_adding_a_route_leaves_every_other_block_as_it_was(new_id):
    """Whatever id the new route has (sorting first or last), no other address or argument changes."""
    before = {b.address: b for b in build(model_of(BUNDLED)).blocks}
    after = {b.address: b for b in build(model_of(
        BUNDLED + f'\n  - route: GET /a\n    id: {new_id}\n    service: raft\n    filter: {{leader: "true"}}\n'
        "    authorization: operators\n")).blocks}
    assert set(after) - set(before) == {f"aws_apigatewayv2_route.{new_id}", f"aws_apigatewayv2_integration.{new_id}"}
    assert {a: after[a] for a in before} == before


def test_replacements_never_delete_what_aws_still_sees_referenced(bundled):
    """AWS refuses to delete an integration routes reference, or a VPC link integrations reference. The VPC link is
    created before the old one goes; an integration is replaced only with its route, which Terraform deletes first
    (create_before_destroy on integrations would spread to the Cloud Map service, which cannot be created twice
    under one name)."""
    assert bundled["aws_apigatewayv2_vpc_link.vpc_link"]["lifecycle"] == {"create_before_destroy": True}
    for address, args in bundled.items():
        if address.startswith("aws_apigatewayv2_integration."):
            assert "lifecycle" not in args, address
        if address.startswith("aws_apigatewayv2_route."):
            target = args["target"].removeprefix("integrations/${").removesuffix(".id}")
            assert args["lifecycle"] == {"replace_triggered_by": [f"{target}.integration_type"]}, address
    assert bundled["aws_service_discovery_service.raft"]["force_destroy"] is True


def test_static_instances_carry_ip_port_and_custom_attributes_as_strings():
    res = resources(synth_json((ROOT / "examples" / "http-static.yaml").read_text()))
    instance = res["aws_service_discovery_instance.kv__node_1"]
    assert instance["attributes"] == {"AWS_INSTANCE_IPV4": "10.0.1.10", "AWS_INSTANCE_PORT": "8080",
                                      "leader": "true", "zone": "a"}
    assert instance["service_id"] == "${aws_service_discovery_service.kv.id}"
    assert "dns_config" not in res["aws_service_discovery_service.kv"]


def test_existing_services_create_nothing_in_cloud_map_and_build_arns():
    doc = synth_json((ROOT / "examples" / "existing.yaml").read_text())
    res = resources(doc)
    assert not [a for a in res if a.startswith("aws_service_discovery_")]
    assert _integration_of(res, "any_orders_proxy")["integration_uri"] == \
        "arn:aws:servicediscovery:eu-west-1:123456789012:service/srv-abcdefgh12345678"
    assert _integration_of(res, "get_billing_v2")["integration_uri"] == (
        "arn:${data.aws_partition.current.partition}:servicediscovery:${data.aws_region.current.name}:"
        "${data.aws_caller_identity.current.account_id}:service/srv-bcdefghi23456789?ECS_SERVICE_NAME=billing-v2")


def test_outputs_expose_endpoint_invoke_url_vpc_link_and_service_ids():
    doc = synth_json(BUNDLED)
    assert doc["output"]["api_endpoint"]["value"] == "${aws_apigatewayv2_api.api.api_endpoint}"
    assert doc["output"]["stage_invoke_url"]["value"] == "${aws_apigatewayv2_stage.stage.invoke_url}"
    assert doc["output"]["vpc_link_id"]["value"] == "${aws_apigatewayv2_vpc_link.vpc_link.id}"
    assert doc["output"]["service_raft_arn"]["value"] == "${aws_service_discovery_service.raft.arn}"


def test_backend_is_local_with_a_relative_path():
    doc = synth_json(BUNDLED)
    assert doc["terraform"]["backend"] == {"local": {"path": "../../../terraform.routes.tfstate"}}


def test_local_endpoint_mode_is_off_by_default_and_points_every_service_at_the_url():
    assert "endpoints" not in synth_json(BUNDLED)["provider"]["aws"][0]
    provider = synth_json(BUNDLED, local_endpoint="http://127.0.0.1:5999")["provider"]["aws"][0]
    assert set(provider["endpoints"][0].values()) == {"http://127.0.0.1:5999"}
    assert provider["skip_credentials_validation"] is True and provider["access_key"] == "test"


def test_plan_logical_ids_never_come_from_positions():
    plan = build(model_of(BUNDLED))
    names = {b.address for b in plan.blocks}
    assert "aws_apigatewayv2_route.leader" in names and "aws_apigatewayv2_route.get_root" in names
    assert all(not n.split(".")[-1][-1].isdigit() for n in names)


def test_remote_state_is_an_encrypted_locked_s3_backend():
    doc = synth_json(BUNDLED, state="s3://tf-state/routes/raft.tfstate")
    assert doc["terraform"]["backend"] == {"s3": {"bucket": "tf-state", "key": "routes/raft.tfstate", "encrypt": True,
                                                  "region": "eu-west-1", "use_lockfile": True}}
