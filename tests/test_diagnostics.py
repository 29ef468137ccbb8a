"""The diagnostics corpus: every file under tests/diagnostics is pinned to its exact rendered diagnostics.

Files named warnings-*.yaml must compile (warnings only); every other file must fail. The last test proves
that every documented code is produced by some input, so removing a rule breaks a test.
"""

from __future__ import annotations

import json
import pathlib

import jsonschema
import pytest
import yaml

from compiler.core.diagnostics import CODES, has_errors, render_text
from compiler.language import compile_file, compile_text, spec
from compiler.language.loader import Lines, Pos, SourceMap, load_text
from compiler.language.schema import ROOT as LANGUAGE
from compiler.language.schema import List, Map, Obj

from .conftest import ROOT, pinned

CORPUS = sorted((ROOT / "tests" / "diagnostics").glob("*.yaml"))
BASE = """version: 1
api: {name: t}
vpc_link: {subnet_ids: [subnet-0a1b2c3d4e5f60718], security_group_ids: [sg-0c3d4e5f607182930]}
namespace: {type: http, name: t-ns}
services:
  app: {health_check: custom}
routes:
"""


def _compile(path: pathlib.Path):
    return compile_file(str(path.relative_to(ROOT)))


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_corpus_file_gives_its_pinned_diagnostics(path, update_snapshots, monkeypatch):
    monkeypatch.chdir(ROOT)
    model, diagnostics = _compile(path)
    pinned(path.with_suffix(".expected"), render_text(diagnostics) + "\n", update_snapshots)
    if path.stem.startswith("warnings-"):
        assert model is not None and not has_errors(diagnostics)
    else:
        assert model is None and has_errors(diagnostics)


def generated_cases() -> dict[str, str]:
    routes = "".join(f"  - {{route: GET /r{i}, service: app, public: true}}\n" for i in range(301))
    integrations = "".join(f"  - {{route: GET /r{i}, service: app, public: true, filter: {{n: '{i}'}}}}\n"
                           for i in range(301))
    long_filter = f"  - {{route: GET /, service: app, public: true, filter: {{k: '{'v' * 1000}', j: '{'w' * 1000}'}}}}\n"
    return {"301 routes": BASE + routes, "301 integrations": BASE + integrations, "long uri": BASE + long_filter,
            "too large": BASE + "# " + "x" * (1024 * 1024) + "\n"}


def test_more_than_300_routes_is_refused():
    _, diagnostics = compile_text(generated_cases()["301 routes"])
    assert [d.render() for d in diagnostics if d.code == "E309"] == [
        "routes.yaml:8:3: error E309: 301 routes need 301 integrations; an HTTP API allows 300 and that quota "
        "cannot be raised\n  hint: split the routes over two APIs; the routes after the 300th were not checked",
        "routes.yaml:8:3: error E309: 301 routes; an HTTP API allows 300\n"
        "  hint: ask AWS for a higher 'Routes per API' quota, then split the file or raise the limit here; the routes "
        "after the 300th were not checked"]


def test_more_than_300_integrations_is_refused():
    _, diagnostics = compile_text(generated_cases()["301 integrations"])
    assert [d.message for d in diagnostics if d.code == "E309" and "integrations" in d.message] == [
        "301 routes need 301 integrations; an HTTP API allows 300 and that quota cannot be raised"]


def test_integration_uri_longer_than_2048_is_refused():
    _, diagnostics = compile_text(generated_cases()["long uri"])
    assert [d.code for d in diagnostics if d.severity == "error"] == ["E309"]
    assert "2048" in diagnostics[0].message


