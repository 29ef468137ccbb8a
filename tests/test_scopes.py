"""Environments in one account: no two stacks give AWS one name where AWS keeps names unique (issue 18, item 1).

Every example is compiled with two environments added (`dev` and `staging`, nothing overridden), and each stack's
Terraform JSON is read with the scope model of tests/aws_scopes.py, which knows nothing of the compiler's: the
names the tool makes up must never meet, and the compiler must refuse the pair exactly when a name the example writes
would meet (E317), and warn exactly when two namespaces of one name would (W408). With staging given what keeps it
apart (its own VPC, domain, namespace name), every example compiles and no name meets.
"""

from __future__ import annotations

import re

import pytest
import yaml

from compiler.core import names
from compiler.core.diagnostics import render_text
from compiler.language import compile_stacks_text
from compiler.terraform.direct import document
from compiler.terraform.plan import build

from .aws_scopes import ambiguous_namespaces, shared_names
from .conftest import EXAMPLES, ROOT, example_id

WITHOUT_ENVIRONMENTS = [p for p in EXAMPLES if "environments" not in yaml.safe_load(p.read_text())]
TWO = "environments: {dev: {}, staging: {}}\n"
OTHER_VPC = "vpc-0e5f60718293a4b5c"
# The compiler's words for a kind of name (E317 messages), for each resource type of the scope model.
KINDS = {"aws_lambda_function": "Lambda function", "aws_cloudwatch_log_group": "log group",
         "aws_security_group": "security group", "aws_vpc_endpoint": "interface VPC endpoint with private DNS",
         "aws_service_discovery_private_dns_namespace": "private DNS namespace",
         "aws_apigatewayv2_domain_name": "custom domain", "aws_lambda_permission": "permission statement",
         "aws_service_discovery_service": "Cloud Map service"}
NAMED = re.compile(r"would both create the (.+?) '(.+?)' in ")
SHARED_NAMESPACE = re.compile(r"^environments (\S+) and (\S+) both create the .+? namespace '(.+?)'")


def stack_documents(text: str, environments: list[str]) -> dict[str, dict]:
    """Each environment's Terraform JSON, compiled one by one (so a pair the compiler refuses can still be read)."""
    out = {}
    for name in environments:
        stacks, diagnostics = compile_stacks_text(text, environments=[name])
        assert stacks is not None, render_text(diagnostics)
        out[name] = document(build(stacks[0][1], stack=name), name)
    return out


def with_two(path) -> str:
    return path.read_text() + TWO


@pytest.mark.parametrize("path", WITHOUT_ENVIRONMENTS, ids=example_id)
def test_two_environments_of_an_example_are_refused_exactly_where_a_written_name_would_meet(path):
    text = with_two(path)
    shared = shared_names(stack_documents(text, ["dev", "staging"]))
    stacks, diagnostics = compile_stacks_text(text, str(path))
    refused = {NAMED.search(d.message).groups() for d in diagnostics if d.code == "E317"}
    # The tool's own names (functions, log groups, roles, security groups, statements) never meet: every name that
    # does is one the example wrote, and the compiler refuses exactly those, at staging's key.
    made_up = [a for a, _ in shared if a.type in ("aws_lambda_function", "aws_security_group", "aws_lambda_permission")
               or a.name.startswith("/aws/lambda/")]
    assert made_up == []
    assert refused == {(KINDS[a.type], _shown(a, path)) for a, _ in shared}
    assert (stacks is None) == bool(refused), render_text(diagnostics)
    staging_line = text.splitlines().index(TWO.strip()) + 1
    assert {(d.line, d.col) for d in diagnostics if d.code == "E317"} <= {(staging_line, 25)}
    warned = {SHARED_NAMESPACE.match(d.message).groups() for d in diagnostics if d.code == "W408"}
    assert warned == ambiguous_namespaces(stack_documents(text, ["dev", "staging"]))
    assert {d.code for d in diagnostics} <= {"E317", "W408", "W410"}, render_text(diagnostics)


def _shown(name, path) -> str:
    """The name as the example wrote it (the scope model lower-cases where AWS ignores case)."""
    text = path.read_text()
    match = re.search(re.escape(name.name), text, re.IGNORECASE)
    return match.group() if match else name.name


