"""`diff`: for each kind of change, the summary names every route whose reach changes and every replacement.

Each case (tests/cases.py) edits the bundled routes.yaml one way; its rendered text summary is pinned under
tests/review/ and the assertions below state what a reviewer must be told.
"""

from __future__ import annotations

import json

import pytest

from compiler.review.diff import diff_models
from compiler.review.planfile import summarize_plan
from compiler.review.render import render

from .cases import BUNDLED, CASES, reviewed
from .conftest import ROOT, pinned
from .helpers import git_repo, run_main
from .synthesis import model_of


@pytest.mark.parametrize("name", CASES)
def test_diff_summary_flags_reach_and_replacements(name, update_snapshots):
    change, replaced, routes = CASES[name]
    summary = reviewed(BUNDLED, change(BUNDLED), f"{name}: before -> after")
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
        ("aws_cloudwatch_log_group.access_logs", "update", ("kms_key_id",)),
        ("aws_cloudwatch_log_group.fanout_reload", "update", ("kms_key_id",))]  # a function's log group: the API's key


def test_summarize_plan_refuses_a_file_that_is_not_a_plan(tmp_path):
    not_plan = tmp_path / "plan.json"
    not_plan.write_text('{"resources": []}')
    result = run_main("summarize-plan", str(not_plan))
    assert result.returncode == 1
    assert result.stderr == (f"main.py: error: {not_plan}: not terraform show -json output: "
                             "missing 'format_version' at $\n")


# --- summarize-plan: real Terraform plans (tests/record_plans.py records them from the local AWS) -------------

PLANS = sorted(p.stem for p in (ROOT / "tests" / "review" / "plans").glob("*.json"))


@pytest.mark.parametrize("name", PLANS)
def test_summarize_plan_names_what_routes_yaml_names(name, update_snapshots):
    """Routes by id, each with its own integration, and Cloud Map services by their key, never by `srv-...`; the
    routes listed, and whether their reach changes, are what `diff` says for the same edit."""
    plan = json.loads((ROOT / "tests" / "review" / "plans" / f"{name}.json").read_text())
    summary = summarize_plan(plan, f"{name}: terraform plan", model_of(CASES[name][0](BUNDLED)))  # the plan's routes
    text = render(summary, "text")
    pinned(ROOT / "tests" / "review" / f"plan-{name}.txt", text, update_snapshots)
    assert "srv-" not in text and "known after apply" not in text
    assert [(r.route_id, r.reach_changed) for r in summary.routes] == CASES[name][2]
    for route in summary.routes:
        changed = {c.address for c in summary.resources}
        integration = f"aws_apigatewayv2_integration.{route.route_id}"
        assert (integration in {c.address for c in route.resources}) == (integration in changed)


def service_change(name: str, action: str, before: dict | None, after: dict | None) -> dict:
    actions = {"replace": ["delete", "create"]}.get(action, [action])
    return {"address": f"aws_service_discovery_service.{name}", "mode": "managed",
            "type": "aws_service_discovery_service", "name": name,
            "change": {"actions": actions, "before": before, "after": after}}


def integration_change(name: str, before_uri: str, after_uri: str) -> dict:
    return {"address": f"aws_apigatewayv2_integration.{name}", "mode": "managed",
            "type": "aws_apigatewayv2_integration", "name": name,
            "change": {"actions": ["update"], "before": {"id": "i1", "integration_uri": before_uri},
                       "after": {"id": "i1", "integration_uri": after_uri}}}


def route_no_op(name: str) -> dict:
    values = {"id": "r1", "route_key": "GET /x", "target": "integrations/i1"}
    return {"address": f"aws_apigatewayv2_route.{name}", "mode": "managed", "type": "aws_apigatewayv2_route",
            "name": name, "change": {"actions": ["no-op"], "before": values, "after": values}}


ARN = "arn:aws:servicediscovery:eu-west-1:123456789012:service/"


@pytest.mark.parametrize("key, cloud_map_name, shown", [
    ("raft-v2", "raft-v2", "raft-v2"),  # the key (the address is its identifier form, raft_v2)
    ("raft", "raft-cluster", "raft"),  # a `name:` of its own: the key, from the address
])
def test_a_service_is_named_by_its_routes_yaml_key(key, cloud_map_name, shown):
    address_name = key.replace("-", "_")
    values = {"id": "srv-abcdefgh12345678", "name": cloud_map_name}
    plan = {"format_version": "1.2", "resource_changes": [
        service_change(address_name, "no-op", values, values),
        integration_change("x", ARN + "srv-abcdefgh12345678?leader=true", ARN + "srv-abcdefgh12345678?leader=no"),
        route_no_op("x")]}
    [route] = summarize_plan(plan, "t").routes
    assert route.details == [f"reach: {shown} (leader=true) -> {shown} (leader=no)"]


def test_an_existing_service_without_a_block_keeps_its_id():
    plan = {"format_version": "1.2", "resource_changes": [
        integration_change("x", ARN + "srv-abcdefgh12345678", ARN + "srv-abcdefgh12345678?zone=a"),
        route_no_op("x")]}
    [route] = summarize_plan(plan, "t").routes
    assert route.details == ["reach: srv-abcdefgh12345678 (all instances) -> srv-abcdefgh12345678 (zone=a)"]
