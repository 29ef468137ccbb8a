"""The admin examples applied with real Terraform on the local AWS (moto's server on 127.0.0.1): the fan-out
functions and the allow-list authorizer are created from the zips synth writes (never run here: the handlers have
their own tests against real loopback servers), with the role, log group, security group and permission each
needs; mutual TLS lands on the custom domain; a second plan is empty; destroy leaves nothing behind.
"""

from __future__ import annotations

import base64
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from compiler.live import status
from compiler.terraform import bundle

from .localaws import LocalStack, applied
from .synthesis import model_of

EXAMPLES = {"allowlist": "examples/admin-allowlist.yaml", "mtls": "examples/admin-mtls.yaml"}


def both(work, *args):
    """Run `work(example, *args)` for both examples at once: Terraform spends most of an apply waiting on the
    provider's waiters (a function becoming active), so two stacks side by side take little more than one."""
    with ThreadPoolExecutor(max_workers=len(EXAMPLES)) as pool:
        results = dict(zip(EXAMPLES, pool.map(lambda key: work(key, *args), EXAMPLES)))
    return results


@pytest.fixture(scope="module")
def stacks(tmp_path_factory, moto, tf_env):
    """Both admin examples, applied (in their own directories, each region its own local account)."""
    return both(lambda key: applied(tmp_path_factory.mktemp(key), moto, tf_env, EXAMPLES[key]))


def functions(local: LocalStack) -> dict[str, dict]:
    """function name -> GetFunction's Configuration, for every function in the local account and region."""
    client = local.client("lambda")
    return {f["FunctionName"]: client.get_function(FunctionName=f["FunctionName"])["Configuration"]
            for f in client.list_functions()["Functions"]}


def written_zip_hash(local: LocalStack, name: str) -> str:
    data = (local.terraform.workdir / f"{name}.zip").read_bytes()
    assert data == bundle.handler_zip(name)  # what synth wrote is the shipped package, byte for byte
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def egress(local: LocalStack, group_id: str) -> set[tuple]:
    rules = local.client("ec2").describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [group_id]}])["SecurityGroupRules"]
    return {(r["IpProtocol"], r["FromPort"], r["ToPort"], r.get("CidrIpv4")) for r in rules if r["IsEgress"]}


def group_of(local: LocalStack, function: dict) -> str:
    (group,) = function["VpcConfig"]["SecurityGroupIds"]
    return group


def assert_plan_empty(local: LocalStack) -> None:
    """One Terraform run (plan's exit code 2 means changes, and fails with the plan text)."""
    local.terraform.run("plan", "-input=false", "-detailed-exitcode")


def destroy(local: LocalStack) -> None:
    """Without the refresh a destroy starts with: nothing but Terraform changed these stacks since the empty plan."""
    local.terraform.run("destroy", "-auto-approve", "-input=false", "-refresh=false")


def assert_gone(local: LocalStack) -> None:
    assert local.client("apigatewayv2").get_apis()["Items"] == []
    assert local.client("lambda").list_functions()["Functions"] == []
    assert [r for r in local.client("iam").list_roles()["Roles"] if r["RoleName"].startswith("raft-admin")] == []
    assert local.client("logs").describe_log_groups()["logGroups"] == []
    assert local.client("servicediscovery").list_services()["Services"] == []


def test_second_plans_have_no_changes(stacks):
    both(lambda key: assert_plan_empty(stacks[key][0]))


@pytest.fixture
def allowlist(stacks):
    return stacks["allowlist"]


@pytest.fixture
def mtls(stacks):
    return stacks["mtls"]


