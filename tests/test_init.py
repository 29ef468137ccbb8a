"""`init [DIR]`: the starter project it writes works (check, synth, terraform validate, cdktf.json asks for the
CDKTF engine), and it never replaces, follows a link, or leaves half a project behind."""

from __future__ import annotations

import json
import os
import pathlib
import shlex
import signal

import pytest
import yaml

from compiler.cli import init as init_module
from compiler.cli import main as cli_main
from compiler.cli import parser as cli_parser

from .conftest import ROOT
from .helpers import run_main
from .terraform import Terraform, available, terraform_env

STARTER = [".github/workflows/routes-review.yml", ".gitignore", "cdktf.json", "routes.schema.json", "routes.yaml"]


def tree(path: pathlib.Path) -> dict[str, str]:
    return {str(p.relative_to(path)): ("-> " + os.readlink(p) if p.is_symlink() else "dir" if p.is_dir()
                                       else p.read_text()) for p in sorted(path.rglob("*"))}


def files(path: pathlib.Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())


def test_init_writes_a_starter_that_checks_clean_and_synthesizes(tmp_path):
    result = run_main("init", "project", "--action", "my-org/cloudmap-routes@v0.1.0", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    project = tmp_path / "project"
    assert files(project) == STARTER
    assert result.stderr.splitlines()[:5] == [f"wrote project/{name}" for name in
                                              ["routes.yaml", "routes.schema.json", "cdktf.json", ".gitignore",
                                               ".github/workflows/routes-review.yml"]]
    routes = (project / "routes.yaml").read_text()
    assert routes.startswith("# yaml-language-server: $schema=./routes.schema.json\n")
    check = run_main("check", "routes.yaml", "--format", "json", cwd=project)
    assert check.returncode == 0 and json.loads(check.stdout) == []  # not even a warning: passes --strict
    schema = json.loads((project / "routes.schema.json").read_text())
    assert schema == json.loads((ROOT / "routes.schema.json").read_text())  # the published one, generated
    import jsonschema
    jsonschema.validate(yaml.safe_load(routes), schema)
    synth = run_main("synth", cwd=project)
    assert synth.returncode == 0, synth.stderr
    assert (project / "cdktf.out" / "stacks" / "routes" / "cdk.tf.json").exists()
    assert sorted(p.name for p in project.iterdir()) == sorted([".github", *STARTER[1:], "cdktf.out"])  # no lock


def test_the_gitignore_covers_what_synth_terraform_and_local_up_write(tmp_path):
    assert run_main("init", str(tmp_path), "--action", "o/r@v1").returncode == 0
    ignored = (tmp_path / ".gitignore").read_text().split()
    for name in ["cdktf.out/", ".cdktf.out.lock", "terraform.*.tfstate", "terraform.*.tfstate.backup",
                 ".terraform.*.tfstate.lock.info", ".local-aws/", ".synth-cdktf.out.*/"]:
        assert name in ignored
    # and the names are the ones synth really uses: the local state path of the plan, the lock, the work dirs
    from compiler.terraform.synth import synthesize

    from .synthesis import model_of
    out = tmp_path / "cdktf.out"
    synthesize(model_of((tmp_path / "routes.yaml").read_text()), str(out), engine="direct")
    stack = json.loads((out / "stacks" / "routes" / "cdk.tf.json").read_text())
    assert stack["terraform"]["backend"]["local"]["path"] == "../../../terraform.routes.tfstate"


@pytest.mark.parametrize("app_source", ["init", "checkout"])
def test_cdktf_json_runs_the_cdktf_engine_explicitly(app_source, tmp_path):
    if app_source == "init":
        assert run_main("init", str(tmp_path)).returncode == 0
        app = json.loads((tmp_path / "cdktf.json").read_text())["app"]
        assert shlex.split(app)[0] == "cloudmap-routes"  # the installed command, whatever its path
    else:
        app = json.loads((ROOT / "cdktf.json").read_text())["app"]
        assert shlex.split(app)[:2] == [".venv/bin/python", "main.py"]
    argv = shlex.split(app)[1 if app_source == "init" else 2:]
    args = cli_parser().parse_args(argv)
    assert args.command == "synth" and args.engine == "cdktf"


@pytest.mark.terraform
@pytest.mark.skipif(not available(), reason="terraform is not on PATH")
def test_the_starter_passes_terraform_validate(tmp_path):
    assert run_main("init", str(tmp_path)).returncode == 0
    assert run_main("synth", cwd=tmp_path).returncode == 0
    terraform = Terraform(tmp_path / "cdktf.out" / "stacks" / "routes", terraform_env(tmp_path))
    terraform.init(backend=False)
    result = terraform.run("validate", "-json")
    report = json.loads(result.stdout)
    assert report["valid"] and report["warning_count"] == 0, report


def test_the_workflow_uses_the_action_it_is_given_and_the_action_takes_its_inputs(tmp_path):
    assert run_main("init", str(tmp_path), "--action", "my-org/cloudmap-routes@v0.1.0").returncode == 0
    workflow = yaml.safe_load((tmp_path / ".github" / "workflows" / "routes-review.yml").read_text())
    [step] = [s for s in workflow["jobs"]["review"]["steps"] if "cloudmap-routes" in s.get("uses", "")]
    assert step["uses"] == "my-org/cloudmap-routes@v0.1.0"
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert set(step["with"]) <= set(action["inputs"])


def test_without_a_known_action_no_workflow_is_written_and_it_says_how_to_add_it(tmp_path):
    result = run_main("init", "p", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert files(tmp_path / "p") == STARTER[1:]
    assert "init p --workflow-only --action OWNER/REPO@REF" in result.stderr
    later = run_main("init", "p", "--workflow-only", "--action", "o/r@0123", cwd=tmp_path)
    assert later.returncode == 0, later.stderr
    assert files(tmp_path / "p") == STARTER
    assert run_main("init", "p", "--workflow-only", cwd=tmp_path).returncode == 2  # no action to write


@pytest.mark.parametrize("action", ["o/r", "o@v1", "-o/r@v1", "o/r@v1 x", "o/r@${{ github.token }}"])
def test_a_malformed_action_is_refused(action, tmp_path):
    result = run_main("init", str(tmp_path / "p"), f"--action={action}")
    assert result.returncode == 2 and "expected OWNER/REPO@REF" in result.stderr
    assert not (tmp_path / "p").exists()


# --- never replace, never follow, all or nothing -----------------------------------------------------------------

@pytest.mark.parametrize("case", ["a file", "a dangling link", "a link to a file"])
def test_an_existing_name_refuses_everything(case, tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    (tmp_path / "elsewhere.txt").write_text("theirs")
    if case == "a file":
        (project / "cdktf.json").write_text("mine")
    elif case == "a dangling link":
        (project / "cdktf.json").symlink_to(tmp_path / "would-be-created.json")
    else:
        (project / "cdktf.json").symlink_to(tmp_path / "elsewhere.txt")
    before = tree(tmp_path)
    result = run_main("init", str(project), "--action", "o/r@v1")
    assert result.returncode == 1
    assert f"{project}/cdktf.json already exist(s)" in result.stderr and "nothing written" in result.stderr
    assert tree(tmp_path) == before  # not a file, not a directory (.github) more


@pytest.mark.parametrize("where", ["the project folder", ".github", ".github/workflows"])
def test_a_symbolic_link_on_the_way_is_not_followed(where, tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    if where == "the project folder":
        (tmp_path / "p").symlink_to(target)
    else:
        (tmp_path / "p" / ".github").mkdir(parents=True) if where != ".github" else (tmp_path / "p").mkdir()
        (tmp_path / "p" / where).symlink_to(target)
    before = tree(tmp_path)
    result = run_main("init", str(tmp_path / "p"), "--action", "o/r@v1")
    assert result.returncode == 1
    assert "symbolic link, which init does not follow" in result.stderr and "nothing written" in result.stderr
    assert tree(tmp_path) == before and list(target.iterdir()) == []


def test_a_failure_half_way_takes_back_what_was_written(tmp_path, monkeypatch):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "notes.txt").write_text("mine")
    real = init_module._write_new
    calls = []

    def failing(dir_fd, name, *args):
        calls.append(name)
        if len(calls) == 4:
            raise init_module.InitError("disk full (simulated)")
        return real(dir_fd, name, *args)
    monkeypatch.setattr(init_module, "_write_new", failing)
    before = tree(tmp_path)
    assert cli_main(["init", str(tmp_path / "p"), "--action", "o/r@v1"]) == 1
    assert len(calls) == 4
    assert tree(tmp_path) == before  # the three files written, and .github/workflows it created, are gone


def test_sigterm_while_writing_leaves_nothing(tmp_path, monkeypatch):
    real = init_module._write_new

    def terminated_on_the_second(dir_fd, name, *args):
        if name == "routes.schema.json":
            os.kill(os.getpid(), signal.SIGTERM)
        return real(dir_fd, name, *args)
    monkeypatch.setattr(init_module, "_write_new", terminated_on_the_second)
    handler = signal.getsignal(signal.SIGTERM)
    assert cli_main(["init", str(tmp_path / "p")]) == 143
    assert not (tmp_path / "p").exists()  # the folder it created is gone too
    assert signal.getsignal(signal.SIGTERM) == handler


# --- which action the workflow names by default -------------------------------------------------------------------

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize("record, origin, expected", [
    ({"url": "https://github.com/my-org/cloudmap-routes.git", "vcs_info": {"vcs": "git", "commit_id": COMMIT}},
     None, f"my-org/cloudmap-routes@{COMMIT}"),
    ({"url": "ssh://git@github.com/my-org/cloudmap-routes", "vcs_info": {"vcs": "git", "commit_id": COMMIT}},
     None, f"my-org/cloudmap-routes@{COMMIT}"),
    ({"url": "git@github.com:my-org/cloudmap-routes.git", "vcs_info": {"vcs": "git", "commit_id": COMMIT}},
     None, f"my-org/cloudmap-routes@{COMMIT}"),
    ({"url": "file:///src/cloudmap-routes", "dir_info": {}}, ("https://github.com/o/r.git", COMMIT), f"o/r@{COMMIT}"),
    ({"url": "file:///src/cloudmap-routes", "dir_info": {}}, ("https://gitlab.com/o/r.git", COMMIT), None),
    ({"url": "file:///src/cloudmap-routes", "dir_info": {}}, None, None),
    ({"url": "https://gitlab.com/o/r.git", "vcs_info": {"vcs": "git", "commit_id": COMMIT}}, None, None),
    ({"url": "https://github.com/o/r/x.git", "vcs_info": {"vcs": "git", "commit_id": COMMIT}}, None, None),
    ({"url": "https://github.com/o/r.git", "vcs_info": {"vcs": "git", "commit_id": "main"}}, None, None),
    ({"url": "https://example.com/cloudmap_routes-0.1.0.whl", "archive_info": {}}, None, None),
    ("not json", None, None),
])
def test_the_default_action_is_where_pip_installed_this_copy_from(record, origin, expected):
    text = record if isinstance(record, str) else json.dumps(record)
    assert init_module.action_from_direct_url(text, lambda path: origin) == expected
