"""Property: arbitrary text and arbitrary YAML documents only ever produce our diagnostics, never a traceback."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import compile_text
from compiler.diagnostics import CODES, Diagnostic
from compiler.loader import decode, load_text

from .conftest import ROOT

BUNDLED = (ROOT / "routes.yaml").read_text()
KEYS = ["version", "api", "name", "stage", "routes", "route", "service", "services", "filter", "leader",
        "namespace", "type", "instances", "id", "ipv4", "port", "attributes", "dns_records", "health_check",
        "vpc_link", "subnet_ids", "security_group_ids", "authorizers", "authorization", "public", "timeout_ms"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                    st.text(max_size=30), st.sampled_from(["GET /", "GET /leader", "$default", "raft", "http",
                                                           "private_dns", "custom", "ecs", "10.0.0.1", "SRV"]))
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5),
    st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=10)), inner, max_size=6)), max_leaves=40)


def _assert_only_diagnostics(model, diagnostics):
    assert all(isinstance(d, Diagnostic) and d.code in CODES for d in diagnostics)
    assert (model is None) == any(d.severity == "error" for d in diagnostics)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_arbitrary_text(text):
    _assert_only_diagnostics(*compile_text(text))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes(raw):
    text, problems = decode(raw)
    if text is None:
        assert [d.code for d in problems] == ["E100"]
    else:
        _assert_only_diagnostics(*compile_text(text))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_arbitrary_yaml_documents(document):
    _assert_only_diagnostics(*compile_text(yaml.safe_dump(document)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(BUNDLED)), st.integers(0, 40), st.text(max_size=20))
def test_mutations_of_the_bundled_file(at, cut, insert):
    _assert_only_diagnostics(*compile_text(BUNDLED[:at] + insert + BUNDLED[at + cut:]))


def test_loader_keeps_positions_of_keys_and_values():
    document, problems = load_text("a:\n  b: [x, {c: 1}]\n")
    assert problems == []
    assert (document.source.key(("a", "b")).line, document.source.key(("a", "b")).col) == (2, 3)
    assert (document.source.value(("a", "b", 1, "c")).line, document.source.value(("a", "b", 1, "c")).col) == (2, 14)
