"""Environments: one routes.yaml, one stack per environment (examples/environments.yaml).

The merge (JSON Merge Patch over the document, positions kept), diagnostics located at the override and reported
once, names that carry the environment, the provider's account guard and credentials, synth of every stack or of
one (the others left in place, Terraform's files and all), and two environments of one account applied side by side
on the local AWS.
"""

from __future__ import annotations

import json
import pathlib
from concurrent.futures import ThreadPoolExecutor

import pytest

from compiler.core.diagnostics import render_text
from compiler.language import compile_file, compile_stacks, compile_stacks_text, compile_text
from compiler.terraform.direct import write_direct_stacks
from compiler.terraform.plan import build
from compiler.terraform.synth import synth_plans

from .conftest import ROOT
from .helpers import run_main

EXAMPLE = ROOT / "examples" / "environments.yaml"
TEXT = EXAMPLE.read_text()
BASE = """version: 1
region: eu-west-1
api:
  name: t
  tags: {team: platform, owner: ops}
vpc_link:
  subnet_ids: [subnet-0a1b2c3d4e5f60718]
  security_group_ids: [sg-0c3d4e5f607182930]
namespace: {type: http, name: t-ns}
services:
  app: {health_check: custom, description: shared}
environments:
"""
ROUTES = """routes:
  - {route: GET /, service: app, public: true}
"""


def stacks_of(text: str, **kwargs):
    stacks, diagnostics = compile_stacks_text(text, **kwargs)
    assert stacks is not None, render_text(diagnostics)
    return dict(stacks)


def rendered(text: str, **kwargs) -> list[str]:
    return [d.render() for d in compile_stacks_text(text, **kwargs)[1]]


# --- the merge ---------------------------------------------------------------------------------------------

def test_each_environment_is_the_document_with_its_overrides_merged_in():
    models = stacks_of(BASE + """  dev:
  prod:
    region: eu-central-1
    api:
      tags: {owner: null, tier: gold}
    vpc_link:
      subnet_ids: [subnet-0b2c3d4e5f6071829, subnet-0c2c3d4e5f6071829]
    services:
      app: {description: prod}
""" + ROUTES)
    assert list(models) == ["dev", "prod"]
    dev, prod = models["dev"], models["prod"]
    assert (dev.region, prod.region) == ("eu-west-1", "eu-central-1")
    assert dev.api.tags == (("owner", "ops"), ("team", "platform"))
    assert prod.api.tags == (("team", "platform"), ("tier", "gold"))  # merged key by key; null removes one
    assert prod.vpc_link.subnet_ids == ("subnet-0b2c3d4e5f6071829", "subnet-0c2c3d4e5f6071829")  # lists replace
    assert prod.vpc_link.security_group_ids == dev.vpc_link.security_group_ids
    assert (dev.service("app").description, prod.service("app").description) == ("shared", "prod")
    assert prod.service("app").health_check == "custom"
    assert prod.routes == dev.routes  # routes are written once


def test_the_example_gives_each_environment_what_it_overrides():
    models = stacks_of(TEXT)
    dev, staging, prod = models["dev"], models["staging"], models["prod"]
    assert dev.provider.profile == staging.provider.profile == "dev"
    assert prod.provider.profile is None and prod.provider.assume_role.role_arn.endswith(":role/raft-api-deploy")
    assert prod.provider.allowed_account_ids == ("222222222222",)
    assert (dev.state, prod.state) == (None, "s3://acme-terraform-state/raft-api/prod.tfstate")
    assert staging.namespace.vpc_id != dev.namespace.vpc_id and staging.namespace.name == dev.namespace.name
    assert prod.api.custom_domain.domain_name == "raft.example.com" and dev.api.custom_domain is None
    assert prod.authorizers[0].issuer.endswith("eu-central-1_PRODPOOL") and prod.authorizers[0].audiences == ("raft-admin",)


def test_names_unique_per_account_carry_the_environment():
    models = stacks_of(TEXT)
    for name in ("dev", "staging"):
        plan = build(models[name], stack=name)
        assert plan.block("aws_cloudwatch_log_group.access_logs").args["name"] == f"/aws/apigateway/raft-api/{name}/access"
        assert plan.block("aws_apigatewayv2_vpc_link.vpc_link").args["name"] == f"raft-api-{name}"
        assert plan.block("aws_apigatewayv2_api.api").args["tags"]["cloudmap-routes:stack"] == name
        assert plan.backend.config == {"path": f"../../../terraform.{name}.tfstate"}
    prod = build(models["prod"], stack="prod")
    assert prod.backend.type == "s3" and prod.backend.config["key"] == "raft-api/prod.tfstate"
    assert prod.backend.config["region"] == "eu-central-1"


