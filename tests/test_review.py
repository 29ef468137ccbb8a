"""`diff`: for each kind of change, the summary names every route whose reach changes and every replacement.

Each case (tests/cases.py) edits the bundled routes.yaml one way; its rendered text summary is pinned under
tests/review/ and the assertions below state what a reviewer must be told.
"""

from __future__ import annotations

import pytest

from compiler.review import diff_models, render

from .cases import BUNDLED, CASES
from .conftest import ROOT, pinned
from .helpers import git_repo, run_main
from .synthesis import model_of


@pytest.mark.parametrize("name", CASES)
def test_diff_summary_flags_reach_and_replacements(name, update_snapshots):
    change, replaced, routes = CASES[name]
    summary = diff_models(model_of(BUNDLED), model_of(change(BUNDLED)), f"{name}: before -> after")
    pinned(ROOT / "tests" / "review" / f"{name}.txt", render(summary, "text"), update_snapshots)
    assert sorted(r.address for r in summary.replacements) == replaced
    assert [(r.route_id, r.reach_changed) for r in summary.routes] == routes
    markdown = render(summary, "markdown")
    for address in replaced:
        assert f"`{address}` **REPLACE**" in markdown
    for route_id, _ in routes:
        assert f"(`{route_id}`)" in markdown


def test_diff_reads_a_git_revision(tmp_path):
    repo = git_repo(tmp_path / "repo", {"routes.yaml": BUNDLED.encode()})
    (repo / "routes.yaml").write_text(BUNDLED.replace('leader: "false"', 'leader: "no"'))
    result = run_main("diff", "HEAD:routes.yaml", "routes.yaml", "--format", "markdown", cwd=repo, inherit_env=False)
    assert result.returncode == 0, result.stderr
    # Details are user text: every punctuation character is escaped (rendered as itself on GitHub).
    assert ("| `GET /follower` (`follower`) | changed | **yes** | filter\\: leader\\=false \\-\\> leader\\=no |"
            in result.stdout)


def test_diff_of_an_invalid_version_is_located_and_exits_1(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BUNDLED.replace("service: raft\n", "service: rafts\n", 1))
    result = run_main("diff", "routes.yaml", str(bad))
    assert result.returncode == 1
    assert "error E302: service 'rafts' is not declared" in result.stderr


def test_a_log_group_kms_key_change_is_an_update_in_place():
    change = CASES["log-group-kms-key"][0]
    summary = diff_models(model_of(BUNDLED), model_of(change(BUNDLED)), "kms")
    assert [(c.address, c.action, c.attributes) for c in summary.resources] == [
        ("aws_cloudwatch_log_group.access_logs", "update", ("kms_key_id",))]


def test_summarize_plan_refuses_a_file_that_is_not_a_plan(tmp_path):
    not_plan = tmp_path / "plan.json"
    not_plan.write_text('{"resources": []}')
    result = run_main("summarize-plan", str(not_plan))
    assert result.returncode == 1
    assert result.stderr == (f"main.py: error: {not_plan}: not terraform show -json output: "
                             "missing 'format_version' at $\n")
