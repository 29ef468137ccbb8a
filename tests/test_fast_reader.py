"""The fast reader (libyaml's events into our strict composer) reads exactly what PyYAML's path reads.

Every file it accepts must give the same data, the same scalar kinds and texts, and the same positions: diagnostics
are placed from whichever read the file (compiler.language._compile reads it once), so they never depend on the
parser. A file the fast reader declines is still compared: what `load_text(fast=True)` returns for it must be the
exact reader's answer in full, the exact reader must have met the same kind of trouble that made the fast reader
decline (a refused character, an anchor, a syntax error, ...), and whatever libyaml does read of it must be the same
data. Held over the examples, the diagnostics corpus, generated documents and generated YAML of every syntax,
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


def _libyaml(text: str) -> tuple:
    """What libyaml's path alone makes of text, without load_text's guards and fallback:
    ("refused", code) from the strict composer, ("syntax", error) from libyaml, ("empty",), or
    ("read", data, source, problems, empty_plain_paths)."""
    reader = loader._FastStrictLoader(text)
    try:
        root = reader.get_single_node()
    except loader._Refused as refused:
        return ("refused", refused.code)
    except yaml.YAMLError as error:  # libyaml's scanner, parser, composer or reader
        return ("syntax", type(error).__name__)
    finally:
        reader.dispose()
    if root is None:
        return ("empty",)
    for node in loader._scalars(root):
        if node.style == "":  # libyaml's plain style; PyYAML's is None
            node.style = None
    problems: list = []
    source = loader.SourceMap()
    data = loader._Converter(loader.Lines(text), source, problems).convert(root, ())
    empty_plain = {path for path, scalar in source.scalars.items() if scalar.text == "" and not scalar.quoted}
    return ("read", data, source, problems, empty_plain)


def _agree(text: str) -> str:
    """Compare the two readers on text in every detail both can be compared on. Returns "fast" when the fast reader
    read it, else the reason it declined; fails when the reason is not one the exact reader confirms."""
    fast, fast_problems = loader.load_text(text, fast=True)
    exact, exact_problems = loader.load_text(text)
    if fast is not None and fast.fast:
        assert exact is not None and (fast_problems, exact_problems) == ([], [])
        assert fast.data == exact.data
        assert fast.source.values == exact.source.values
        assert fast.source.keys == exact.source.keys
        assert fast.source.scalars == exact.source.scalars
        return "fast"
    # Declined: the caller gets the exact reader's answer, every diagnostic and position included.
    assert exact is None or not exact.fast
    assert (fast, fast_problems) == (exact, exact_problems)
    codes = {p.code for p in exact_problems}
    text = text.removeprefix("\ufeff")
    if "\x00" in text or loader._RAW_REFUSED.search(text):
        assert exact is None and codes & {"E100", "E107"}, exact_problems  # the character is reported
        return "refused character"
    if "\t" in text or "\ufeff" in text:  # libyaml is not asked (loader._fast_eligible): it reads these otherwise
        assert not loader._fast_eligible(text)
        return "tab or U+FEFF"
    outcome = _libyaml(text)
    if outcome[0] == "refused":  # an anchor, a tag, nesting too deep: the exact reader refuses it with that code
        assert exact is None and outcome[1] in codes, (outcome, exact_problems)
        return "refused " + outcome[1]
    if outcome[0] == "syntax":  # libyaml cannot parse it: the exact reader reports a syntax or character error
        assert exact is None and codes and codes <= {"E101", "E107"}, (outcome, exact_problems)
        return "syntax"
    if outcome[0] == "empty":
        assert exact is None and codes == {"E100"}, exact_problems
        return "empty"
    _, data, source, problems, empty_plain = outcome
    if problems:  # a duplicate key, a non-string key: the same diagnostics, at the same positions
        assert exact is None and problems == exact_problems
        return "problems"
    # An empty plain value, which libyaml marks a column later: everything else is the same.
    assert empty_plain, "the fast reader declined a file it reads without any problem"
    assert exact is not None and exact_problems == []
    assert data == exact.data and source.scalars == exact.source.scalars and source.keys == exact.source.keys
    assert {p: v for p, v in source.values.items() if p not in empty_plain} == \
        {p: v for p, v in exact.source.values.items() if p not in empty_plain}
    return "empty value"


@pytest.mark.parametrize("path", EXAMPLES + CORPUS, ids=lambda p: p.stem)
def test_fast_and_exact_readers_agree(path: pathlib.Path):
    assert _agree(path.read_text())


def test_the_fast_reader_is_used_for_the_examples():
    assert {path.name: _agree(path.read_text()) for path in EXAMPLES} == {path.name: "fast" for path in EXAMPLES}


# Why the fast reader declines these corpus files; it reads every other one, and each is compared above either way.
DECLINED = {
    "empty": ["comment-only", "empty"],
    "empty value": ["attribute-booleans", "environments"],  # libyaml marks an empty value a column later
    "problems": ["duplicate-key", "non-string-keys"],
    "refused E103": ["anchors"], "refused E104": ["tags"], "refused E106": ["deep-nesting"],
    "refused character": ["characters-raw", "control-character"],
    "syntax": ["characters-escaped", "escape-out-of-range", "syntax-error", "two-documents", "yaml-colon-in-value",
               "yaml-dash-among-keys", "yaml-item-key-misaligned", "yaml-key-too-deep", "yaml-key-too-shallow",
               "yaml-list-item-misaligned", "yaml-missing-colon", "yaml-no-space-after-colon", "yaml-unclosed-quote"],
    "tab or U+FEFF": ["yaml-tab-indent"],
}


def test_the_fast_reader_declines_only_the_corpus_files_it_must():
    declined: dict[str, list[str]] = {}
    for path in CORPUS:
        reason = _agree(path.read_text())
        if reason != "fast":
            declined.setdefault(reason, []).append(path.stem)
    assert declined == DECLINED


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
    assert _agree(text) == "fast"
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
    assert _agree("\n".join(pieces) + end)


def test_non_ascii_files_are_read_fast():
    bundled = (ROOT / "routes.yaml").read_text()
    text = bundled.replace("  description: Public entry to the raft cluster\n", "  description: entrée du réseau 😀\n")
    assert text != bundled and _agree(text) == "fast"


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