def test_file_over_one_mebibyte_is_refused_with_its_real_size(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text(generated_cases()["too large"])
    size = big.stat().st_size
    _, diagnostics = compile_file(str(big))
    assert [(d.code, d.line) for d in diagnostics] == [("E100", 0)]
    assert diagnostics[0].message == f"the file is {size:,} bytes; the limit is 1,048,576 bytes (1 MiB)"
    assert size > 1024 * 1024 + 1  # so the size read from the file cannot be mistaken for the bytes read


def test_every_documented_code_is_produced_by_some_input(monkeypatch):
    monkeypatch.chdir(ROOT)
    seen = set()
    for path in CORPUS:
        seen |= {d.code for d in _compile(path)[1]}
    for text in generated_cases().values():
        seen |= {d.code for d in compile_text(text)[1]}
    assert sorted(set(CODES) - seen) == []
    assert sorted(seen - set(CODES)) == []


def test_rendering_names_file_line_column_code_and_hint():
    _, diagnostics = compile_text(BASE + "  - {route: GET /, service: ap, public: true}\n", "my.yaml")
    assert diagnostics[0].render() == ("my.yaml:8:29: error E302: service 'ap' is not declared under services\n"
                                       "  hint: did you mean 'app'?")


# --- positions as an editor shows them ------------------------------------------------------------------

def test_positions_count_only_the_line_breaks_an_editor_shows():
    text = 'a: "1\u2028x"\nb: 2\r\nc: 3\rd: "4\x85e"\n'
    lines = Lines(text)
    key_b = yaml.compose(text).value[1][0]
    assert (key_b.start_mark.line + 1, key_b.start_mark.column + 1) == (3, 1)  # YAML 1.1 breaks lines at U+2028
    assert lines.at(key_b.start_mark) == Pos(2, 1)  # an editor does not
    assert [lines.pos(text.index(c)) for c in "bcde"] == [Pos(2, 1), Pos(3, 1), Pos(4, 1), Pos(4, 7)]
    assert [lines[n] for n in range(1, 5)] == ['a: "1\u2028x"', "b: 2", "c: 3", 'd: "4\x85e"']


def test_text_after_a_line_separator_in_a_comment_is_not_read():
    # YAML 1.1 ends the comment at U+2028, so PyYAML alone would read a second `services:` nobody sees in an editor
    # (and report it as a duplicate key). The file is read as shown: one refused character, nothing else.
    text = BASE + "  - {route: GET /, service: app, public: true}\n# the end\u2028services: {}\n"
    _, diagnostics = compile_text(text)
    assert [(d.line, d.col, d.code) for d in diagnostics] == [(9, 10, "E107")]


def test_an_undecodable_byte_is_placed_in_characters_not_bytes(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_bytes("\ufeffversion: 1\napi: {name: \"caf\u00e9 caf".encode() + b"\xe9\"}\n")
    _, diagnostics = compile_file(str(path))
    assert [(d.line, d.col, d.message) for d in diagnostics] == [(2, 22, "byte 0xe9 is not valid UTF-8")]


# --- hints that show a minimal valid document --------------------------------------------------------------

def _objects(t, seen=None):
    """Every object type of the language, depth first."""
    seen = [] if seen is None else seen
    if isinstance(t, Obj) and t not in seen:
        seen.append(t)
        for field in t.fields.values():
            _objects(field.type, seen)
    elif isinstance(t, List):
        _objects(t.item, seen)
    elif isinstance(t, Map):
        _objects(t.values, seen)
    return seen


@pytest.mark.parametrize("index", range(len(_objects(LANGUAGE))))
def test_the_example_in_a_hint_is_valid_for_its_object(index):
    """The E201/E202 hints show spec.example(type) in flow style; it must be what the schema accepts."""
    t = _objects(LANGUAGE)[index]
    shape = spec.example(t)
    assert yaml.safe_load(spec.flow(shape)) == shape
    problems = []
    spec._check(t, shape, (), SourceMap(), problems)
    assert problems == []


def test_a_missing_required_mapping_hint_lists_its_required_keys():
    document, _ = load_text("version: 1\napi: {name: t}\nservices: {}\nroutes: [{route: GET /, service: app}]\n")
    _, problems = spec.check(document)
    assert [(p.code, p.message, p.hint) for p in problems] == [
        ("E202", "the document is missing the required key 'vpc_link'",
         "add it, for example: vpc_link: {subnet_ids: [subnet-0123456789abcdef0], "
         "security_group_ids: [sg-0123456789abcdef0]}")]


# --- the published JSON Schema catches the common mistakes, as check does ------------------------------------

VALID = """version: 1
api: {name: raft-api}
vpc_link: {subnet_ids: [subnet-0a1b2c3d4e5f60718], security_group_ids: [sg-0c3d4e5f607182930]}
namespace: {type: http, name: raft}
services:
  raft:
    health_check: custom
    instances:
      - {id: node-1, ipv4: 10.0.1.10, port: 8080, attributes: {leader: "true"}}
authorizers:
  operators: {type: jwt, issuer: "https://issuer.example.com", audiences: [raft-admin]}
routes:
  - {route: GET /leader, service: raft, filter: {leader: "true"}, authorization: operators, timeout_ms: 5000}
"""
# (mistake, text in VALID, what a newcomer writes instead). The first four were the only ones the schema caught.
COMMON_MISTAKES = [
    ("misspelt key", "service: raft, filter", "servce: raft, filter"),
    ("subnet name instead of id", "subnet-0a1b2c3d4e5f60718", "subnet-private-a"),
    ("timeout in seconds' worth of ms", "timeout_ms: 5000", "timeout_ms: 60000"),
    ("capitalised choice", "health_check: custom", "health_check: Custom"),
    ("path without its slash", "route: GET /leader", "route: GET leader"),
    ("misspelt method", "route: GET /leader", "route: GETT /leader"),
    ("trailing slash", "route: GET /leader", "route: GET /leader/"),
    ("IPv4 octet over 255", "ipv4: 10.0.1.10", "ipv4: 10.0.1.300"),
    ("JWT issuer over http", '"https://issuer.example.com"', '"http://issuer.example.com"'),
    ("filter on an attribute AWS reserves", 'filter: {leader: "true"}', "filter: {AWS_INSTANCE_IPV4: 10.0.1.10}"),
]


def _schema_errors(text: str) -> list[str]:
    schema = json.loads((ROOT / "routes.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    return [error.message for error in validator.iter_errors(yaml.safe_load(text))]


def test_the_common_mistakes_start_from_a_document_both_accept():
    model, diagnostics = compile_text(VALID)
    assert model is not None and not has_errors(diagnostics)
    assert _schema_errors(VALID) == []


@pytest.mark.parametrize("mistake, right, wrong", COMMON_MISTAKES, ids=[m[0] for m in COMMON_MISTAKES])
def test_the_published_schema_and_check_both_reject_a_common_mistake(mistake, right, wrong):
    assert VALID.count(right) == 1
    text = VALID.replace(right, wrong)
    assert _schema_errors(text), f"an editor would accept: {mistake}"
    model, diagnostics = compile_text(text)
    assert model is None and has_errors(diagnostics), f"check would accept: {mistake}"


def test_check_keeps_its_precise_message_where_the_schema_has_a_pattern():
    """Route keys and addresses are JSON-Schema-only patterns: check still explains them (E300, E308), once."""
    cases = {"route: GETT /leader": ("E300", "unknown method 'GETT'"),
             "ipv4: 10.0.1.300": ("E308", "'10.0.1.300' is not an IPv4 address"),
             "filter: {AWS_INSTANCE_IPV4: 10.0.1.10}": ("E305", "filter key 'AWS_INSTANCE_IPV4' is reserved by AWS")}
    for wrong, expected in cases.items():
        right = next(r for _, r, w in COMMON_MISTAKES if w == wrong)
        _, diagnostics = compile_text(VALID.replace(right, wrong))
        assert [(d.code, d.message) for d in diagnostics if d.severity == "error"] == [expected]
