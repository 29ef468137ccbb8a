"""examples/ecs/: the Terraform root an ECS user writes next to the stack, fed by its `service_<key>_registry`
output. `terraform validate` accepts it; on the local AWS it applies after the routes stack, and the ECS service
ECS would register the tasks of names the stack's Cloud Map service, container and port."""

from __future__ import annotations

import json
import pathlib
import shutil

import pytest

from compiler.terraform.plan import build

from .conftest import ROOT
from .synthesis import model_of
from .terraform import Terraform, available, terraform_env

ROUTES = ROOT / "examples" / "ecs.yaml"
ROOT_MODULE = ROOT / "examples" / "ecs"
needs_terraform = pytest.mark.skipif(not available(), reason="terraform is not on PATH (README: Terraform is required)")


def copy_root(tmp_path: pathlib.Path) -> pathlib.Path:
    """The example root as a user has it: examples/ecs/ two levels below the directory synth runs in."""
    target = tmp_path / "examples" / "ecs"
    target.mkdir(parents=True)
    for path in ROOT_MODULE.glob("*.tf"):
        shutil.copy(path, target)
    return target


def test_the_stack_gives_the_ecs_root_the_output_it_reads():
    plan = build(model_of(ROUTES.read_text()))
    output = next(o for o in plan.outputs if o.name == "service_raft_registry")
    assert set(output.value) == {"registry_arn", "container_name", "container_port"}
    assert (output.value["container_name"], output.value["container_port"]) == ("raft", 8080)
    text = (ROOT_MODULE / "main.tf").read_text()
    assert "outputs.service_raft_registry" in text
    for key in output.value:
        assert f"local.registry.{key}" in text


@pytest.mark.terraform
@needs_terraform
def test_terraform_validate_accepts_the_ecs_root(tmp_path):
    terraform = Terraform(copy_root(tmp_path), terraform_env(tmp_path))
    terraform.init(backend=False)
    result = terraform.run("validate", "-json")
    assert '"valid": true' in result.stdout and '"warning_count": 0' in result.stdout, result.stdout


@pytest.mark.localaws
@pytest.mark.terraform  # it runs terraform (the guard in tests/conftest.py stubs it for unmarked tests)
@needs_terraform
def test_the_ecs_root_applies_on_the_local_aws_with_the_stacks_registry(tmp_path):
    from .localaws import LocalAccount, LocalStack, MotoServer

    moto = MotoServer(tmp_path / "moto.log")
    try:
        text = ROUTES.read_text()
        region = model_of(text).region
        stack = LocalStack(tmp_path, moto, terraform_env(tmp_path), region)
        account = LocalAccount.create(moto, region, text)
        stack.synth(account.localise(text))
        stack.terraform.init()
        stack.terraform.apply()
        registry = stack.terraform.outputs()["service_raft_registry"]

        ecs_root = copy_root(tmp_path)
        # A Terraform override file: the example's provider, pointed at the local AWS (nothing else changes).
        (ecs_root / "local_override.tf.json").write_text(json.dumps({"provider": {"aws": {
            "access_key": "test", "secret_key": "test", "skip_credentials_validation": True,
            "skip_requesting_account_id": True, "skip_metadata_api_check": "true",
            "endpoints": [{"ecs": moto.url, "sts": moto.url}]}}}))
        ecs = Terraform(ecs_root, stack.terraform.env)
        ecs.init()
        subnets = account.replacements["subnet-0a1b2c3d4e5f60718"]
        group = account.replacements["sg-0c3d4e5f607182930"]
        ecs.run("apply", "-auto-approve", "-input=false", f'-var=subnet_ids=["{subnets}"]',
                f'-var=security_group_ids=["{group}"]')
        service = moto.client("ecs", region).describe_services(cluster="raft", services=["raft"])["services"][0]
        assert service["serviceRegistries"] == [{"registryArn": registry["registry_arn"], "containerName": "raft",
                                                 "containerPort": 8080}]
        ecs.run("destroy", "-auto-approve", "-input=false", f'-var=subnet_ids=["{subnets}"]',
                f'-var=security_group_ids=["{group}"]')
        stack.terraform.destroy()
    finally:
        moto.stop()
