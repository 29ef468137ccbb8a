"""The diagnostics corpus: every file under tests/diagnostics is pinned to its exact rendered diagnostics.

Files named warnings-*.yaml must compile (warnings only); every other file must fail. The last test proves
that every documented code is produced by some input, so removing a rule breaks a test.
"""

from __future__ import annotations

import pathlib

import pytest

from compiler import compile_file, compile_text
from compiler.diagnostics import CODES, has_errors, render_text

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
        "routes.yaml:8:3: error E309: 301 routes; an HTTP API allows 300\n"
        "  hint: ask AWS for a higher 'Routes per API' quota, then split the file or raise the limit here"]


def test_more_than_300_integrations_is_refused():
    _, diagnostics = compile_text(generated_cases()["301 integrations"])
    assert [d.message for d in diagnostics if d.code == "E309" and "integrations" in d.message] == [
        "the routes need 301 distinct integrations; an HTTP API allows 300 and the quota cannot be raised"]


def test_integration_uri_longer_than_2048_is_refused():
    _, diagnostics = compile_text(generated_cases()["long uri"])
    assert [d.code for d in diagnostics if d.severity == "error"] == ["E309"]
    assert "2048" in diagnostics[0].message


def test_file_over_one_mebibyte_is_refused(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text(generated_cases()["too large"])
    _, diagnostics = compile_file(str(big))
    assert [(d.code, d.line) for d in diagnostics] == [("E100", 0)]
    assert "limit is 1048576" in diagnostics[0].message


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
