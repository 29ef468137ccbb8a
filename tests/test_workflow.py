"""The PR review: the example workflow uses the composite action (action.yml), and the action's steps, which are
scripts in action/, run here with the same commands: `cloudmap-routes` (the console script's entry point), real
git, real jq, real terraform against the local AWS for the plan, and a fake `gh` on PATH that records every call
and answers from canned pages. Nothing reaches a network."""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import stat
import subprocess
import sys

import pytest
import yaml

from .conftest import ROOT
from .helpers import GIT_USER, PATH_ENV, git

WORKFLOW = ROOT / ".github" / "workflows" / "routes-review.yml"
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
SCRIPTS = ROOT / "action"
needs_jq = pytest.mark.skipif(shutil.which("jq") is None, reason="the fake gh filters with jq (gh's --jq)")


# --- the files -----------------------------------------------------------------------------------------------------

def test_the_workflow_uses_the_action_with_inputs_it_declares():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert workflow[True]["pull_request"]["paths"] == ["routes.yaml"]  # YAML 1.1 reads the key `on` as True
    assert workflow["permissions"]["pull-requests"] == "write"
    [step] = [s for s in workflow["jobs"]["review"]["steps"] if s.get("uses") == "./"]
    assert set(step["with"]) <= set(ACTION["inputs"])
    checkout = workflow["jobs"]["review"]["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == 0


def test_every_step_of_the_action_runs_a_script_and_no_input_is_spliced_into_a_script():
    assert ACTION["runs"]["using"] == "composite"
    for step in ACTION["runs"]["steps"]:
        assert step["shell"] == "bash"
        assert "${{ inputs." not in step["run"]  # inputs travel as environment variables
        named = re.findall(r"\$GITHUB_ACTION_PATH/(action/[\w.-]+)", step["run"])
        for script in named:
            assert os.access(ROOT / script, os.X_OK), script
    used = set(re.findall(r"inputs\.([\w-]+)", (ROOT / "action.yml").read_text()))
    assert used == set(ACTION["inputs"])  # every input is used, and only declared ones


# --- running the scripts -------------------------------------------------------------------------------------------

def tools(tmp_path: pathlib.Path) -> pathlib.Path:
    """A bin folder: `cloudmap-routes` (the console script's entry point, from this checkout) and a fake `gh`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script(bin_dir / "cloudmap-routes", f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(ROOT)!r})\n"
                                        "from compiler.cli import console_main\nsys.exit(console_main())\n")
    script(bin_dir / "gh", f"#!{sys.executable}\n" + FAKE_GH)
    return bin_dir


def script(path: pathlib.Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


# `gh api [--paginate] [--method M] ENDPOINT [-F body=@FILE] [--jq EXPR]`: appends {argv, body} to $FAKE_GH_LOG;
# a GET answers $FAKE_GH_PAGES (a JSON list of pages), each page through `jq -r EXPR` as gh's --jq does.
FAKE_GH = r'''
import json, os, subprocess, sys
args = sys.argv[1:]
assert args[0] == "api", args
body = None
if "-F" in args:
    field = args[args.index("-F") + 1]
    assert field.startswith("body=@"), field
    body = open(field[len("body=@"):]).read()
with open(os.environ["FAKE_GH_LOG"], "a") as log:
    log.write(json.dumps({"argv": args, "body": body}) + "\n")
expr = args[args.index("--jq") + 1] if "--jq" in args else "."
method = args[args.index("--method") + 1] if "--method" in args else "GET"
pages = json.loads(os.environ.get("FAKE_GH_PAGES", "[[]]")) if method == "GET" else [{"html_url": "https://x/1"}]
for page in pages:
    sys.stdout.write(subprocess.run(["jq", "-r", expr], input=json.dumps(page), capture_output=True, text=True,
                                    check=True).stdout)
'''


def repo_with_change(tmp_path: pathlib.Path, head: str | None = None, base: str | None = None) -> pathlib.Path:
    """A clone whose origin/main has routes.yaml `base` (the bundled one) and whose work tree has `head`."""
    text = (ROOT / "routes.yaml").read_text()
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    if base is not False:
        (repo / "routes.yaml").write_text(base or text)
        git(repo, "add", "-A")
    git(repo, *GIT_USER, "commit", "-qm", "base", "--allow-empty")
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    (repo / "routes.yaml").write_text(head if head is not None else text.replace('leader: "false"', 'leader: "no"'))
    return repo


def run_script(name: str, cwd: pathlib.Path, tmp_path: pathlib.Path, **env: str) -> subprocess.CompletedProcess:
    runner = tmp_path / "runner"
    runner.mkdir(exist_ok=True)
    base = {"PATH": f"{tools(tmp_path) if not (tmp_path / 'bin').exists() else tmp_path / 'bin'}:{PATH_ENV}",
            "HOME": str(tmp_path), "RUNNER_TEMP": str(runner), "GITHUB_BASE_REF": "main",
            "GITHUB_OUTPUT": str(runner / "output"), "GITHUB_STEP_SUMMARY": str(runner / "step-summary"),
            "GITHUB_REPOSITORY": "my-org/my-api", "FAKE_GH_LOG": str(tmp_path / "gh.log"),
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    return subprocess.run([str(SCRIPTS / name)], cwd=cwd, env={**base, **env}, capture_output=True, text=True,
                          timeout=900)


def outputs(tmp_path: pathlib.Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in (tmp_path / "runner" / "output").read_text().splitlines())


def plain(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)  # the summary escapes every punctuation character of user text


def test_review_checks_and_diffs_against_the_base_branch(tmp_path):
    repo = repo_with_change(tmp_path)
    result = run_script("review.sh", repo, tmp_path, CMR_PLAN="false", CMR_STRICT="true")
    assert result.returncode == 0, result.stderr
    out = outputs(tmp_path)
    assert out["failed"] == "false"
    summary = pathlib.Path(out["summary"]).read_text()
    assert summary.startswith("## cloudmap-routes review of `routes.yaml`\n")
    assert "filter: leader=false -> leader=no" in plain(summary)
    assert (tmp_path / "runner" / "step-summary").read_text() == summary
    assert "routes.yaml: ok (4 route(s), 1 service(s))" in result.stderr  # check's own report, in the log


def test_with_strict_a_warning_fails_the_review_and_the_summary_shows_it_fenced(tmp_path):
    head = (ROOT / "routes.yaml").read_text().replace("    health_check: custom", "")  # W402
    repo = repo_with_change(tmp_path, head=head)
    lenient = run_script("review.sh", repo, tmp_path, CMR_PLAN="false")
    assert lenient.returncode == 0 and outputs(tmp_path)["failed"] == "false"
    (tmp_path / "runner" / "output").unlink()
    strict = run_script("review.sh", repo, tmp_path, CMR_PLAN="false", CMR_STRICT="true")
    assert strict.returncode == 0, strict.stderr  # the summary is written; action.yml's last step fails the job
    out = outputs(tmp_path)
    assert out["failed"] == "true"
    summary = pathlib.Path(out["summary"]).read_text()
    assert "**check failed** (exit 1)" in summary and "W402" in summary
    assert "--strict fails on warnings" in summary
    assert "Route changes" not in summary  # nothing was compared after a failed check


def test_a_file_new_on_the_branch_is_all_additions(tmp_path):
    repo = repo_with_change(tmp_path, base=False)
    result = run_script("review.sh", repo, tmp_path, CMR_PLAN="false")
    assert result.returncode == 0, result.stderr
    summary = pathlib.Path(outputs(tmp_path)["summary"]).read_text()
    assert "`routes.yaml` does not exist on origin/main: every route in it is new." in summary
    assert outputs(tmp_path)["failed"] == "false"


def test_a_fence_is_longer_than_any_backtick_run_in_what_it_holds(tmp_path):
    (tmp_path / "text").write_text("a ```` b\n`` c\n")
    fenced = subprocess.run(["bash", "-c", f'source <(sed -n "/^fenced()/,/^}}/p" {SCRIPTS / "review.sh"}); '
                                           f'fenced {tmp_path / "text"}'], capture_output=True, text=True)
    assert fenced.stdout == "`````\na ```` b\n`` c\n`````\n", fenced.stderr


def gh_calls(tmp_path: pathlib.Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "gh.log").read_text().splitlines()]


MARKER = "<!-- cloudmap-routes review: routes.yaml -->"


@needs_jq
@pytest.mark.parametrize("case", ["first run", "second run", "another author's copy", "another file's comment"])
def test_the_comment_is_posted_once_then_updated_in_place(case, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("### Route changes\n| a | b |\n")
    bot, mine = "github-actions[bot]", f"{MARKER}\nold summary"
    pages = {"first run": [[{"id": 7, "user": {"login": "alice"}, "body": "LGTM"}]],
             "second run": [[{"id": 7, "user": {"login": "alice"}, "body": "LGTM"}],
                            [{"id": 42, "user": {"login": bot}, "body": mine}]],  # on the second page
             "another author's copy": [[{"id": 9, "user": {"login": "mallory"}, "body": mine}]],
             "another file's comment": [[{"id": 5, "user": {"login": bot},
                                          "body": "<!-- cloudmap-routes review: other.yaml -->\nx"}]]}[case]
    result = run_script("comment.sh", tmp_path, tmp_path, CMR_SUMMARY=str(summary), CMR_PR="12",
                        CMR_FILE="routes.yaml", FAKE_GH_PAGES=json.dumps(pages))
    assert result.returncode == 0, result.stderr
    [listing, write] = gh_calls(tmp_path)
    assert listing["argv"][:3] == ["api", "--paginate", "repos/my-org/my-api/issues/12/comments"]
    if case == "second run":
        assert write["argv"][:4] == ["api", "--method", "PATCH", "repos/my-org/my-api/issues/comments/42"]
    else:
        assert write["argv"][:4] == ["api", "--method", "POST", "repos/my-org/my-api/issues/12/comments"]
    assert write["body"] == f"{MARKER}\n### Route changes\n| a | b |\n"


@needs_jq
def test_an_environment_has_its_own_comment_and_a_huge_summary_is_cut(tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("x" * 70000)
    result = run_script("comment.sh", tmp_path, tmp_path, CMR_SUMMARY=str(summary), CMR_PR="3",
                        CMR_FILE="routes.yaml", CMR_ENV="prod --> <b>")
    assert result.returncode == 0, result.stderr
    body = gh_calls(tmp_path)[-1]["body"]
    assert body.startswith("<!-- cloudmap-routes review: routes.yaml env=prod --_ _b_ -->\n")  # cannot end early
    assert len(body) < 65536 and "cut at 60000 bytes" in body


@pytest.mark.parametrize("env", [{"CMR_PR": "12; rm -rf /"}, {"CMR_AUTHOR": 'x") | .id'}])
def test_comment_refuses_what_is_not_a_number_or_a_login(env, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("s")
    result = run_script("comment.sh", tmp_path, tmp_path, **{"CMR_SUMMARY": str(summary), "CMR_PR": "1", **env})
    assert result.returncode == 2 and not (tmp_path / "gh.log").exists()


# --- the plan, with real terraform against the local AWS -----------------------------------------------------------

def test_review_plans_and_summarizes_the_plan_against_the_local_aws(tmp_path, moto, tf_env):
    from compiler.localaws.account import localise

    # What the plan reads (the VPC link's VPC, ...) exists in the local AWS, as it would in the real account.
    base = localise(moto, "eu-west-1", (ROOT / "routes.yaml").read_text())
    repo = repo_with_change(tmp_path, head=base.replace('leader: "false"', 'leader: "no"'), base=base)
    terraform = {k: v for k, v in tf_env.items() if k.startswith(("TF_", "CHECKPOINT"))}
    result = run_script("review.sh", repo, tmp_path, CMR_PLAN="true", CLOUDMAP_ROUTES_LOCAL_AWS=moto.url,
                        **terraform)
    assert result.returncode == 0, result.stderr + result.stdout
    out = outputs(tmp_path)
    assert out["failed"] == "false", result.stdout + result.stderr
    summary = plain(pathlib.Path(out["summary"]).read_text())
    assert "filter: leader=false -> leader=no" in summary  # diff
    assert "terraform plan (plan.json)" in summary  # summarize-plan's own heading
    assert "aws_apigatewayv2_route.leader" in summary  # an empty local AWS: every resource is to be created
