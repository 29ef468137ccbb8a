"""Fan-out routes and the admin lock-downs, as planned: what each emits and what it may not.

Fan-out: the function, its role (DiscoverInstances on the route's namespace and service, nothing else), log group
(the API's retention and key), security group (the instances' ports and HTTPS to Cloud Map only), invoke
permission (this API only) and a Lambda proxy integration; the network choice (endpoint, existing endpoint, NAT).
Allow-list: a REQUEST authorizer keyed on the source address, backed by the shipped handler. Mutual TLS: the
truststore on a regional TLS 1.2 custom domain. Assets: the zips both engines write, byte-identical anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys

import pytest

from compiler.core import names
from compiler.language import compile_text, functions
from compiler.terraform import bundle
from compiler.terraform.catalogue import TYPES
from compiler.terraform.direct import write_direct
from compiler.terraform.plan import build

from .conftest import ROOT
from .synthesis import model_of, resources, synth_json

BUNDLED = (ROOT / "routes.yaml").read_text()
WITHOUT_FAN_OUT = BUNDLED[:BUNDLED.index("\n  - route: POST /admin/reload")] + "\n"
ALLOWLIST = (ROOT / "examples" / "admin-allowlist.yaml").read_text()
MTLS = (ROOT / "examples" / "admin-mtls.yaml").read_text()


def fan_out_doc(access: str | None = "existing_endpoint", region: bool = True, ports=(8080,), timeout: str = "",
                namespace: str = "http") -> str:
    """A small document with one fan-out route (and static instances on `ports`, if any)."""
    instances = "".join(f"      - {{id: n{i}, ipv4: 10.0.1.{10 + i}, port: {p}}}\n" for i, p in enumerate(ports))
    service = (f"  app:\n    health_check: custom\n    instances:\n{instances}" if ports else
               "  app: {registered_by: other, health_check: custom}\n")
    ns = ("namespace: {type: http, name: admin-ns}\n" if namespace == "http" else
          "namespace: {type: private_dns, name: admin.internal, vpc_id: vpc-0d4e5f60718293a4b}\n")
    if namespace != "http":
        service = service.replace("health_check: custom", "health_check: custom, dns_records: [{type: SRV}]", 1)
    return ("version: 1\n" + ("region: eu-west-1\n" if region else "") +
            "api: {name: admin, default_authorization: iam}\n"
            "vpc_link:\n  subnet_ids: [subnet-0a1b2c3d4e5f60718]\n  security_group_ids: [sg-0c3d4e5f607182930]\n"
            + ("  vpc_id: vpc-0d4e5f60718293a4b\n" if namespace == "http" else "")
            + (f"  cloud_map_access: {access}\n" if access else "") + ns + "services:\n" + service +
            f"routes:\n  - route: POST /reload\n    id: reload\n    service: app\n{timeout}    fan_out: {{}}\n")


def args(doc: dict, address: str) -> dict:
    return resources(doc)[address]


# --- fan-out -----------------------------------------------------------------------------------------------

def test_adding_a_fan_out_route_adds_its_own_resources_and_changes_nothing_else():
    before, after = resources(synth_json(WITHOUT_FAN_OUT)), resources(synth_json(BUNDLED))
    assert all(before[a] == after[a] for a in before)
    assert sorted(set(after) - set(before)) == sorted([
        "aws_apigatewayv2_integration.reload", "aws_apigatewayv2_route.reload",
        "aws_cloudwatch_log_group.fanout_reload", "aws_iam_role.fanout_reload", "aws_iam_role_policy.fanout_reload",
        "aws_iam_role_policy_attachment.fanout_reload", "aws_lambda_function.fanout_reload",
        "aws_lambda_permission.fanout_reload", "aws_security_group.fanout_reload",
        "aws_vpc_security_group_egress_rule.fanout_reload__cloud_map",
        "aws_vpc_security_group_egress_rule.fanout_reload__instances",
        # the bundled file asks for the endpoints (data API, and the control API for its DNS namespace's
        # GetNamespace); they exist once, whatever the number of fan-out routes
        "aws_security_group.cloud_map", "aws_vpc_endpoint.cloud_map", "aws_vpc_endpoint.cloud_map_api",
        "aws_vpc_security_group_ingress_rule.cloud_map"])


def test_the_route_invokes_its_function_through_a_lambda_proxy_integration():
    doc = synth_json(BUNDLED)
    assert args(doc, "aws_apigatewayv2_integration.reload") == {
        "api_id": "${aws_apigatewayv2_api.api.id}", "integration_type": "AWS_PROXY", "integration_method": "POST",
        "integration_uri": "${aws_lambda_function.fanout_reload.invoke_arn}", "payload_format_version": "2.0",
        "timeout_milliseconds": 10000}
    route = args(doc, "aws_apigatewayv2_route.reload")  # authorized like any other route
    # Turning fan-out off replaces the integration (its type changes): the route is replaced with it, first.
    assert route["lifecycle"] == {"replace_triggered_by": ["aws_apigatewayv2_integration.reload.integration_type"]}
    assert (route["authorization_type"], route["authorization_scopes"]) == ("JWT", ["raft/admin"])
    assert args(doc, "aws_lambda_permission.fanout_reload") == {
        "statement_id": "AllowApiGatewayInvoke", "action": "lambda:InvokeFunction",
        "function_name": "${aws_lambda_function.fanout_reload.function_name}",
        "principal": "apigateway.amazonaws.com", "source_arn": "${aws_apigatewayv2_api.api.execution_arn}/*/*"}


def test_the_function_runs_the_shipped_zip_in_the_vpc_with_its_own_group():
    doc = synth_json(BUNDLED)
    function = args(doc, "aws_lambda_function.fanout_reload")
    data = bundle.handler_zip("fanout")
    assert (function["runtime"], function["handler"], function["filename"]) == \
        ("python3.12", "fanout.handler", "fanout.zip")
    assert function["source_code_hash"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert function["vpc_config"] == {"subnet_ids": ["subnet-0a1b2c3d4e5f60718", "subnet-0b2c3d4e5f6071829"],
                                      "security_group_ids": ["${aws_security_group.fanout_reload.id}"]}
    assert function["depends_on"] == ["aws_cloudwatch_log_group.fanout_reload", "aws_iam_role_policy.fanout_reload",
                                      "aws_iam_role_policy_attachment.fanout_reload"]
    model = model_of(BUNDLED)
    route = next(r for r in model.routes if r.id == "reload")
    assert function["environment"]["variables"] == {  # the namespace's id: only known once it is created
        **functions.fanout_environment(model, route, "raft.internal", "raft"),
        "CLOUD_MAP_NAMESPACE_ID": "${aws_service_discovery_private_dns_namespace.namespace.id}"}
    assert args(doc, "aws_security_group.fanout_reload")["vpc_id"] == "vpc-0d4e5f60718293a4b"
    log_group, access = args(doc, "aws_cloudwatch_log_group.fanout_reload"), args(doc, "aws_cloudwatch_log_group.access_logs")
    assert log_group["name"] == "/aws/lambda/raft-api-fanout-reload"
    assert (log_group["retention_in_days"], log_group["kms_key_id"]) == (access["retention_in_days"], access["kms_key_id"])


def test_the_role_may_discover_instances_of_its_service_and_read_its_namespace_only():
    doc = synth_json(BUNDLED)
    role = args(doc, "aws_iam_role.fanout_reload")
    assert json.loads(role["assume_role_policy"])["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    policy = json.loads(args(doc, "aws_iam_role_policy.fanout_reload")["policy"])
    assert policy["Statement"] == [{
        "Action": "servicediscovery:DiscoverInstances", "Effect": "Allow",
        "Resource": ["${aws_service_discovery_private_dns_namespace.namespace.arn}",
                     "${aws_service_discovery_service.raft.arn}"]}, {
        "Action": "servicediscovery:GetNamespace", "Effect": "Allow",
        "Resource": "${aws_service_discovery_private_dns_namespace.namespace.arn}"}]
    variables = args(doc, "aws_lambda_function.fanout_reload")["environment"]["variables"]
    assert variables["CLOUD_MAP_NAMESPACE_ID"] == "${aws_service_discovery_private_dns_namespace.namespace.id}"
    assert args(doc, "aws_iam_role_policy_attachment.fanout_reload")["policy_arn"] == \
        "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"


@pytest.mark.parametrize("timeout, lambda_s, total_ms, integration_ms", [
    ("", 30, "29500", None), ("    timeout_ms: 10000\n", 10, "9500", 10000), ("    timeout_ms: 2500\n", 3, "2000", 2500)])
def test_the_route_timeout_bounds_the_function(timeout, lambda_s, total_ms, integration_ms):
    doc = synth_json(fan_out_doc(timeout=timeout))
    function = args(doc, "aws_lambda_function.fanout_reload")
    assert (function["timeout"], function["environment"]["variables"]["TOTAL_TIMEOUT_MS"]) == (lambda_s, total_ms)
    assert args(doc, "aws_apigatewayv2_integration.reload").get("timeout_milliseconds") == integration_ms


def egress(doc: dict) -> dict[str, tuple]:
    return {a.split(".", 1)[1]: (r["from_port"], r["to_port"], r["cidr_ipv4"]) for a, r in resources(doc).items()
            if a.startswith("aws_vpc_security_group_egress_rule.")}


VPC_CIDR = "${data.aws_vpc.vpc_link.cidr_block}"


@pytest.mark.parametrize("access, ports, expected", [
    ("existing_endpoint", (8080, 9090, 8080), {"cloud_map": (443, 443, VPC_CIDR), "port_8080": (8080, 8080, VPC_CIDR),
                                               "port_9090": (9090, 9090, VPC_CIDR)}),
    ("existing_endpoint", (443,), {"cloud_map": (443, 443, VPC_CIDR)}),  # one rule: AWS refuses a duplicate
    ("nat", (443,), {"cloud_map": (443, 443, "0.0.0.0/0"), "port_443": (443, 443, VPC_CIDR)}),
    ("nat", (), {"cloud_map": (443, 443, "0.0.0.0/0"), "instances": (1, 65535, VPC_CIDR)}),
    (None, (), {"cloud_map": (443, 443, VPC_CIDR), "instances": (1, 65535, VPC_CIDR)}),
])
def test_the_function_may_reach_the_instances_and_cloud_map_only(access, ports, expected):
    rules = egress(synth_json(fan_out_doc(access, ports=ports)))
    assert rules == {f"fanout_reload__{k}": v for k, v in expected.items()}


def test_create_endpoint_makes_the_data_api_endpoint_with_private_dns():
    doc = synth_json(BUNDLED)
    endpoint = args(doc, "aws_vpc_endpoint.cloud_map")
    assert (endpoint["service_name"], endpoint["vpc_endpoint_type"], endpoint["private_dns_enabled"]) == \
        ("com.amazonaws.eu-west-1.data-servicediscovery", "Interface", True)
    assert endpoint["subnet_ids"] == ["subnet-0a1b2c3d4e5f60718", "subnet-0b2c3d4e5f6071829"]
    ingress = args(doc, "aws_vpc_security_group_ingress_rule.cloud_map")
    assert (ingress["from_port"], ingress["to_port"], ingress["cidr_ipv4"]) == (443, 443, VPC_CIDR)
    # Without a region in routes.yaml the service name is built from the provider's region.
    unnamed = synth_json(fan_out_doc("create_endpoint", region=False))
    assert args(unnamed, "aws_vpc_endpoint.cloud_map")["service_name"] == \
        "com.amazonaws.${data.aws_region.current.name}.data-servicediscovery"
    for access in ("existing_endpoint", "nat", None):
        assert "aws_vpc_endpoint.cloud_map" not in resources(synth_json(fan_out_doc(access)))


def test_a_dns_namespace_gets_the_control_api_endpoint_too_and_an_http_one_does_not():
    """GetNamespace (a DNS namespace's HttpName) is served by servicediscovery.<region>, not by the data API."""
    control = args(synth_json(BUNDLED), "aws_vpc_endpoint.cloud_map_api")
    data = args(synth_json(BUNDLED), "aws_vpc_endpoint.cloud_map")
    assert control["service_name"] == "com.amazonaws.eu-west-1.servicediscovery"
    assert {k: v for k, v in control.items() if k != "service_name"} == \
        {k: v for k, v in data.items() if k != "service_name"}
    http = synth_json(fan_out_doc("create_endpoint"))
    assert "aws_vpc_endpoint.cloud_map" in resources(http) and "aws_vpc_endpoint.cloud_map_api" not in resources(http)
    variables = args(http, "aws_lambda_function.fanout_reload")["environment"]["variables"]
    assert variables["CLOUD_MAP_NAMESPACE_ID"] == ""  # its http_name is passed: the function needs no GetNamespace
    statements = json.loads(args(http, "aws_iam_role_policy.fanout_reload")["policy"])["Statement"]
    assert [s["Action"] for s in statements] == ["servicediscovery:DiscoverInstances"]


def test_an_http_namespace_is_discovered_by_its_http_name_and_a_private_dns_one_by_its_vpc():
    http = args(synth_json(fan_out_doc()), "aws_lambda_function.fanout_reload")
    assert http["environment"]["variables"]["CLOUD_MAP_NAMESPACE"] == \
        "${aws_service_discovery_http_namespace.namespace.http_name}"
    dns = synth_json(fan_out_doc(namespace="private_dns", ports=()))
    assert args(dns, "aws_lambda_function.fanout_reload")["environment"]["variables"]["CLOUD_MAP_NAMESPACE"] == \
        "admin.internal"
    assert args(dns, "aws_security_group.fanout_reload")["vpc_id"] == "vpc-0d4e5f60718293a4b"


def test_function_names_stay_within_what_lambda_accepts():
    assert names.function_name("raft-api", "fanout", "reload") == "raft-api-fanout-reload"
    assert names.function_name("Raft API (prod) é", "fanout", "reload") == "Raft-API--prod----fanout-reload"
    long = names.function_name("a" * 128, "fanout", "reload")
    assert len(long) == 64 and long != names.function_name("a" * 127 + "b", "fanout", "reload")


def test_every_emitted_type_has_a_catalogue_record():
    for text in (BUNDLED, ALLOWLIST, MTLS, fan_out_doc("create_endpoint", region=False)):
        for block in build(model_of(text)).blocks:
            assert (block.mode, block.type) in TYPES, block.address


# --- the allow-list and mutual TLS ---------------------------------------------------------------------------

def test_the_allow_list_is_a_request_authorizer_keyed_on_the_source_address():
    doc = synth_json(ALLOWLIST)
    authorizer = args(doc, "aws_apigatewayv2_authorizer.operators_network")
    assert authorizer == {
        "api_id": "${aws_apigatewayv2_api.api.id}", "authorizer_type": "REQUEST", "name": "operators_network",
        "identity_sources": ["$context.identity.sourceIp"],
        "authorizer_uri": "${aws_lambda_function.allowlist_operators_network.invoke_arn}",
        "authorizer_payload_format_version": "2.0", "enable_simple_responses": True,
        "authorizer_result_ttl_in_seconds": 300}
    function = args(doc, "aws_lambda_function.allowlist_operators_network")
    assert (function["handler"], function["filename"], "vpc_config" in function) == \
        ("allowlist.handler", "allowlist.zip", False)
    assert function["environment"]["variables"] == {
        "ALLOWED_CIDRS": "203.0.113.0/24,198.51.100.7,2001:db8:4a00::/40"}
    policy = json.loads(args(doc, "aws_iam_role_policy.allowlist_operators_network")["policy"])
    assert policy["Statement"] == [{"Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Effect": "Allow",
                                    "Resource": "${aws_cloudwatch_log_group.allowlist_operators_network.arn}:*"}]
    permission = args(doc, "aws_lambda_permission.authorizer_operators_network")
    assert permission["source_arn"] == ("${aws_apigatewayv2_api.api.execution_arn}/authorizers/"
                                        "${aws_apigatewayv2_authorizer.operators_network.id}")
    routes = [r for a, r in resources(doc).items() if a.startswith("aws_apigatewayv2_route.")]
    assert {r["authorization_type"] for r in routes} == {"CUSTOM"}


def test_an_allow_list_route_cannot_ask_for_jwt_scopes():
    text = ALLOWLIST.replace("    id: leader\n", "    id: leader\n    scopes: [raft/admin]\n")
    model, diagnostics = compile_text(text)
    assert model is None
    assert [(d.code, d.message.split(":")[0]) for d in diagnostics if d.severity == "error"] == [
        ("E312", "scopes need a JWT authorizer, and an HTTP API route has exactly one authorizer")]


def test_mutual_tls_goes_on_a_regional_tls_1_2_domain_with_its_version_literal():
    text = MTLS.replace("3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrH", '"v${x}%{y}"')
    domain = args(synth_json(text), "aws_apigatewayv2_domain_name.domain")
    assert domain["domain_name_configuration"]["endpoint_type"] == "REGIONAL"
    assert domain["domain_name_configuration"]["security_policy"] == "TLS_1_2"
    assert domain["mutual_tls_authentication"] == {"truststore_uri": "s3://example-admin-truststore/ca-bundle.pem",
                                                   "truststore_version": "v$${x}%%{y}"}


def test_mutual_tls_with_the_execute_api_endpoint_on_is_a_warning():
    _, diagnostics = compile_text(MTLS.replace("  disable_execute_api_endpoint: true\n", ""))
    assert [d.code for d in diagnostics] == ["W407"]


# --- the zips ---------------------------------------------------------------------------------------------------

SYNTH = ("import sys; from compiler.cli import main; "
         "sys.exit(main(['synth', sys.argv[1], '--engine', 'direct', '--out', sys.argv[2]]))")


def test_the_zips_are_byte_identical_across_synths_in_different_folders(tmp_path):
    """Two synths of the same file, from different working directories, umasks and time zones: the same zips,
    and the hash in the JSON is the hash of the file beside it."""
    outputs = []
    for name, umask, tz in (("one", "0022", "UTC"), ("two/deeper", "0077", "Pacific/Kiritimati")):
        cwd = tmp_path / name
        cwd.mkdir(parents=True)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "TZ": tz}
        result = subprocess.run(["sh", "-c", f'umask {umask} && exec "$0" -c "$1" "$2" "$3"', sys.executable, SYNTH,
                                 str(ROOT / "examples" / "admin-allowlist.yaml"), str(cwd / "out")],
                                cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        stack = cwd / "out" / "stacks" / "routes"
        outputs.append({p.name: p.read_bytes() for p in sorted(stack.glob("*.zip"))})
        document = json.loads((stack / "cdk.tf.json").read_text())
        for function in document["resource"]["aws_lambda_function"].values():
            data = (stack / function["filename"]).read_bytes()
            assert function["source_code_hash"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert sorted(outputs[0]) == ["allowlist.zip", "fanout.zip"]
    assert outputs[0] == outputs[1]


def test_a_stack_without_functions_has_no_assets(tmp_path):
    plan = build(model_of(WITHOUT_FAN_OUT))
    assert plan.assets == ()
    write_direct(plan, str(tmp_path), "routes")
    assert sorted(p.name for p in (tmp_path / "stacks" / "routes").iterdir()) == ["cdk.tf.json"]
