"""The real cdktf CLI (npm cdktf-cli@0.21.0) runs our app through cdktf.json and writes the same bytes."""

from __future__ import annotations

import os
import subprocess

from .conftest import ROOT


def test_cdktf_synth_writes_the_same_json_as_main_py(tmp_path, cdktf_cli):
    assert (ROOT / ".venv" / "bin" / "python").exists(), "cdktf.json runs .venv/bin/python; run `make test`"
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "CI": "1"}
    env.pop("CDKTF_OUTDIR", None)
    cli = subprocess.run([str(cdktf_cli), "synth", "--output", str(tmp_path / "cli.out")], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    wrote = [line for line in (cli.stdout + cli.stderr).splitlines() if "wrote " in line]
    assert wrote and not any("[ERROR]" in line for line in wrote), wrote  # information, not an error
    direct = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "main.py", "synth", "routes.yaml", "--out",
                             str(tmp_path / "direct.out")], cwd=ROOT, env=env, capture_output=True, text=True)
    assert direct.returncode == 0, direct.stderr
    produced = (tmp_path / "cli.out" / "stacks" / "routes" / "cdk.tf.json").read_bytes()
    assert produced == (tmp_path / "direct.out" / "stacks" / "routes" / "cdk.tf.json").read_bytes()