def test_a_file_without_environments_keeps_its_names():
    [(name, model)] = stacks_of(BASE.replace("environments:\n", "") + ROUTES).items()
    assert name is None and model.environment is None
    plan = build(model)
    assert plan.block("aws_apigatewayv2_vpc_link.vpc_link").args["name"] == "t"
    assert plan.block("aws_cloudwatch_log_group.access_logs").args["name"] == "/aws/apigateway/t/access"
    assert plan.block("aws_apigatewayv2_api.api").args["tags"]["cloudmap-routes:stack"] == "routes"


def test_the_provider_guard_and_credentials():
    models = stacks_of(TEXT)
    assert build(models["dev"]).aws_provider.args == {"region": "eu-west-1", "allowed_account_ids": ["111111111111"],
                                                       "profile": "dev"}
    assert build(models["prod"]).aws_provider.args == {
        "region": "eu-central-1", "allowed_account_ids": ["222222222222"],
        "assume_role": [{"role_arn": "arn:aws:iam::222222222222:role/raft-api-deploy",
                         "session_name": "cloudmap-routes", "external_id": "raft-api-prod"}]}
    local = build(models["prod"], local_endpoint="http://127.0.0.1:4566").aws_provider.args
    # Local mode: test credentials instead of a profile or a role; the guard stays, so the provider asks who it is.
    assert "profile" not in local and "assume_role" not in local and "skip_requesting_account_id" not in local
    assert local["allowed_account_ids"] == ["222222222222"] and local["access_key"] == "test"


# --- diagnostics -----------------------------------------------------------------------------------------------

BROKEN = BASE.replace("  name: t\n", "  name: t\n  stagee: x\n") + """  dev:
    vpc_link:
      subnet_ids: [subnet-XYZ]
  staging:
    routes: []
    servics: {}
    api:
      name: null
      throttling: {burst_limit: 50000, rate_limit: 1}
  prod:
    services:
      ap: {description: x}
  9bad: {}
""" + ROUTES


def test_each_problem_is_reported_once_at_the_override_and_named_by_its_environments():
    assert rendered(BROKEN) == [
        "routes.yaml:5:3: error E200: unknown key 'stagee' in api\n  hint: did you mean 'stage'?",  # shared: once
        "routes.yaml:16:20: error E204: environment dev: vpc_link.subnet_ids[0] 'subnet-XYZ' is not valid\n"
        "  hint: for example subnet-0123456789abcdef0",
        "routes.yaml:18:5: error E200: unknown key 'routes' in environment staging: routes is shared by every "
        "environment\n  hint: an environment overrides region, provider, api, vpc_link, namespace, services, "
        "authorizers and sets state",
        "routes.yaml:19:5: error E200: unknown key 'servics' in environment staging\n  hint: did you mean 'services'?",
        "routes.yaml:21:7: error E310: environment staging: null removes api.name, which every environment needs\n"
        "  hint: give it a value instead of null",
        "routes.yaml:22:33: error E205: environment staging: api.throttling.burst_limit is 50000; it must be between "
        "0 and 5000",
        "routes.yaml:25:7: error E302: environment prod overrides service 'ap', which is not declared under "
        "services\n  hint: did you mean 'app'?",
        "routes.yaml:26:3: error E204: environment name '9bad' is not valid\n  hint: 1-64 letters, digits, '-' or "
        "'_', starting with a letter: it names the stack directory (cdktf.out/stacks/<name>) and the state file",
    ]


def test_the_loc_of_a_problem_in_an_override_names_the_override():
    _, diagnostics = compile_stacks_text(BROKEN)
    assert {d.loc for d in diagnostics if d.code in ("E204", "E205")} >= {
        "environments.dev.vpc_link.subnet_ids[0]", "environments.staging.api.throttling.burst_limit"}


def test_a_problem_some_environments_share_is_reported_once_naming_them():
    text = BASE + ("  a:\n    namespace: {type: private_dns}\n  b:\n    namespace: {type: private_dns}\n  c:\n"
                   + ROUTES)
    assert rendered(text) == [
        "routes.yaml:9:12: error E202: environments a, b: a private_dns namespace needs vpc_id\n"
        "  hint: vpc_id: vpc-0123456789abcdef0",
        "routes.yaml:11:3: error E306: environments a, b: a service in a private_dns namespace needs dns_records\n"
        "  hint: dns_records: [{type: SRV, ttl: 10}]"]


