"""The benchmark inputs are what BENCHMARKS.md says they are (no timing here: figures live in the benchmark)."""

from __future__ import annotations

from benchmarks.generate import routes_yaml
from compiler.language import compile_text


def test_generated_files_compile_up_to_the_quota_and_are_refused_beyond_it():
    for count in (10, 100, 300):
        model, diagnostics = compile_text(routes_yaml(count))
        assert model is not None and len(model.routes) == count, diagnostics
    model, diagnostics = compile_text(routes_yaml(1000))
    assert model is None
    # Refused by the HTTP API's quotas (routes, and with one integration per route, integrations too).
    assert "1000 routes; an HTTP API allows 300" in [d.message for d in diagnostics if d.code == "E309"]


def test_generated_files_plan_one_integration_per_route_a_third_of_them_filtered():
    from compiler.terraform.plan import build
    plan = build(compile_text(routes_yaml(300))[0])
    integrations = plan.of_type("aws_apigatewayv2_integration")
    assert len(integrations) == len(plan.of_type("aws_apigatewayv2_route")) == 300
    assert sum("?" in str(i.args["integration_uri"]) for i in integrations) == 100


def test_the_warned_file_has_exactly_one_warning_and_the_largest_file_fits_the_size_limit():
    from compiler.language.loader import MAX_BYTES
    model, diagnostics = compile_text(routes_yaml(300, warnings=1))
    assert model is not None and [d.code for d in diagnostics] == ["W404"]
    assert len(routes_yaml(10_000).encode()) < MAX_BYTES