class TestAllowListAdmin:

    def test_functions_are_created_from_the_zips_synth_wrote(self, allowlist):
        local, _ = allowlist
        found = functions(local)
        assert sorted(found) == ["raft-admin-allowlist-operators_network", "raft-admin-fanout-log_level",
                                 "raft-admin-fanout-state"]
        for name, function in found.items():
            handler = "allowlist" if "-allowlist-" in name else "fanout"
            assert function["CodeSha256"] == written_zip_hash(local, handler)
            assert (function["Runtime"], function["Handler"]) == ("python3.12", bundle.HANDLER_ENTRY[handler])
            assert function["TracingConfig"] == {"Mode": "PassThrough"}
        gate = found["raft-admin-allowlist-operators_network"]
        assert gate["Environment"]["Variables"] == {"ALLOWED_CIDRS": "203.0.113.0/24,198.51.100.7,2001:db8:4a00::/40"}
        assert not gate.get("VpcConfig", {}).get("SubnetIds")  # the allow-list needs no network
        state = found["raft-admin-fanout-state"]
        variables = state["Environment"]["Variables"]
        assert (variables["CLOUD_MAP_SERVICE"], variables["INCLUDE_UNHEALTHY"], variables["TOTAL_TIMEOUT_MS"],
                variables["STAGE"], variables["STRIP_STAGE"]) == ("raft", "true", "4500", "admin", "true")
        namespace = local.client("servicediscovery").list_namespaces()["Namespaces"][0]
        assert variables["CLOUD_MAP_NAMESPACE"] == namespace["Properties"]["HttpProperties"]["HttpName"]
        # An HTTP namespace's HttpName is known to Terraform: no GetNamespace (whose control API needs an endpoint of
        # its own; the example has only the data API's)
        assert variables["CLOUD_MAP_NAMESPACE_ID"] == ""
        assert state["Timeout"] == 5 and state["MemorySize"] == 256
        assert sorted(state["VpcConfig"]["SubnetIds"]) == sorted(model_of(allowlist[1]).vpc_link.subnet_ids)

    def test_every_route_uses_the_allow_list_and_it_keys_on_the_source_address(self, allowlist):
        local, _ = allowlist
        agw, api_id = local.client("apigatewayv2"), local.api_id()
        routes = agw.get_routes(ApiId=api_id)["Items"]
        assert {r["AuthorizationType"] for r in routes} == {"CUSTOM"}
        (authorizer_id,) = {r["AuthorizerId"] for r in routes}
        authorizer = agw.get_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)
        assert authorizer["AuthorizerType"] == "REQUEST"
        assert authorizer["IdentitySource"] == ["$context.identity.sourceIp"]
        assert authorizer["EnableSimpleResponses"] is True
        assert functions(local)["raft-admin-allowlist-operators_network"]["FunctionArn"] in authorizer["AuthorizerUri"]

    def test_fan_out_routes_invoke_their_functions_and_the_leader_route_stays_private(self, allowlist):
        local, _ = allowlist
        agw, api_id = local.client("apigatewayv2"), local.api_id()
        integrations = {}
        for route in agw.get_routes(ApiId=api_id)["Items"]:
            integration = agw.get_integration(ApiId=api_id, IntegrationId=route["Target"].split("/", 1)[1])
            integrations[route["RouteKey"]] = integration
        state = integrations["GET /raft/state"]
        assert (state["IntegrationType"], state["PayloadFormatVersion"], state["TimeoutInMillis"]) == \
            ("AWS_PROXY", "2.0", 5000)
        assert functions(local)["raft-admin-fanout-state"]["FunctionArn"] in state["IntegrationUri"]
        leader = integrations["POST /raft/leader/{proxy+}"]
        assert (leader["IntegrationType"], leader["ConnectionType"]) == ("HTTP_PROXY", "VPC_LINK")
        policy = json.loads(local.client("lambda").get_policy(FunctionName="raft-admin-fanout-state")["Policy"])
        (statement,) = policy["Statement"]
        assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
        assert statement["Condition"]["ArnLike"]["AWS:SourceArn"].endswith(f":{api_id}/*/*")

    def test_status_sees_no_drift_and_every_instance_a_fan_out_calls(self, allowlist):
        local, text = allowlist
        report = status.read(model_of(text), local.client("apigatewayv2"), local.client("servicediscovery"))
        views = {v.route: v for v in report.routes}
        assert all(v.drift == [] for v in views.values()), {k: v.drift for k, v in views.items()}
        assert views["GET /raft/state"].verdict == "fan-out: all 3 instances, each request"
        assert [i.id for i in views["POST /raft/leader/{proxy+}"].instances] == ["node-1"]

    def test_a_fan_out_role_may_discover_its_service_and_read_its_namespace_only(self, allowlist):
        local, _ = allowlist
        iam, sd = local.client("iam"), local.client("servicediscovery")
        role = functions(local)["raft-admin-fanout-state"]["Role"].rsplit("/", 1)[1]
        (policy_name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
        document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        (discover,) = document["Statement"]  # no GetNamespace for an HTTP namespace
        service = sd.list_services()["Services"][0]
        namespace = sd.list_namespaces()["Namespaces"][0]
        assert (discover["Action"], discover["Effect"]) == ("servicediscovery:DiscoverInstances", "Allow")
        assert discover["Resource"] == [namespace["Arn"], service["Arn"]]
        attached = [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]
        assert attached == ["AWSLambdaVPCAccessExecutionRole"]

    def test_a_fan_out_function_may_reach_the_instances_port_and_cloud_map_only(self, allowlist):
        local, _ = allowlist
        vpc_cidr = local.client("ec2").describe_vpcs(VpcIds=[model_of(allowlist[1]).vpc_link.vpc_id])["Vpcs"][0]["CidrBlock"]
        group = group_of(local, functions(local)["raft-admin-fanout-state"])
        assert egress(local, group) == {("tcp", 443, 443, vpc_cidr), ("tcp", 8080, 8080, vpc_cidr)}

    def test_function_logs_keep_the_api_retention_and_key(self, allowlist):
        local, _ = allowlist
        groups = {g["logGroupName"]: g for g in local.client("logs").describe_log_groups()["logGroups"]}
        for name in functions(local):
            group = groups[f"/aws/lambda/{name}"]
            assert group["retentionInDays"] == 365 and group["kmsKeyId"].startswith("arn:aws:kms:")



class TestMutualTlsAdmin:

    def test_the_custom_domain_asks_for_client_certificates_and_is_the_only_way_in(self, mtls):
        local, text = mtls
        agw = local.client("apigatewayv2")
        domain = agw.get_domain_name(DomainName="admin.example.com")
        truststore = model_of(text).api.custom_domain.mutual_tls
        assert domain["MutualTlsAuthentication"]["TruststoreUri"] == "s3://example-admin-truststore/ca-bundle.pem"
        assert domain["MutualTlsAuthentication"]["TruststoreVersion"] == truststore.truststore_version
        (configuration,) = domain["DomainNameConfigurations"]
        assert (configuration["EndpointType"], configuration["SecurityPolicy"]) == ("REGIONAL", "TLS_1_2")
        assert agw.get_api(ApiId=local.api_id())["DisableExecuteApiEndpoint"] is True

    def test_routes_are_iam_authorized(self, mtls):
        local, _ = mtls
        routes = local.client("apigatewayv2").get_routes(ApiId=local.api_id())["Items"]
        assert {r["RouteKey"]: r["AuthorizationType"] for r in routes} == {
            "POST /admin/cache/flush": "AWS_IAM", "GET /admin/followers/state": "AWS_IAM",
            "GET /admin/leader": "AWS_IAM"}

    def test_through_the_nat_the_functions_reach_cloud_map_anywhere_and_instances_in_the_vpc(self, mtls):
        local, text = mtls
        vpc_cidr = local.client("ec2").describe_vpcs(VpcIds=[model_of(text).vpc_link.vpc_id])["Vpcs"][0]["CidrBlock"]
        found = functions(local)
        assert sorted(found) == ["raft-admin-mtls-fanout-flush", "raft-admin-mtls-fanout-follower_state"]
        for function in found.values():
            assert function["CodeSha256"] == written_zip_hash(local, "fanout")
            assert egress(local, group_of(local, function)) == {("tcp", 443, 443, "0.0.0.0/0"),
                                                                ("tcp", 1, 65535, vpc_cidr)}
        assert json.loads(found["raft-admin-mtls-fanout-follower_state"]["Environment"]["Variables"]["FILTER"]) == \
            {"leader": "false"}



def test_destroy_leaves_nothing_behind(stacks):
    both(lambda key: destroy(stacks[key][0]))
    for local, _ in stacks.values():
        assert_gone(local)
    assert stacks["mtls"][0].client("apigatewayv2").get_domain_names()["Items"] == []
