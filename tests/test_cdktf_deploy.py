"""The cdktf CLI path end to end, against the local AWS: `cdktf diff <env>`, `cdktf deploy <env>` and
`cdktf destroy <env>` in a project whose app is this checkout's main.py, set up the way `make deploy-local` sets it
up (tests/deploy_local.py), with examples/environments.yaml: each environment is a stack.
"""

from __future__ import annotations

import re

from .conftest import ROOT
from .deploy_local import cdktf, prepare

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run(env, work, *args: str) -> str:
    result = cdktf(env, work, *args, capture=True)
    output = ANSI.sub("", result.stdout + result.stderr)
    assert result.returncode == 0, output[-6000:]
    assert "[ERROR]" not in output, output[-6000:]  # informational lines are not shown as errors
    return output


def test_cdktf_diff_deploy_and_destroy_one_environment(tmp_path, cdktf_cli, moto, tf_env):
    env = prepare(tmp_path, moto, (ROOT / "examples" / "environments.yaml").read_text(), "dev")
    agw = moto.client("apigatewayv2", "eu-west-1")

    diff = run(env, tmp_path, "diff", "dev")
    assert f"wrote {tmp_path}/cdktf.out/stacks/dev/cdk.tf.json" in diff  # the app synthesizes every stack
    assert f"wrote {tmp_path}/cdktf.out/stacks/prod/cdk.tf.json" in diff
    assert re.search(r"Plan: \d+ to add, 0 to change, 0 to destroy", diff), diff[-3000:]
    assert agw.get_apis()["Items"] == []

    deploy = run(env, tmp_path, "deploy", "dev", "--auto-approve")
    assert "Apply complete!" in deploy
    [api] = agw.get_apis()["Items"]
    assert api["Tags"]["cloudmap-routes:stack"] == "dev"
    assert (tmp_path / "terraform.dev.tfstate").exists()  # local state per environment, beside the project
    assert sorted(p.name for p in (tmp_path / "cdktf.out" / "stacks").iterdir()) == ["dev", "prod", "staging"]

    destroy = run(env, tmp_path, "destroy", "dev", "--auto-approve")
    assert "Destroy complete!" in destroy
    assert agw.get_apis()["Items"] == [] and agw.get_vpc_links()["Items"] == []
