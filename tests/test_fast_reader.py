"""The fast reader (libyaml's events into our strict composer) reads exactly what PyYAML's path reads.

Every file it accepts must give the same data, the same scalar kinds and texts, and the same positions: diagnostics
are placed from whichever read the file (compiler.language._compile reads it once), so they never depend on the
parser. Held over the examples, the diagnostics corpus, generated documents and generated YAML of every syntax,
non-ASCII text included.
"""

from __future__ import annotations

import pathlib

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.language import compile_text, loader

from .conftest import EXAMPLES, ROOT
from .strategies import documents


def _utf8(path: pathlib.Path) -> bool:
    try:
        path.read_text()
    except UnicodeDecodeError:  # refused by the decoder before either reader sees it
        return False
    return True


CORPUS = [p for p in sorted((ROOT / "tests" / "diagnostics").glob("*.yaml")) if _utf8(p)]
pytestmark = pytest.mark.skipif(not loader.FAST, reason="PyYAML was built without libyaml")


def _same(text: str) -> bool:
    """True when the fast path read the text; then it must equal the exact path in every detail."""
    fast, _ = loader.load_text(text, fast=True)
    exact, _ = loader.load_text(text)
    if fast is None or not fast.fast:
        return False
    assert exact is not None
    assert fast.data == exact.data
    assert fast.source.values == exact.source.values
    assert fast.source.keys == exact.source.keys
    assert fast.source.scalars == exact.source.scalars
    return True


@pytest.mark.parametrize("path", EXAMPLES + CORPUS, ids=lambda p: p.stem)
def test_fast_and_exact_readers_agree(path: pathlib.Path):
    _same(path.read_text())


def test_the_fast_reader_is_used_for_the_examples():
    assert all(_same(path.read_text()) for path in EXAMPLES)


@pytest.mark.parametrize("text", ["a: &x 1\nb: *x\n", "a: !!python/object:os.system x\n", "a:\n" + "  - " * 70 + "x\n",
                                  "a: 1\na: 2\n", "a: [1,\n"])
def test_what_the_strict_composer_refuses_falls_back_to_the_exact_reader(text):
    fast, fast_problems = loader.load_text(text, fast=True)
    exact, exact_problems = loader.load_text(text)
    assert fast is None and exact is None
    assert fast_problems == exact_problems and fast_problems


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_documents_read_the_same_and_compile_the_same(doc):
    text = yaml.safe_dump(doc, sort_keys=False)
    _same(text)
    assert compile_text(text) == compile_text(text)


# Pieces of YAML of every kind a person writes (block and flow collections, every scalar style, comments, tags the
# reader accepts, explicit keys, document markers, CRLF and CR line ends, long keys, non-ASCII of every width).
PIECES = ["a: b", "- x", "-  y", "- - z", "? k\n: v", "'q'", '"d\\tq"', "[a, b]", "{a: b}", "[\n  a,\n  b\n]",
          "{a: 1,\n b: 2}", "|\n  t\n", ">-\n  t\n  u\n", "!!str 1", "! x", "~", "k: null", "''", '""',
          "x # c", "k: 'it''s'", "k:  v", "k:\tv", "k: v\t", "k: [a,b,]", "k: {a: [1, {b: c}]}", "k: a:b", "k: a#b",
          "k: -1", "k: 0x1F", "k: 1e3", "k: .inf", "k: 2001-01-01", '"k": v', "'k': v", "k: >\n\n  folded\n",
          "k: |+\n  keep\n\n", "k:\n- a\n- b", "k:\n  - a\n  -\n    b: c", "k: !!map {a: b}", "k: !!seq [a]",
          "- {a: b}\n- [c]", "k: 'multi\n  line'", 'k: "multi\n  line"', "k: plain\n  continued", "? [a]\n: b",
          "k: v\r\nj: w", "k: v\rj: w", "---\nk: v\n...", "%YAML 1.1\n---\nk: v", "k: " + "x" * 1100,
          "k" * 1030 + ": v", "[a]: b", "k: [a: b]", "k: {? a}", "k: {a, b}", "k: [a, b: c]", "- a\n-\n- b",
          "k: -", "k: ?", "k: :", "k: `a`", "k: @a", "- ? a\n  : b", "\n\nk: v\n\n", "k:     # c\n  v",
          "a: é", "é: b", "- ü x", "k: 'ß q'", 'k: "→ \\u00e9"', "k: [é, ö]", "k: {é: ö}", "k: |\n  日本\n",
          "k: >\n  😀 x\n  y\n", "# комментарий", "k: v # ß", "😀: v", "k: plain 😀\n  more", "k: '😀😀'",
          'k: "\\U0001F600"', "k: \u00a0x", "k: \u3000", "\ufeffk: v", "k: \ufeffv"]


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=5), st.sampled_from(["", "\n", "\r\n"]))
def test_generated_yaml_of_every_syntax_reads_the_same_through_either_reader(pieces, end):
    _same("\n".join(pieces) + end)


def test_non_ascii_files_are_read_fast():
    bundled = (ROOT / "routes.yaml").read_text()
    text = bundled.replace("  description: Public entry to the raft cluster\n", "  description: entrée du réseau 😀\n")
    assert text != bundled and _same(text)


def test_a_diagnostic_is_placed_without_reading_the_file_again(monkeypatch):
    created, exact = [], loader._StrictLoader
    monkeypatch.setattr(loader, "_StrictLoader", lambda *args: created.append(args) or exact(*args))
    bundled = (ROOT / "routes.yaml").read_text()
    text = bundled.replace("  default_authorization: operators", "  default_authorization: none")  # W404
    assert text != bundled
    model, diagnostics = compile_text(text)
    assert model is not None and [d.code for d in diagnostics] == ["W404"]
    assert created == []  # PyYAML's reader never ran


def test_a_file_over_the_route_quota_is_read_up_to_it_and_refused_with_its_real_count():
    from benchmarks.generate import routes_yaml
    text = routes_yaml(10_000).replace("  default_authorization: operators\n", "  default_authorization: operators\n"
                                       "  stagee: x\n")  # a document-level error: still reported
    for fast in (True, False):
        document, _ = loader.load_text(text, fast=fast)
        assert document.routes_total == 10_000 and len(document.data["routes"]) == loader.ROUTE_QUOTA
    model, diagnostics = compile_text(text)
    line = text.splitlines().index("routes:") + 2
    assert model is None and [(d.line, d.code, d.message) for d in diagnostics if d.code != "W402"] == [
        (6, "E200", "unknown key 'stagee' in api"),
        (line, "E309", "10000 routes need 10000 integrations; an HTTP API allows 300 and that quota cannot be raised"),
        (line, "E309", "10000 routes; an HTTP API allows 300")]


def test_routes_left_unread_are_still_refused_for_anchors_tags_and_nesting():
    from benchmarks.generate import routes_yaml
    text = routes_yaml(400)
    head, tail = text.split("  - route: GET /raft/r360\n")  # route 361: past the 300th
    for bad, code in (("service: &s raft", "E103"), ("service: !!python/name:os.system x", "E104"),
                      ("service: " + "[" * 70 + "]" * 70, "E106")):
        broken = head + "  - route: GET /raft/r360\n" + tail.replace("service: raft\n", bad + "\n", 1)
        assert [d.code for d in compile_text(broken)[1]] == [code], bad