def apart(text: str) -> str:
    """The example with staging given what keeps its written names apart from dev's."""
    data = yaml.safe_load(text)
    staging: dict = {}
    namespace = data.get("namespace") or {}
    if namespace.get("type") == "private_dns" and "existing_id" not in namespace:
        staging["namespace"] = {"vpc_id": OTHER_VPC}
    elif namespace.get("name"):
        staging["namespace"] = {"name": "staging-" + namespace["name"]}
    if "vpc_id" in data["vpc_link"]:  # else the link's VPC is the private DNS namespace's, moved above
        staging["vpc_link"] = {"vpc_id": OTHER_VPC}
    api = data["api"]
    if "custom_domain" in api:
        staging.setdefault("api", {})["custom_domain"] = {"domain_name": "staging." + api["custom_domain"]["domain_name"]}
    if "group_name" in api.get("access_logs", {}):
        staging.setdefault("api", {})["access_logs"] = {"group_name": api["access_logs"]["group_name"] + "-staging"}
    return text + yaml.safe_dump({"environments": {"dev": {}, "staging": staging}}, sort_keys=False)


@pytest.mark.parametrize("path", WITHOUT_ENVIRONMENTS, ids=example_id)
def test_two_environments_kept_apart_compile_and_share_no_name(path):
    text = apart(path.read_text())
    stacks, diagnostics = compile_stacks_text(text, str(path))
    assert stacks is not None and not {"E317", "W408"} & {d.code for d in diagnostics}, render_text(diagnostics)
    documents = {name: document(build(model, stack=name), name) for name, model in stacks}
    assert shared_names(documents) == [] and ambiguous_namespaces(documents) == set()


def test_the_environments_example_shares_no_name_between_its_stacks():
    text = (ROOT / "examples" / "environments.yaml").read_text()
    stacks, diagnostics = compile_stacks_text(text)
    assert stacks is not None and not diagnostics, render_text(diagnostics)
    documents = {name: document(build(model, stack=name), name) for name, model in stacks}
    assert shared_names(documents) == [] and ambiguous_namespaces(documents) == set()


# --- the names themselves ------------------------------------------------------------------------------------------

ALLOWLIST = (ROOT / "examples" / "admin-allowlist.yaml").read_text()


def test_a_file_without_environments_keeps_its_names():
    stacks, _ = compile_stacks_text(ALLOWLIST)
    plan = build(stacks[0][1])
    assert sorted(b.args["function_name"] for b in plan.of_type("aws_lambda_function")) == [
        "raft-admin-allowlist-operators_network", "raft-admin-fanout-log_level", "raft-admin-fanout-state"]
    assert {b.args["name"] for b in plan.of_type("aws_security_group")} == {"raft-admin-fanout-log_level",
                                                                            "raft-admin-fanout-state"}
    assert [b.args["statement_id"] for b in plan.of_type("aws_lambda_permission")
            if b.name.startswith("authorizer_")] == ["AllowApiGatewayAuthorizer-operators_network"]


def test_names_an_environment_gives_aws_carry_it():
    stacks, _ = compile_stacks_text(ALLOWLIST + TWO)
    plan = build(dict(stacks)["staging"], stack="staging")
    assert sorted(b.args["function_name"] for b in plan.of_type("aws_lambda_function")) == [
        "raft-admin-staging-allowlist-operators_network", "raft-admin-staging-fanout-log_level",
        "raft-admin-staging-fanout-state"]
    assert sorted(b.args["name"] for b in plan.of_type("aws_cloudwatch_log_group")) == [
        "/aws/apigateway/raft-admin/staging/access", "/aws/lambda/raft-admin-staging-allowlist-operators_network",
        "/aws/lambda/raft-admin-staging-fanout-log_level", "/aws/lambda/raft-admin-staging-fanout-state"]
    assert {b.args["name_prefix"] for b in plan.of_type("aws_iam_role")} == {
        "raft-admin-staging-allowlist-operator-", "raft-admin-staging-fanout-log_level-",
        "raft-admin-staging-fanout-state-"}
    assert [b.args["statement_id"] for b in plan.of_type("aws_lambda_permission")
            if b.name.startswith("authorizer_")] == ["AllowApiGatewayAuthorizer-staging-operators_network"]


