"""Snapshot tests pin the synthesized Terraform JSON of every example; read the JSON files you pin.

Update after a reviewed change: `make snapshots` (pytest --update-snapshots), then review `git diff tests/snapshots`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from .conftest import EXAMPLES, ROOT, STACK_IDS, STACKS, example_id, pinned, stack_id
from .synthesis import resources, reverse_routes, synth_json, synth_text

SNAPSHOTS = ROOT / "tests" / "snapshots"


@pytest.mark.parametrize("path, environment", STACKS, ids=STACK_IDS)
def test_synthesized_json_matches_snapshot(path, environment, update_snapshots):
    """Every example's stack; an example with environments has one per environment (environments.prod)."""
    text = synth_text(path.read_text(), environment=environment)
    normalised = json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
    pinned(SNAPSHOTS / f"{stack_id((path, environment))}.tf.json", normalised, update_snapshots)


def test_same_input_gives_byte_identical_output():
    text = (ROOT / "routes.yaml").read_text()
    assert synth_text(text) == synth_text(text)


@pytest.mark.parametrize("path", EXAMPLES, ids=example_id)
def test_reordering_routes_gives_byte_identical_output(path):
    text = path.read_text()
    reversed_text = reverse_routes(text)
    assert reversed_text != text
    assert synth_text(reversed_text) == synth_text(text)


def test_adding_a_route_adds_only_its_own_route_and_integration():
    """Even when it shares a filter with another route and its id sorts first: nothing else is renamed."""
    text = (ROOT / "routes.yaml").read_text()
    before = resources(synth_json(text))
    after = resources(synth_json(text + "\n  - route: GET /a\n    id: a_first\n    service: raft\n    filter:\n"
                                          '      leader: "true"\n    authorization: operators\n    timeout_ms: 5000\n'))
    assert sorted(set(after) - set(before)) == ["aws_apigatewayv2_integration.a_first", "aws_apigatewayv2_route.a_first"]
    assert {a: before[a] for a in before} == {a: after[a] for a in before}
    assert after["aws_apigatewayv2_route.a_first"]["target"] == "integrations/${aws_apigatewayv2_integration.a_first.id}"


def test_a_route_with_a_new_filter_adds_its_route_and_integration():
    text = (ROOT / "routes.yaml").read_text()
    before = resources(synth_json(text))
    after = resources(synth_json(text + "\n  - route: GET /zone-a\n    service: raft\n    filter:\n"
                                          "      zone: a\n    authorization: operators\n"))
    assert sorted(set(after) - set(before)) == ["aws_apigatewayv2_integration.get_zone_a",
                                                "aws_apigatewayv2_route.get_zone_a"]
    assert all(before[a] == after[a] for a in before)


def test_renaming_a_path_with_an_explicit_id_keeps_every_address():
    text = (ROOT / "routes.yaml").read_text()
    before = resources(synth_json(text))
    after = resources(synth_json(text.replace("route: GET /leader", "route: GET /raft/leader")))
    assert set(after) == set(before)
    changed = [a for a in before if before[a] != after[a]]
    assert changed == ["aws_apigatewayv2_route.leader"]
    assert after["aws_apigatewayv2_route.leader"]["route_key"] == "GET /raft/leader"


def test_two_checkouts_in_different_folders_synthesize_identical_files(tmp_path):
    outputs = []
    for name in ("one", "two"):
        checkout = tmp_path / name / "deeper" if name == "two" else tmp_path / name
        checkout.mkdir(parents=True)
        for item in ("main.py", "routes.yaml", "compiler"):
            source = ROOT / item
            (shutil.copytree if source.is_dir() else shutil.copy)(source, checkout / item)
        env = {**os.environ, "PYTHONPATH": str(checkout)}
        env.pop("CDKTF_OUTDIR", None)
        result = subprocess.run([sys.executable, "main.py"], cwd=checkout, capture_output=True, text=True,
                                env=env, timeout=300)
        assert result.returncode == 0, result.stderr
        assert "Node 20 is end-of-life" not in result.stderr
        outputs.append({p.relative_to(checkout / "cdktf.out"): p.read_bytes()
                        for p in (checkout / "cdktf.out").rglob("*") if p.is_file()})
    assert outputs[0] == outputs[1]
    assert str(tmp_path).encode() not in b"".join(outputs[0].values())
