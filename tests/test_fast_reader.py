"""The fast reader (libyaml's events into our strict composer) reads exactly what PyYAML's path reads.

Every file it accepts must give the same data, the same scalar kinds and texts, and the same positions; every file
with anything to report is read again by PyYAML (compiler.language._compile), so diagnostics never depend on the parser.
"""

from __future__ import annotations

import pathlib

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

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
