"""`import` re-adopts a stack this tool deployed, fan-out routes and allow-list authorizer included.

examples/admin-allowlist.yaml (two fan-out routes, one proxy route, an allow-list authorizer on every route) is
applied with real Terraform on the local AWS; then its state is taken to be lost: `import` reads the API back from
a new folder, writes routes.yaml and the import blocks, and `synth --imports` + `terraform plan` must import every
resource of the stack (39 of them: functions, roles, role policies, policy attachments, log groups, security
groups, egress rules and permissions beside the API's own) and create, replace and destroy nothing. After apply a
second plan has no changes.

The one thing the first plan changes is not the tool's to avoid: hashicorp/aws 5.x does not read `filename`,
`source_code_hash` and `publish` back when it imports an aws_lambda_function (they are arguments only; see
hashicorp/terraform-provider-aws#7385), so each imported function is updated in place once, uploading the same
package (its SHA-256 is the deployed code's). `import` says so in the file's header; this test pins exactly that.
"""

from __future__ import annotations

import json

import pytest

from compiler.terraform.plan import build, terraform_value

from .conftest import ROOT
from .localaws import LocalAccount, LocalStack, MotoServer
from .synthesis import model_of
from .terraform import available, terraform_env
from .test_import import import_and_synth

pytestmark = [pytest.mark.localaws,
              pytest.mark.skipif(not available(), reason="terraform is not on PATH (README: Terraform is required)")]

REGION = "eu-west-1"  # the example's
FUNCTIONS = ("aws_lambda_function.allowlist_operators_network", "aws_lambda_function.fanout_log_level",
             "aws_lambda_function.fanout_state")
# What an imported function's first plan sets: the arguments the provider does not read back, and the time stamp
# any update changes.
NOT_READ_ON_IMPORT = {"filename", "source_code_hash", "publish", "last_modified"}
# The blocks a fan-out route and an allow-list authorizer bring, beside the route's integration and route.
OWN_TYPES = ("aws_lambda_function", "aws_iam_role", "aws_iam_role_policy", "aws_iam_role_policy_attachment",
             "aws_cloudwatch_log_group", "aws_security_group", "aws_vpc_security_group_egress_rule",
             "aws_lambda_permission", "aws_apigatewayv2_authorizer")


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto-import-own") / "server.log")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def deployed(moto, tmp_path_factory):
    """The example, applied as `synth` + `terraform apply` would; returns its localised text and API id."""
    root = tmp_path_factory.mktemp("deployed")
    text = (ROOT / "examples" / "admin-allowlist.yaml").read_text()
    local = LocalStack(root, moto, terraform_env(root), REGION)
    text = LocalAccount.create(moto, REGION, text).localise(text)
    local.synth(text)
    local.terraform.init()
    local.terraform.apply()
    return text, local.api_id(), local


@pytest.fixture(scope="module")
def adopted(deployed, moto, tmp_path_factory):
    """A new folder with no state: import, synth --imports, terraform init and a saved plan."""
    _, api_id, _ = deployed
    root = tmp_path_factory.mktemp("adopted")
    stderr, terraform = import_and_synth(root, moto, api_id, "--region", REGION)
    terraform.run("plan", "-input=false", "-out=tfplan")
    return root, stderr, terraform, terraform.show_plan()


def arguments(block) -> dict:
    """A block's arguments as Terraform reads them; subnet lists sorted (sets to the provider, and the VPC link
    returns them in an order of its own)."""
    value = terraform_value(block.args)
    if "vpc_config" in value:
        value["vpc_config"] = {**value["vpc_config"], "subnet_ids": sorted(value["vpc_config"]["subnet_ids"])}
    return value


def test_the_routes_yaml_gives_back_the_fan_out_and_allow_list_resources_as_deployed(deployed, adopted):
    """Every block a fan-out route or the allow-list brings is planned at the same address with the same
    arguments as from the example itself: options read back from the functions' environments, CIDRs from
    ALLOWED_CIDRS, route ids from the functions' names."""
    text, _, _ = deployed
    root = adopted[0]
    written = (root / "routes.yaml").read_text()
    original, again = build(model_of(text)), build(model_of(written))
    own = {b.address: arguments(b) for b in original.blocks if b.type in OWN_TYPES}
    # 2 fan-outs x 9 (role, policy, attachment, log group, group, 2 rules, function, permission) and the
    # allow-list's 6 (role, policy, log group, function, authorizer, permission), and the access log group
    assert len(own) == 25
    assert {b.address: arguments(b) for b in again.blocks if b.type in OWN_TYPES} == own
    fan_out = {r.id: r.fan_out for r in model_of(written).routes if r.fan_out}
    assert fan_out == {r.id: r.fan_out for r in model_of(text).routes if r.fan_out}
    (authorizer,) = model_of(written).authorizers
    assert (authorizer.type, authorizer.cidrs) == ("allowlist", ("203.0.113.0/24", "198.51.100.7", "2001:db8:4a00::/40"))


def test_every_resource_is_imported_and_nothing_is_created_replaced_or_destroyed(adopted):
    root, stderr, _, plan = adopted
    managed = [b.address for b in build(model_of((root / "routes.yaml").read_text())).blocks if b.mode == "managed"]
    imports = json.loads((root / "routes.imports.tf.json").read_text())["import"]
    assert [i["to"] for i in imports] == managed and len(managed) == 39
    changes = {c["address"]: c["change"] for c in plan["resource_changes"]}
    assert sorted(changes) == sorted(managed)
    assert [a for a, c in changes.items() if "importing" not in c] == []
    acting = {a: c["actions"] for a, c in changes.items() if c["actions"] != ["no-op"]}
    assert acting == {a: ["update"] for a in FUNCTIONS}


def test_the_functions_first_update_only_sets_what_the_provider_does_not_import(adopted):
    root, stderr, _, plan = adopted
    for change in (c["change"] for c in plan["resource_changes"] if c["address"] in FUNCTIONS):
        before, after = change["before"], change["after"]
        differ = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        assert differ <= NOT_READ_ON_IMPORT, differ
        assert after["source_code_hash"] == before["code_sha256"]  # the same package: no code changes
    header = (root / "routes.yaml").read_text().split("version: 1\n")[0]
    for address in FUNCTIONS:
        assert f"{address}: updated in place: the provider does not read filename and source_code_hash" in header
        assert f"{address}: updated in place" in stderr


def test_after_the_apply_a_second_plan_changes_nothing_and_the_code_is_the_same(deployed, adopted):
    text, _, local = deployed
    _, _, terraform, _ = adopted
    client = local.client("lambda")
    code = {f["FunctionName"]: f["CodeSha256"] for f in client.list_functions()["Functions"]}
    assert sorted(code) == sorted(build(model_of(text)).block(a).args["function_name"] for a in FUNCTIONS)
    terraform.run("apply", "-input=false", "tfplan")
    assert terraform.plan_changes() == []
    assert {f["FunctionName"]: f["CodeSha256"] for f in client.list_functions()["Functions"]} == code