def test_long_names_keep_aws_limits_and_stay_unique():
    environment = "e" * 64
    function = names.function_name("a" * 128, "allowlist", "k" * 74, environment)
    assert len(function) == 64 and function != names.function_name("a" * 128, "allowlist", "k" * 74, "f" * 64)
    statement = names.authorizer_statement("k" * 74, environment)
    assert len(statement) == 100 and re.fullmatch(r"[A-Za-z0-9_-]+", statement)
    assert statement != names.authorizer_statement("k" * 74, "f" * 64)
    assert names.authorizer_statement("k" * 74) == "AllowApiGatewayAuthorizer-" + "k" * 74  # unchanged: 100
    assert len(names.role_prefix(function)) <= 38  # + Terraform's 26-character suffix <= 64
    assert names.security_group("sg-admin", "fanout", "x") == "cmr-sg-admin-fanout-x"  # "Can't start with sg-"
    assert names.security_group("SG-admin", "fanout", "x", "dev") == "cmr-SG-admin-dev-fanout-x"


BASE = """version: 1
region: eu-west-1
api: {name: t, default_authorization: iam}
vpc_link: {subnet_ids: [subnet-0a1b2c3d4e5f60718], security_group_ids: [sg-0c3d4e5f607182930], vpc_id: vpc-0d4e5f60718293a4b,
           cloud_map_access: nat}
namespace: {type: http, name: t-ns}
services:
  app: {health_check: custom}
routes:
  - {route: POST /reload, service: app, fan_out: {}}
"""


def codes(text: str) -> list[str]:
    return [d.code for d in compile_stacks_text(text)[1]]


def test_generated_names_that_would_still_meet_are_refused():
    # api.name overridden so that <api>-<environment> reads the same in two environments: a-b + c, a + b-c.
    text = BASE + "environments:\n  c: {api: {name: a-b}, namespace: {name: c-ns}}\n  b-c: {api: {name: a}}\n"
    diagnostics = compile_stacks_text(text)[1]
    assert [d.message.split(" in ")[0] for d in diagnostics if d.code == "E317"] == [
        "environments c and b-c would both create the Lambda function 'a-b-c-fanout-post_reload'",
        "environments c and b-c would both create the log group '/aws/lambda/a-b-c-fanout-post_reload'",
        "environments c and b-c would both create the security group 'a-b-c-fanout-post_reload'"]
    assert {(d.line, d.col, d.loc) for d in diagnostics if d.code == "E317"} == {(13, 21, "environments.b-c.api.name")}


def test_environments_the_file_keeps_apart_may_write_one_name():
    shared = BASE.replace("api: {name: t,", "api: {name: t, access_logs: {group_name: /team/t},")
    assert "E317" in codes(shared + "environments: {dev: {}, prod: {}}\n")
    assert "E317" not in codes(shared + "environments: {dev: {}, prod: {region: eu-central-1}}\n")
    accounts = "environments:\n  dev: {provider: {allowed_account_ids: ['111111111111']}}\n  prod: {%s}\n"
    assert "E317" not in codes(shared + accounts % "provider: {allowed_account_ids: ['222222222222']}")
    assert "E317" not in codes(shared + accounts % "provider: {assume_role: {role_arn: "
                                                   "'arn:aws:iam::222222222222:role/deploy'}}")
    assert "E317" in codes(shared + accounts % "provider: {allowed_account_ids: ['111111111111', '222222222222']}")


def test_services_created_in_one_existing_namespace_are_refused():
    text = BASE.replace("namespace: {type: http, name: t-ns}", "namespace: {type: http, existing_id: ns-abcdefgh12345678}")
    text = text.replace(", fan_out: {}", "").replace("POST /reload", "GET /")
    diagnostics = compile_stacks_text(text + TWO)[1]
    assert [d.message.split(" in ")[0] for d in diagnostics if d.code == "E317"] == [
        "environments dev and staging would both create the Cloud Map service 'app'"]
    assert "E317" not in codes(text + "environments: {dev: {}, staging: {services: {app: {name: app-staging}}}}\n")


def test_a_lambda_authorizer_shared_by_environments_gets_a_statement_from_each():
    text = BASE.replace("default_authorization: iam", "default_authorization: gate") + \
        "authorizers:\n  gate: {type: lambda, function_arn: 'arn:aws:lambda:eu-west-1:123456789012:function:gate'}\n"
    stacks, diagnostics = compile_stacks_text(text + TWO)
    assert stacks is not None, render_text(diagnostics)
    statements = [build(model, stack=name).block("aws_lambda_permission.authorizer_gate").args["statement_id"]
                  for name, model in stacks]
    assert statements == ["AllowApiGatewayAuthorizer-dev-gate", "AllowApiGatewayAuthorizer-staging-gate"]
