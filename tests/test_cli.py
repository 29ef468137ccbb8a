"""The command line as users run it: a subprocess per call, real files, exit codes, stderr/stdout split."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import ROOT
from .helpers import run_main as run


def test_check_valid_file_exits_0():
    result = run("check", "routes.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr == "routes.yaml: ok (4 route(s), 1 service(s))\n"


def test_check_invalid_file_exits_1_with_located_errors():
    result = run("check", "tests/diagnostics/route-keys.yaml")
    assert result.returncode == 1
    assert result.stderr.startswith("tests/diagnostics/route-keys.yaml:8:13: error E300: unknown method 'FETCH'")
    assert "Traceback" not in result.stderr


def test_check_json_format_prints_diagnostics_on_stdout():
    result = run("check", "tests/diagnostics/warnings-only.yaml", "--format", "json")
    assert result.returncode == 0
    diagnostics = json.loads(result.stdout)
    assert {d["code"] for d in diagnostics} == {"W401", "W402", "W403", "W404", "W405"}
    assert set(diagnostics[0]) == {"severity", "file", "line", "col", "code", "message", "hint", "loc"}
    assert {(d["code"], d["loc"]) for d in diagnostics} >= {("W402", "services.static"),
                                                             ("W403", "routes[0].filter.leader")}


def test_usage_error_exits_2():
    assert run("check", "--format", "xml").returncode == 2
    assert run("frobnicate").returncode == 2


def test_a_missing_file_is_reported_without_a_position_and_without_a_traceback():
    result = run("check", "no-such.yaml")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == "no-such.yaml: error E100: cannot read the file: No such file or directory"


@pytest.mark.parametrize("argv", [["check", "routes.yaml"], ["diff", "routes.yaml", "examples/secure.yaml"]])
def test_check_and_diff_never_load_jsii_or_cdktf(argv):
    code = (f"import sys; from compiler.cli import main; rc = main({argv!r}); "
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('jsii', 'cdktf', 'constructs', "
            "'cdktf_cdktf_provider_aws')); print(rc, heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip().splitlines()[-1] == "0 []", result.stderr


def test_invalid_input_leaves_previous_output_untouched(tmp_path):
    out = tmp_path / "cdktf.out"
    (out / "stacks" / "routes").mkdir(parents=True)
    marker = out / "stacks" / "routes" / "cdk.tf.json"
    marker.write_text("previous")
    result = run("synth", "tests/diagnostics/duplicate-key.yaml", "--out", str(out))
    assert result.returncode == 1
    assert "E102" in result.stderr and "left as it was" in result.stderr
    assert marker.read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]
