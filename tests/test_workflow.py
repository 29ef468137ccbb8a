"""The example PR workflow parses, and the commands it runs exist; the ones that can run here do, for real."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys

import yaml

from compiler.cli import parser as _parser

from .conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "routes-review.yml"
# What GitHub substitutes for the expressions the workflow uses, for running its commands here.
EXPRESSIONS = {"vars.STATE_BUCKET": "state-bucket", "github.base_ref": "main",
               "github.event.pull_request.number": "1", "github.token": "t", "vars.PLAN_ROLE_ARN": "r"}


def _steps() -> list[dict]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert workflow[True]["pull_request"]["paths"] == ["routes.yaml"]  # YAML 1.1 reads the key `on` as True
    return workflow["jobs"]["review"]["steps"]


def _commands() -> list[list[str]]:
    commands = []
    for step in _steps():
        for line in step.get("run", "").splitlines():
            line = re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: EXPRESSIONS[m.group(1)], line)
            line = line.split(" > ")[0].split(" >> ")[0].split(" || ")[0]
            if line.strip():
                commands.append(shlex.split(line))
    return commands


def test_every_make_target_the_workflow_runs_exists():
    targets = [c[1] for c in _commands() if c[0] == "make"]
    assert targets == ["check"]
    for target in targets:
        assert subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True).returncode == 0


def test_every_main_py_command_the_workflow_runs_parses():
    calls = [c[2:] for c in _commands() if c[:2] == [".venv/bin/python", "main.py"]]
    assert [c[0] for c in calls] == ["synth", "diff", "summarize-plan"]
    for call in calls:
        _parser().parse_args(call)  # exits (SystemExit) on an unknown subcommand or option


def test_every_terraform_subcommand_the_workflow_runs_exists(tf_env):
    subcommands = [c[1] for c in _commands() if c[0] == "terraform"]
    assert subcommands == ["init", "plan", "show"]
    for sub in subcommands:
        assert subprocess.run(["terraform", sub, "-help"], capture_output=True, env=tf_env).returncode == 0


def test_workflow_check_synth_and_diff_steps_run_here(tmp_path):
    """Run the steps that need no AWS in a clone whose base branch has an older routes.yaml."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(".venv*", ".cdktf-cli", "cdktf.out", ".git", "*.tfstate"))
    git = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True)  # noqa: E731
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("-c", "user.email=t@example.invalid", "-c", "user.name=t", "commit", "-qm", "base")
    git("update-ref", "refs/remotes/origin/main", "HEAD")
    text = (repo / "routes.yaml").read_text().replace('leader: "false"', 'leader: "no"')
    (repo / "routes.yaml").write_text(text)
    python = sys.executable
    for command in _commands():
        if command[:2] == [".venv/bin/python", "main.py"] and command[2] in ("synth", "diff"):
            result = subprocess.run([python, *command[1:]], cwd=repo, capture_output=True, text=True,
                                    env={"PATH": "/usr/bin:/bin:/usr/local/bin", "PYTHONPATH": str(repo),
                                         "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"})
            assert result.returncode == 0, result.stderr
            if command[2] == "diff":
                # The comment is Markdown with every punctuation character of user text escaped.
                assert "filter: leader=false -> leader=no" in re.sub(r"\\(.)", r"\1", result.stdout)
        elif command[:2] == ["make", "check"]:
            result = subprocess.run([python, "main.py", "check", "routes.yaml"], cwd=repo, capture_output=True, text=True)
            assert result.returncode == 0, result.stderr
    backend = (repo / "cdktf.out" / "stacks" / "routes" / "cdk.tf.json").read_text()
    assert '"bucket": "state-bucket"' in backend and '"use_lockfile": true' in backend
