"""Provider-schema validation: every example's JSON passes `terraform validate` with hashicorp/aws 5.100.0."""

from __future__ import annotations

import pytest

from compiler.terraform.direct import write_direct
from compiler.terraform.plan import build

from .conftest import STACK_IDS, STACKS
from .synthesis import model_of
from .terraform import Terraform, available, terraform_env

pytestmark = [pytest.mark.terraform,
              pytest.mark.skipif(not available(), reason="terraform is not on PATH (README: Terraform is required)")]


@pytest.mark.parametrize("path, environment", STACKS, ids=STACK_IDS)
def test_terraform_validate_accepts_the_synthesized_json(path, environment, tmp_path):
    # The direct engine writes CDKTF's bytes (tests/test_engine_parity.py) without starting jsii.
    write_direct(build(model_of(path.read_text(), environment)), str(tmp_path / "out"), "routes")
    terraform = Terraform(tmp_path / "out" / "stacks" / "routes", terraform_env(tmp_path))
    terraform.init(backend=False)
    result = terraform.run("validate", "-json")
    assert '"valid": true' in result.stdout, result.stdout
    assert '"warning_count": 0' in result.stdout, result.stdout
