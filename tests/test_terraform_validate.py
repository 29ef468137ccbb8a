"""Provider-schema validation: every example's JSON passes `terraform validate` with hashicorp/aws 5.100.0.

All stacks are validated in one Terraform run, each as a module of one configuration (tests/terraform.py,
validate_together): each stack must have no error and no warning of its own, and a stack with a wrong argument, in
the same run, shows that a problem is found and put down to its stack.
"""

from __future__ import annotations

import json
import re

import pytest

from compiler.terraform.direct import write_direct
from compiler.terraform.plan import build

from .conftest import ROOT, STACK_IDS, STACKS
from .synthesis import model_of
from .terraform import validate_together

BROKEN = "broken"  # the bundled example with an argument the provider does not know


def module_name(stack_id: str) -> str:
    return re.sub(r"\W", "_", stack_id)


@pytest.fixture(scope="module")
def diagnostics(tmp_path_factory, tf_env) -> dict:
    root = tmp_path_factory.mktemp("validate")
    modules = {}
    for (path, environment), stack_id in zip(STACKS, STACK_IDS):
        # The direct engine writes CDKTF's bytes (tests/test_engine_parity.py) without starting jsii.
        write_direct(build(model_of(path.read_text(), environment)), str(root / stack_id), "routes")
        modules[module_name(stack_id)] = root / stack_id / "stacks" / "routes"
    write_direct(build(model_of((ROOT / "routes.yaml").read_text())), str(root / BROKEN), "routes")
    broken = root / BROKEN / "stacks" / "routes" / "cdk.tf.json"
    doc = json.loads(broken.read_text())
    doc["resource"]["aws_apigatewayv2_api"]["api"]["no_such_argument"] = "x"
    broken.write_text(json.dumps(doc))
    modules[BROKEN] = broken.parent
    return validate_together(root, tf_env, modules)


@pytest.mark.parametrize("path, environment", STACKS, ids=STACK_IDS)
def test_terraform_validate_accepts_the_synthesized_json(path, environment, diagnostics):
    stack_id = STACK_IDS[STACKS.index((path, environment))]
    assert diagnostics[None] == []
    assert diagnostics[module_name(stack_id)] == []  # no error, no warning


def test_a_wrong_argument_is_found_and_put_down_to_its_stack(diagnostics):
    [problem] = diagnostics[BROKEN]
    assert problem["severity"] == "error" and problem["summary"] == "Extraneous JSON object property", problem
    assert "no_such_argument" in problem["detail"]
