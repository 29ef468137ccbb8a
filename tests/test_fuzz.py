"""Property: arbitrary text and arbitrary YAML documents only ever produce our diagnostics, never a traceback."""

from __future__ import annotations

import ipaddress
import re

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.core.diagnostics import CODES, Diagnostic
from compiler.language import compile_text, routekeys, rules, schema
from compiler.language.loader import Lines, decode, load_text

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


# --- positions: always inside the text as an editor shows it ------------------------------------------------

LAYOUT = list("ab:- {}[],'\"#&*!|>%@`\\\t\n\r") + ["\u2028", "\u2029", "\x85", "  ", "\n  ", "\n- "]


def _assert_positions_as_shown(text, diagnostics):
    lines = Lines(text.removeprefix("\ufeff"))
    for d in diagnostics:
        if d.line:  # 0: about the whole file
            assert 1 <= d.line <= len(lines), d
            assert 1 <= d.col <= len(lines[d.line]) + 1, d


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(LAYOUT), max_size=80).map("".join))
def test_positions_are_where_an_editor_shows_them(text):
    model, diagnostics = compile_text(text)
    _assert_only_diagnostics(model, diagnostics)
    _assert_positions_as_shown(text, diagnostics)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(BUNDLED)), st.sampled_from(["\u2028", "\u2029", "\x85"]))
def test_a_line_separator_anywhere_is_refused_where_it_is(at, separator):
    text = BUNDLED[:at] + separator + BUNDLED[at:]
    model, diagnostics = compile_text(text)
    assert model is None
    where = Lines(text).pos(at)
    assert [(d.line, d.col) for d in diagnostics if d.code == "E107"] == [(where.line, where.col)]
    _assert_positions_as_shown(text, diagnostics)


# --- characters: refused however they are written, and only those ------------------------------------------

REFUSED = st.one_of(st.integers(0x00, 0x08), st.integers(0x0A, 0x1F), st.integers(0x7F, 0x9F),
                    st.sampled_from([0x2028, 0x2029, 0xFFFE, 0xFFFF, 0x1FFFE, 0x10FFFF]), st.integers(0xD800, 0xDFFF),
                    st.integers(0xFDD0, 0xFDEF)).map(chr)


@settings(max_examples=200, deadline=None)
@given(REFUSED, st.sampled_from(["x", "u", "U"]))
def test_a_refused_character_written_as_an_escape_is_refused(char, kind):
    width = {"x": 2, "u": 4, "U": 8}[kind]
    if ord(char) >= 16 ** width:
        kind, width = "U", 8
    escape = f"\\{kind}{ord(char):0{width}X}"
    text = BUNDLED.replace("  name: raft-api", f'  name: "raft{escape}api"', 1)
    model, diagnostics = compile_text(text)
    assert model is None
    line = BUNDLED.splitlines().index("  name: raft-api") + 1
    assert [(d.line, d.col, d.code) for d in diagnostics if d.code == "E107"] == [(line, 14, "E107")]
    assert escape in diagnostics[0].message and f"U+{ord(char):04X}" in diagnostics[0].message


@settings(max_examples=200, deadline=None)
@given(st.characters(categories=["L", "M", "N", "P", "S", "Zs"]))
def test_printable_text_is_never_refused_as_a_character(char):
    text = BUNDLED.replace("  name: raft-api", f"  description: {yaml.safe_dump(f'a{char}b').split(chr(10))[0]}\n"
                           "  name: raft-api", 1)
    _, diagnostics = compile_text(text)
    assert "E107" not in {d.code for d in diagnostics}


# --- JSON-Schema-only patterns say what the validator says -------------------------------------------------

def _published(pattern: str, text: str) -> bool:
    return re.search(pattern, text) is not None  # jsonschema's reading of "pattern" (ECMA-262, unanchored)


ROUTE_PARTS = ["GET", "get", "ANY", "GETT", "POST", "PUT", " ", "/", "//", "{", "}", "+", "id", "x", "a.b", "{id}",
               "{id+}", "{proxy+}", "%", "$default", "-", "\t", "é", "~", "{a}", "{ab}", "*", "?", ".", "..", ":"]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(ROUTE_PARTS), max_size=10).map("".join))
def test_the_published_route_key_pattern_accepts_exactly_the_valid_route_keys(text):
    assert _published(schema.ROUTE_KEY, text) == (routekeys.parse_route_key(text)[0] is not None)


def test_the_published_route_key_pattern_limits_the_path_to_1000_characters():
    for length in (999, 1000, 1001):
        text = "GET /" + "a" * (length - 1)
        valid = routekeys.parse_route_key(text)[0] is not None
        assert _published(schema.ROUTE_KEY, text) == valid == (length <= 1000)


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


OCTETS = st.one_of(st.integers(0, 300).map(str),
                   st.sampled_from(["00", "01", "010", "", "a", "-1", " 1", "0x1", "1e1"]))


@settings(max_examples=1000, deadline=None)
@given(st.lists(OCTETS, min_size=1, max_size=5).map(".".join))
def test_the_published_ipv4_pattern_accepts_exactly_the_addresses_the_validator_does(text):
    assert _published(schema.IPV4, text) == _is_ipv4(text)


ATTRIBUTE_TEXT = st.lists(st.sampled_from(list("aZ09 \t!~_:-é") + ["AWS_", "aws_"]), max_size=8).map("".join)


@settings(max_examples=1000, deadline=None)
@given(ATTRIBUTE_TEXT)
def test_the_published_attribute_patterns_say_what_the_validator_says(text):
    key_ok = bool(rules.ATTR_KEY.match(text)) and not text.startswith("AWS_")
    assert _published(schema.ATTRIBUTE_KEY, text) == key_ok
    assert _published(schema.ATTRIBUTE_VALUE, text) == bool(rules.ATTR_VALUE.match(text))