def test_one_environment_can_be_chosen_and_an_unknown_one_is_refused():
    models, _ = compile_stacks(str(EXAMPLE), ["prod"])
    assert [name for name, _ in models] == ["prod"]
    _, diagnostics = compile_stacks(str(EXAMPLE), ["prd"])
    assert [d.render() for d in diagnostics] == [
        f"{EXAMPLE}:{TEXT.splitlines().index('environments:') + 1}:1: error E315: environment prd is not declared "
        "under environments\n  hint: did you mean 'prod'?"]
    model, diagnostics = compile_file(str(EXAMPLE))  # a command that reads one model must be told which
    assert model is None and [d.code for d in diagnostics] == ["E315"]
    assert "--env dev" in diagnostics[0].hint
    model, diagnostics = compile_text((ROOT / "examples" / "secure.yaml").read_text(), environment="prod")
    assert model is None and [d.code for d in diagnostics] == ["E315"]


def test_a_default_vpc_link_name_too_long_with_the_environment_is_refused():
    text = BASE.replace("  name: t\n", "  name: " + "a" * 125 + "\n") + "  prod:\n" + ROUTES
    assert [d.message for d in compile_stacks_text(text)[1] if d.code == "E204"] == [
        f"the VPC link would be named {('a' * 125 + '-prod')[:40]!r}... (130 bytes); AWS allows 128"]


# --- synth: every stack, or one, never removing the others ---------------------------------------------------------

def test_synth_writes_every_environment_and_one_leaves_the_others_in_place(tmp_path):
    out = tmp_path / "cdktf.out"
    result = run_main("synth", str(EXAMPLE), "--out", str(out), "--engine", "direct")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [f"wrote {out}/stacks/{name}/cdk.tf.json" for name in ("dev", "staging", "prod")]
    manifest = (out / "manifest.json").read_bytes()
    provider = out / "stacks" / "dev" / ".terraform" / "providers" / "aws"
    provider.parent.mkdir(parents=True)
    provider.write_text("provider binary")
    (out / "stacks" / "dev" / "terraform.tfstate").write_text("state")
    dev = (out / "stacks" / "dev" / "cdk.tf.json").read_bytes()
    inode = provider.stat().st_ino

    result = run_main("synth", str(EXAMPLE), "--out", str(out), "--env", "prod", "--engine", "cdktf")  # one stack
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"wrote {out}/stacks/prod/cdk.tf.json\n"
    assert sorted(p.name for p in (out / "stacks").iterdir()) == ["dev", "prod", "staging"]
    assert (out / "stacks" / "dev" / "cdk.tf.json").read_bytes() == dev
    assert provider.stat().st_ino == inode and (out / "stacks" / "dev" / "terraform.tfstate").read_text() == "state"
    assert (out / "manifest.json").read_bytes() == manifest  # still lists every stack


def test_synth_of_a_file_without_environments_leaves_other_stacks_too(tmp_path):
    out = tmp_path / "out"
    for stack in ("dev", "prod"):
        assert run_main("synth", "examples/secure.yaml", "--out", str(out), "--stack", stack, "--engine",
                        "direct").returncode == 0
    assert sorted(p.name for p in (out / "stacks").iterdir()) == ["dev", "prod"]
    assert sorted(json.loads((out / "manifest.json").read_text())["stacks"]) == ["dev", "prod"]


@pytest.mark.parametrize("args, expected", [
    (["--stack", "x"], "--stack x: examples/environments.yaml declares environments (dev, staging, prod)"),
    (["--state", "s3://bucket-a/k.tfstate"], "--state names one state file, and examples/environments.yaml has 3 "
                                             "environments (dev, staging, prod)"),
])
def test_synth_refuses_options_that_name_one_stack_for_several(args, expected, tmp_path):
    result = run_main("synth", "examples/environments.yaml", "--out", str(tmp_path / "out"), "--engine", "direct", *args)
    assert result.returncode == 2
    assert result.stderr.startswith(f"main.py: error: {expected}")
    assert not (tmp_path / "out").exists()


def test_informational_lines_go_to_stdout_when_the_cdktf_cli_runs_us(tmp_path):
    result = run_main("synth", "examples/environments.yaml", "--env", "dev", "--out", str(tmp_path / "o"), "--engine",
                      "direct", env={"CDKTF_CONTEXT_JSON": "{}"})
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == f"wrote {tmp_path}/o/stacks/dev/cdk.tf.json\n"


def test_check_names_the_environments():
    result = run_main("check", "examples/environments.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stderr.endswith("; environment(s) dev, staging, prod)\n")


