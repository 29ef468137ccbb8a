"""`diff`: for each kind of change, the summary names every route whose reach changes and every replacement.

Each case edits the bundled routes.yaml one way; its rendered text summary is pinned under tests/review/ and the
assertions below state what a reviewer must be told.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from compiler.review import diff_models, render

from .conftest import ROOT, pinned
from .synthesis import model_of

BUNDLED = (ROOT / "routes.yaml").read_text()


def edit(old: str, new: str):
    def apply(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)
    return apply


def append(extra: str):
    return lambda text: text + extra


# name -> (edit, replaced addresses, (route id, reach changed) pairs that must be listed)
CASES = {
    "route-added": (append('\n  - route: DELETE /leader\n    id: drop_leader\n    service: raft\n    filter: {leader: "true"}\n'
                           "    authorization: operators\n    scopes: [raft/admin]\n"),
                    [], [("drop_leader", True)]),
    "route-removed": (edit('  - route: GET /follower\n    id: follower\n    service: raft\n    filter:\n      leader: "false"\n'
                           '    authorization: operators\n    scopes: [raft/admin]\n', ""), [], [("follower", True)]),
    "route-key-renamed": (edit("route: GET /leader", "route: GET /raft/leader"), [], [("leader", False)]),
    "filter-changed": (edit('leader: "false"', 'leader: "no"'), [], [("follower", True)]),
    "authorization-changed": (edit("    scopes: [raft/admin]\n    timeout_ms: 5000", "    timeout_ms: 5000"), [],
                              [("leader", False)]),
    "throttling-changed": (edit("    timeout_ms: 5000\n", "    timeout_ms: 5000\n    throttling: {burst_limit: 5, rate_limit: 1}\n"),
                           [], [("leader", False)]),
    "timeout-changed": (edit("timeout_ms: 5000", "timeout_ms: 2000"), [], [("leader", False)]),
    "service-name": (edit("  raft:\n    registered_by", "  raft:\n    name: raft-v2\n    registered_by"),
                     ["aws_service_discovery_service.raft"], [("follower", True), ("get_root", True), ("leader", True)]),
    "dns-record-type": (edit("- type: SRV", "- type: A\n        ttl: 10\n      - type: SRV"),
                        ["aws_service_discovery_service.raft"], [("follower", True), ("get_root", True), ("leader", True)]),
    "routing-policy": (edit("    health_check: custom", "    routing_policy: WEIGHTED\n    health_check: custom"),
                       ["aws_service_discovery_service.raft"], [("follower", True), ("get_root", True), ("leader", True)]),
    "health-check": (edit("health_check: custom # ECS", "health_check: none # ECS"),
                     ["aws_service_discovery_service.raft"], [("follower", True), ("get_root", True), ("leader", True)]),
    "namespace-name": (edit("name: raft.internal", "name: raft.cluster"),
                       ["aws_service_discovery_private_dns_namespace.namespace", "aws_service_discovery_service.raft"],
                       [("follower", True), ("get_root", True), ("leader", True)]),
    "namespace-vpc": (edit("vpc_id: vpc-0d4e5f60718293a4b", "vpc_id: vpc-0d4e5f60718293a4c"),
                      ["aws_service_discovery_private_dns_namespace.namespace", "aws_service_discovery_service.raft"],
                      [("follower", True), ("get_root", True), ("leader", True)]),
    "vpc-link-subnets": (edit("subnet-0b2c3d4e5f6071829", "subnet-0b2c3d4e5f6071830"),
                         ["aws_apigatewayv2_vpc_link.vpc_link"], []),
    "vpc-link-security-groups": (edit("security_group_ids: [sg-0c3d4e5f607182930]", "security_group_ids: [sg-0c3d4e5f607182931]"),
                                 ["aws_apigatewayv2_vpc_link.vpc_link"], []),
    "stage-name": (edit("stage: $default", "stage: prod"), ["aws_apigatewayv2_stage.stage"],
                   [("follower", False), ("get_root", False), ("leader", False)]),
    "no-change": (lambda text: text, [], []),
}


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
    repo = tmp_path / "repo"
    repo.mkdir()
    git = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True)  # noqa: E731
    git("init", "-q")
    (repo / "routes.yaml").write_text(BUNDLED)
    git("add", "routes.yaml")
    git("-c", "user.email=t@example.invalid", "-c", "user.name=t", "commit", "-qm", "base")
    (repo / "routes.yaml").write_text(BUNDLED.replace('leader: "false"', 'leader: "no"'))
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "diff", "HEAD:routes.yaml", "routes.yaml",
                             "--format", "markdown"], cwd=repo, capture_output=True, text=True,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin:/usr/local/bin"})
    assert result.returncode == 0, result.stderr
    assert "| `GET /follower` (`follower`) | changed | **yes** | filter: leader=false -> leader=no |" in result.stdout


def test_diff_of_an_invalid_version_is_located_and_exits_1(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BUNDLED.replace("service: raft\n", "service: rafts\n", 1))
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "diff", "routes.yaml", str(bad)], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "error E302: service 'rafts' is not declared" in result.stderr


def test_summarize_plan_refuses_a_file_that_is_not_a_plan(tmp_path):
    not_plan = tmp_path / "plan.json"
    not_plan.write_text('{"resources": []}')
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "summarize-plan", str(not_plan)], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "not `terraform show -json` output" in result.stderr
