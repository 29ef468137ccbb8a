"""Parity: the direct engine writes exactly the bytes CDKTF writes, for every file in cdktf.out.

Every example, and a sample of generated valid documents (options on and off, other stack names, routes
reversed, text that exercises escaping, key order and number formatting). When a cdktf or provider-bindings
upgrade changes CDKTF's bytes, this is the test that fails: update compiler/terraform/direct.py to match.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.terraform.direct import js_number, stringify, write_direct
from compiler.terraform.plan import build, with_imports
from compiler.terraform.synth import synth_plan

from .conftest import ROOT, STACK_IDS, STACKS

# The hardening issue's strategy for valid documents (hostile text in every free-text field).
from .strategies import documents
from .synthesis import model_of, reverse_routes

BUNDLED = (ROOT / "routes.yaml").read_text()
LOCAL = "http://127.0.0.1:4566"
STATE = "s3://tf-state/routes/raft.tfstate"


def written(writer, plan, stack: str) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as out:
        writer(plan, out, stack)
        root = pathlib.Path(out)
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def first_difference(name: str, cdktf: bytes, direct: bytes) -> str:
    a, b = cdktf.decode("utf-8").split("\n"), direct.decode("utf-8").split("\n")
    for number, (line_a, line_b) in enumerate(zip(a, b), start=1):
        if line_a != line_b:
            return f"{name} line {number}:\n  cdktf:  {line_a!r}\n  direct: {line_b!r}"
    number = min(len(a), len(b)) + 1
    return (f"{name} line {number}: one file ends first\n  cdktf:  {a[number - 1] if len(a) >= number else '<end>'!r}"
            f"\n  direct: {b[number - 1] if len(b) >= number else '<end>'!r}")


def assert_same_bytes(text: str, local_endpoint: str | None = None, state: str | None = None,
                      stack: str | None = None, environment: str | None = None) -> None:
    stack = stack or environment or "routes"
    plan = build(model_of(text, environment), local_endpoint, state, stack)
    cdktf, direct = written(synth_plan, plan, stack), written(write_direct, plan, stack)
    assert sorted(cdktf) == sorted(direct), f"files differ: cdktf {sorted(cdktf)}, direct {sorted(direct)}"
    for name in cdktf:
        assert cdktf[name] == direct[name], first_difference(name, cdktf[name], direct[name])


# --- every example, plain, with every option, and with its routes reversed -------------------------------

@pytest.mark.parametrize("path, environment", STACKS, ids=STACK_IDS)
def test_examples(path, environment):
    assert_same_bytes(path.read_text(), environment=environment)


@pytest.mark.parametrize("path, environment", STACKS, ids=STACK_IDS)
def test_examples_with_local_aws_s3_state_and_another_stack(path, environment):
    assert_same_bytes(path.read_text(), local_endpoint=LOCAL, state=STATE, stack="prod-eu_1", environment=environment)


@pytest.mark.parametrize("path, environment", STACKS, ids=STACK_IDS)
def test_examples_with_routes_reversed(path, environment):
    assert_same_bytes(reverse_routes(path.read_text()), state=STATE, environment=environment)


def test_import_blocks(tf_env):
    """`synth --imports`: CDKTF's importFrom writes `import` blocks and lists them in the stack's metadata.
    (CDKTF runs `terraform version` to check that the binary knows import blocks: a `terraform` test.)"""
    plan = build(model_of(BUNDLED))
    imports = [(b.address, f"id-{i}" + ("/${x} %{y}" if i % 2 else "")) for i, b in enumerate(plan.blocks)
               if b.mode == "managed"]
    plan = with_imports(plan, list(reversed(imports)))
    cdktf, direct = written(synth_plan, plan, "routes"), written(write_direct, plan, "routes")
    assert sorted(cdktf) == sorted(direct)
    for name in cdktf:
        assert cdktf[name] == direct[name], first_difference(name, cdktf[name], direct[name])


# --- generated valid documents -----------------------------------------------------------------------------

def _edit(text: str, change) -> str:
    document = yaml.safe_load(text)
    change(document)
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def _no_region(doc):
    doc.pop("region")


# Printable text only: the validator refuses control characters and line separators (the serializer's own
# test below covers their escapes).
TRICKY = 'say "hi" \\ back / ${var.x} %{ if } $${y} } { caf\u00e9 \U0001d400 \uff5a \u00a0 <&>'


def _tricky_text(doc):
    doc["api"]["description"] = TRICKY
    doc["namespace"]["description"] = TRICKY[::-1]
    doc["services"]["raft"]["description"] = "${aws_region.current.name} %{endif}"
    # Keys JavaScript and Python order differently (UTF-16 code units vs code points), and mixed case.
    doc["api"]["tags"] = {"team": "platform", "Team": "x", "\U0001d400": "bold", "\uff5a": "wide", "caf\u00e9": "",
                          "a:b/c=d+e@f": "g h", "_": "caf\u00e9 \U0001d400", "0": "zero"}


def _numbers(doc):
    doc["api"]["throttling"] = {"burst_limit": 0, "rate_limit": 0.000001}
    routes = doc["routes"]
    routes[0]["throttling"] = {"burst_limit": 5000, "rate_limit": 10000.0}
    routes[1]["throttling"] = {"burst_limit": 1, "rate_limit": 1e-7}
    routes[2]["throttling"] = {"burst_limit": 2, "rate_limit": 123.456}
    doc["services"]["raft"]["dns_records"][0]["ttl"] = 2147483647


def _no_logs_no_tags(doc):
    doc["api"]["access_logs"] = {"enabled": False}
    doc["api"].pop("tags")
    doc["api"].pop("description")


def _static_instances(doc):
    doc["namespace"] = {"type": "http", "name": "raft"}
    doc["services"]["raft"] = {"instances": [
        {"id": "node-1", "ipv4": "10.0.1.10", "port": 8080, "attributes": {"leader": "true", "zone": "a ${z} %{w}"}},
        {"id": "node-2", "ipv4": "10.0.1.11", "port": 8080, "attributes": {"leader": "false", "Zone": "b"}}]}


GENERATED = {
    "no-region": (_edit(BUNDLED, _no_region), {}),  # the provider block is an empty object: `{`, newline, `}`
    "no-region-local-aws": (_edit(BUNDLED, _no_region), {"local_endpoint": LOCAL}),
    "no-region-s3-state": (_edit(BUNDLED, _no_region), {"state": STATE}),
    "tricky-text": (_edit(BUNDLED, _tricky_text), {}),
    "numbers": (_edit(BUNDLED, _numbers), {}),
    "no-logs-no-tags": (_edit(BUNDLED, _no_logs_no_tags), {"stack": "a"}),
    "static-instances": (_edit(BUNDLED, _static_instances), {"stack": "Routes_2"}),
    "stack-with-slash": (BUNDLED, {"stack": "team/routes"}),  # constructs turns `/` into `--` in the stack's id
}


@pytest.mark.parametrize("name", GENERATED)
def test_generated_documents(name):
    text, options = GENERATED[name]
    assert_same_bytes(text, **options)


PARITY_SAMPLE = 12  # each document costs one CDKTF synth (~0.1 s once jsii runs)


@settings(max_examples=PARITY_SAMPLE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.sampled_from([{}, {"local_endpoint": LOCAL}, {"state": STATE, "stack": "prod-eu_1"}]))
def test_a_sample_of_hypothesis_generated_valid_documents(doc, options):
    assert_same_bytes(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), **options)


# --- the pieces, without CDKTF -----------------------------------------------------------------------------

def test_the_serializer_prints_what_json_stable_stringify_prints():
    assert stringify({"b": [], "a": {}, "//": {"x": [1, {"k": None}]}, "c": None}) == (
        '{\n  "//": {\n    "x": [\n      1,\n      {\n      }\n    ]\n  },\n  "a": {\n  },\n  "b": [\n  ]\n}')
    assert stringify({"\uff5a": 1, "\U0001d400": 2, "a": 3}) == '{\n  "a": 3,\n  "\U0001d400": 2,\n  "\uff5a": 1\n}'
    assert stringify("\x01\"\\\n\u2028\u00e9") == '"\\u0001\\"\\\\\\n\u2028\u00e9"'


@pytest.mark.parametrize("value, text", [
    (50, "50"), (50.0, "50"), (-0.0, "0"), (0.5, "0.5"), (123.456, "123.456"), (1e-7, "1e-7"), (0.000001, "0.000001"),
    (1e21, "1e+21"), (1.5e300, "1.5e+300"), (123456789012345680000.0, "123456789012345680000"),
    (2 ** 53, "9007199254740992"), (2 ** 60, "1152921504606847000"), (-2.5e-8, "-2.5e-8")])
def test_numbers_are_printed_as_javascript_prints_them(value, text):
    assert js_number(value) == text


def test_synth_with_the_direct_engine_never_loads_cdktf_or_jsii(tmp_path):
    code = ("import sys; from compiler.cli import main; "
            f"rc = main(['synth', 'routes.yaml', '--engine', 'direct', '--out', {str(tmp_path / 'out')!r}]); "
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'cdktf', 'constructs', 'jsii', 'cdktf_cdktf_provider_aws'}); print(rc, heavy)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.stdout.strip() == "0 []", result.stderr
    assert (tmp_path / "out" / "stacks" / "routes" / "cdk.tf.json").is_file()
    assert (tmp_path / "out" / "manifest.json").is_file()
