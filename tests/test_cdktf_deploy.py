"""The cdktf CLI path end to end, against the local AWS: `cdktf diff <env>`, `cdktf deploy <env>` and
`cdktf destroy <env>` in a project whose app is this checkout's main.py with --engine cdktf (as the app `init`
writes asks for it), with examples/environments.yaml localised as `local up` does it: each environment is a stack.
"""

from __future__ import annotations

import json
import pathlib
import re
import shlex
import subprocess
import sys

from compiler.localaws.account import localise

from .conftest import ROOT
from .localaws import MotoServer
from .terraform import terraform_env

ANSI = re.compile(r"\x1b\[[0-9;]*m")
CDKTF = ROOT / ".cdktf-cli" / "node_modules" / ".bin" / "cdktf"


def prepare(work: pathlib.Path, moto: MotoServer, text: str) -> dict[str, str]:
    """Make `work` a cdktf project that deploys `text` into `moto`; return the environment to run cdktf with."""
    (work / "routes.yaml").write_text(localise(moto, "eu-west-1", text))
    app = f"{shlex.quote(sys.executable)} {shlex.quote(str(ROOT / 'main.py'))} synth routes.yaml --engine cdktf"
    (work / "cdktf.json").write_text(json.dumps({
        "language": "python", "app": app, "projectId": "cloudmap-routes-local", "sendCrashReports": "false",
        "terraformProviders": [], "terraformModules": [], "codeMakerOutput": "imports", "context": {}}, indent=2) + "\n")
    return {**terraform_env(work), "PYTHONPATH": str(ROOT),
            "CLOUDMAP_ROUTES_LOCAL_AWS": moto.url,  # synth: every AWS endpoint of the provider at the local AWS
            "CDKTF_SKIP_PROVIDER_LOCK": "true",  # cdktf: no `terraform providers lock` (it asks the registry)
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CI": "1"}  # no Node banner, no interactive UI


def cdktf(env: dict[str, str], work: pathlib.Path, *args: str, capture: bool = False,
          timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(CDKTF), *args], cwd=work, env=env, text=True, timeout=timeout,
                          capture_output=capture, stdin=subprocess.DEVNULL)


def run(env, work, *args: str) -> str:
    result = cdktf(env, work, *args, capture=True)
    output = ANSI.sub("", result.stdout + result.stderr)
    assert result.returncode == 0, output[-6000:]
    assert "[ERROR]" not in output, output[-6000:]  # informational lines are not shown as errors
    return output


def test_cdktf_diff_deploy_and_destroy_one_environment(tmp_path, cdktf_cli, moto, tf_env):
    env = prepare(tmp_path, moto, (ROOT / "examples" / "environments.yaml").read_text())
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