def test_diff_compares_one_environment(tmp_path):
    head = tmp_path / "head.yaml"
    head.write_text(TEXT.replace("        burst_limit: 500\n", "        burst_limit: 600\n"))  # prod's throttling
    prod = run_main("diff", str(EXAMPLE), str(head), "--env", "prod")
    dev = run_main("diff", str(EXAMPLE), str(head), "--env", "dev")
    assert prod.returncode == dev.returncode == 0, prod.stderr + dev.stderr
    assert "0 to create, 1 to update, 0 to replace, 0 to delete" in prod.stdout
    assert "no route or resource changes" in dev.stdout
    unnamed = run_main("diff", str(EXAMPLE), str(head))
    assert unnamed.returncode == 1 and "E315" in unnamed.stderr and "--env dev" in unnamed.stderr


def test_cdktf_writes_one_app_of_several_stacks_as_the_direct_engine_does(tmp_path):
    plans = [(name, build(model, stack=name)) for name, model in stacks_of(TEXT).items()]
    synth_plans(plans, str(tmp_path / "cdktf"))
    write_direct_stacks(plans, str(tmp_path / "direct"))
    files = {p.relative_to(tmp_path / "cdktf"): p.read_bytes() for p in (tmp_path / "cdktf").rglob("*") if p.is_file()}
    assert files and files == {p.relative_to(tmp_path / "direct"): p.read_bytes()
                               for p in (tmp_path / "direct").rglob("*") if p.is_file()}


# --- two environments of one account, side by side on the local AWS ----------------------------------------------

def test_two_environments_in_one_account_apply_side_by_side(tmp_path, moto, tf_env):
    from compiler.localaws.account import localise
    from compiler.terraform.synth import synthesize_stacks

    from .terraform import Terraform
    text = localise(moto, "eu-west-1", TEXT)
    models = stacks_of(text, environments=["dev", "staging"])
    synthesize_stacks(list(models.items()), str(tmp_path / "cdktf.out"), moto.url, engine="direct")
    stacks = {name: Terraform(tmp_path / "cdktf.out" / "stacks" / name, tf_env) for name in models}
    with ThreadPoolExecutor(2) as pool:  # side by side, at the same time
        list(pool.map(lambda terraform: (terraform.init(), terraform.apply()), stacks.values()))
    agw, logs = moto.client("apigatewayv2", "eu-west-1"), moto.client("logs", "eu-west-1")
    sd = moto.client("servicediscovery", "eu-west-1")
    apis = agw.get_apis()["Items"]
    assert sorted(a["Tags"]["cloudmap-routes:stack"] for a in apis) == ["dev", "staging"]
    assert {a["Name"] for a in apis} == {"raft-api"}
    assert sorted(g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]) == [
        "/aws/apigateway/raft-api/dev/access", "/aws/apigateway/raft-api/staging/access"]
    assert sorted(v["Name"] for v in agw.get_vpc_links()["Items"]) == ["raft-api-dev", "raft-api-staging"]
    assert [n["Name"] for n in sd.list_namespaces()["Namespaces"]] == ["raft.internal"] * 2
    assert sorted(pathlib.Path(tmp_path).glob("terraform.*.tfstate")) == [tmp_path / "terraform.dev.tfstate",
                                                                          tmp_path / "terraform.staging.tfstate"]
    (tmp_path / "routes.yaml").write_text(text)
    for name in models:  # `status --env` finds each environment's API by the stack tag
        result = run_main("status", str(tmp_path / "routes.yaml"), "--env", name, "--local-aws", moto.url,
                          "--format", "json")
        assert result.returncode == 1, result.stderr  # deployed as declared, but no instance registered yet
        assert json.loads(result.stdout)["api_id"] == next(
            a["ApiId"] for a in apis if a["Tags"]["cloudmap-routes:stack"] == name)

    # The account guard holds: the local AWS is account 123456789012, not 111111111111.
    guarded = stacks_of(text.replace('allowed_account_ids: ["123456789012"]',
                                     'allowed_account_ids: ["111111111111"]'), environments=["dev"])
    synthesize_stacks(list(guarded.items()), str(tmp_path / "cdktf.out"), moto.url, engine="direct")
    refused = stacks["dev"].run("plan", "-input=false", ok=(1,))
    assert "AWS account ID not allowed: 123456789012" in refused.stderr
    synthesize_stacks(list(models.items())[:1], str(tmp_path / "cdktf.out"), moto.url, engine="direct")

    stacks["staging"].destroy()
    assert [a["Tags"]["cloudmap-routes:stack"] for a in agw.get_apis()["Items"]] == ["dev"]
    assert [v["Name"] for v in agw.get_vpc_links()["Items"]] == ["raft-api-dev"]
    assert len(sd.list_namespaces()["Namespaces"]) == 1
