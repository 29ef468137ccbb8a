"""Two environments of the allow-list admin example (fan-out routes, an allow-list authorizer) applied side by side
in one account and region of the local AWS (issue 18): every function, role, log group, security group and
permission of one stack exists beside the other's, each in its own name; a second plan of each is empty; destroying
one leaves the other whole.

Self-contained on purpose (its own moto server, the helpers of tests/localaws.py and compiler.localaws).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from compiler.core.diagnostics import render_text
from compiler.language import compile_stacks_text

from .conftest import ROOT
from .terraform import Terraform, available, terraform_env

pytestmark = [pytest.mark.localaws, pytest.mark.terraform,
              pytest.mark.skipif(not available(), reason="terraform is not on PATH (README: Terraform is required)")]

REGION = "eu-west-1"
ENVIRONMENTS = ("dev", "staging")
# staging names its own namespace: two HTTP namespaces of one name are told apart by nobody calling them by name
# (W408), and the local AWS would even answer DiscoverInstances for both.
TEXT = (ROOT / "examples" / "admin-allowlist.yaml").read_text() + """environments:
  dev: {}
  staging:
    namespace: {name: raft-admin-staging-ns}
"""


@pytest.fixture(scope="module")
def applied(tmp_path_factory):
    from compiler.localaws.account import localise
    from compiler.terraform.synth import synthesize_stacks

    from .localaws import MotoServer
    root = tmp_path_factory.mktemp("environments")
    moto = MotoServer(root / "moto.log")
    try:
        text = localise(moto, REGION, TEXT)
        stacks, diagnostics = compile_stacks_text(text)
        assert stacks is not None and not diagnostics, render_text(diagnostics)
        synthesize_stacks(stacks, str(root / "cdktf.out"), moto.url, engine="direct")
        env = terraform_env(root)
        terraform = {name: Terraform(root / "cdktf.out" / "stacks" / name, env) for name, _ in stacks}
        with ThreadPoolExecutor(len(terraform)) as pool:  # side by side, at the same time, in one account
            list(pool.map(lambda t: (t.init(), t.apply()), terraform.values()))
        yield moto, terraform
    finally:
        moto.stop()


def test_each_environment_has_its_own_functions_roles_logs_and_groups(applied):
    moto, _ = applied
    functions = {f["FunctionName"] for f in moto.client("lambda", REGION).list_functions()["Functions"]}
    assert functions == {f"raft-admin-{env}-{kind}" for env in ENVIRONMENTS
                         for kind in ("fanout-state", "fanout-log_level", "allowlist-operators_network")}
    groups = {g["logGroupName"] for g in moto.client("logs", REGION).describe_log_groups()["logGroups"]}
    assert groups == {f"/aws/lambda/{f}" for f in functions} | {f"/aws/apigateway/raft-admin/{env}/access"
                                                                 for env in ENVIRONMENTS}
    roles = [r["RoleName"] for r in moto.client("iam", REGION).list_roles()["Roles"] if r["RoleName"].startswith("raft")]
    assert len(roles) == 6 and all(any(r.startswith(f"raft-admin-{env}-") for env in ENVIRONMENTS) for r in roles)
    security_groups = {g["GroupName"] for g in moto.client("ec2", REGION).describe_security_groups()["SecurityGroups"]}
    assert {f"raft-admin-{env}-fanout-{route}" for env in ENVIRONMENTS for route in ("state", "log_level")} \
        <= security_groups


def test_each_api_calls_its_own_functions(applied):
    moto, _ = applied
    agw, lambda_ = moto.client("apigatewayv2", REGION), moto.client("lambda", REGION)
    apis = {a["Tags"]["cloudmap-routes:stack"]: a["ApiId"] for a in agw.get_apis()["Items"]}
    assert sorted(apis) == list(ENVIRONMENTS)
    for env, api_id in apis.items():
        routes = agw.get_routes(ApiId=api_id)["Items"]
        (authorizer_id,) = {r["AuthorizerId"] for r in routes}  # the allow-list guards every route
        authorizer = agw.get_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)
        assert f":function:raft-admin-{env}-allowlist-operators_network/" in authorizer["AuthorizerUri"]
        targets = {agw.get_integration(ApiId=api_id, IntegrationId=r["Target"].split("/")[1])["IntegrationUri"]
                   for r in routes}
        assert {t.split(":function:")[1].split("/")[0] for t in targets if ":function:" in t} == {
            f"raft-admin-{env}-fanout-state", f"raft-admin-{env}-fanout-log_level"}
        policy = json.loads(lambda_.get_policy(FunctionName=f"raft-admin-{env}-allowlist-operators_network")["Policy"])
        assert [s["Sid"] for s in policy["Statement"]] == [f"AllowApiGatewayAuthorizer-{env}-operators_network"]
        assert api_id in json.dumps(policy["Statement"][0]["Condition"])


def test_second_plans_are_empty_and_one_environment_goes_alone(applied):
    moto, terraform = applied
    for stack in terraform.values():
        stack.run("plan", "-input=false", "-detailed-exitcode")  # exit 2 (changes) fails
    destroy(terraform["staging"])
    functions = {f["FunctionName"] for f in moto.client("lambda", REGION).list_functions()["Functions"]}
    assert functions == {"raft-admin-dev-fanout-state", "raft-admin-dev-fanout-log_level",
                         "raft-admin-dev-allowlist-operators_network"}
    terraform["dev"].run("plan", "-input=false", "-detailed-exitcode")
    destroy(terraform["dev"])
    assert moto.client("lambda", REGION).list_functions()["Functions"] == []


def destroy(stack: Terraform) -> None:
    """Without the refresh a destroy starts with: nothing but Terraform changed the stack since its empty plan."""
    stack.run("destroy", "-auto-approve", "-input=false", "-refresh=false")
