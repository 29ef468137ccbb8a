"""The benchmark inputs are what BENCHMARKS.md says they are (no timing here: figures live in the benchmark)."""

from __future__ import annotations

from benchmarks.generate import routes_yaml
from compiler import compile_text


def test_generated_files_compile_up_to_the_quota_and_are_refused_beyond_it():
    for count in (10, 100, 300):
        model, diagnostics = compile_text(routes_yaml(count))
        assert model is not None and len(model.routes) == count, diagnostics
    model, diagnostics = compile_text(routes_yaml(1000))
    assert model is None
    # 1000 routes over 4 services, a third filtered on 50 shards: at most 4 + 200 integrations, so only the
    # route quota refuses it.
    assert [d.message for d in diagnostics if d.code == "E309"] == ["1000 routes; an HTTP API allows 300"]


def test_generated_files_share_integrations_as_real_files_do():
    from compiler.plan import group_integrations
    model, _ = compile_text(routes_yaml(300))
    assert len({i.name for i in group_integrations(model).values()}) < len(model.routes)
