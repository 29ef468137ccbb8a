"""Property: every VALID routes.yaml, hostile strings included, keeps `check`'s promise.

Hypothesis builds documents that the language accepts (valid by construction, so a rejection is a failure, not
a skipped example), with hostile text in every free-text field: Terraform's `${`/`%{` sequences, their escaped
forms, quotes, backslashes and non-ASCII. For each: check finds no error, every Terraform address is unique,
the Terraform JSON holds every user string as a literal (escaped so Terraform evaluates it back to exactly the
user's text), and, for a sample, `terraform validate` accepts it against the real provider schema.
"""

from __future__ import annotations

import json

import yaml
from hypothesis import HealthCheck, given, settings

from compiler.core.diagnostics import render_text
from compiler.language import compile_stacks_text, compile_text
from compiler.terraform.plan import build, tf_literal

from .aws_scopes import ambiguous_namespaces, shared_names
from .strategies import documents, environment_documents
from .terraform import validate_together


def user_strings(doc: dict) -> list[str]:
    """The free text that must reach Terraform as written (filters travel percent-encoded in the URI)."""
    out = [doc["api"]["description"], doc["namespace"]["description"], doc["services"]["app"]["description"],
           *doc["api"]["cors"]["allow_headers"], *doc["authorizers"]["tokens"]["audiences"]]
    for route in doc["routes"]:
        out += route.get("scopes", [])
    for instance in doc["services"]["app"].get("instances", []):
        out += [*instance["attributes"], *instance["attributes"].values()]
    for route in doc["routes"]:  # a fan-out's filter reaches its function as JSON text (FILTER)
        if "fan_out" in route:
            out.append(json.dumps(dict(sorted(route.get("filter", {}).items())), separators=(",", ":")))
    if "custom_domain" in doc["api"]:
        out.append(doc["api"]["custom_domain"]["mutual_tls"]["truststore_version"])
    stage = doc["api"].get("overrides", {}).get("stage", {})  # overrides: arguments and map values alike
    out += [stage["description"], *stage["stage_variables"].values()] if stage else []
    for route in doc["routes"]:
        integration = route.get("overrides", {}).get("integration", {})
        out += [integration["description"], *integration["request_parameters"].values()] if integration else []
    return out


def leaves(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {s for v in value.values() for s in leaves(v)}
    if isinstance(value, list):
        return {s for v in value for s in leaves(v)}
    return {value} if isinstance(value, str) else set()


def compile_valid(doc: dict):
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    model, diagnostics = compile_text(text)
    assert model is not None, text + "\n" + render_text(diagnostics)
    return model


def terraform_json(model) -> dict:
    from compiler.terraform.direct import document
    return document(build(model), "routes")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_valid_documents_compile_with_unique_addresses_and_literal_strings(doc):
    model = compile_valid(doc)
    plan = build(model)
    addresses = [b.address for b in plan.blocks]
    assert len(addresses) == len(set(addresses))
    written = leaves(terraform_json(model))
    for text in user_strings(doc):
        assert tf_literal(text) in written, text


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(environment_documents())
def test_valid_documents_with_environments_give_no_two_stacks_one_name_aws_keeps_unique(doc):
    from compiler.terraform.direct import document
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    stacks, diagnostics = compile_stacks_text(text)
    assert stacks is not None, text + "\n" + render_text(diagnostics)
    documents_ = {name: document(build(model, stack=name), name) for name, model in stacks}
    assert shared_names(documents_) == [], text
    # Namespaces of one name that two stacks may both see are warned about (once, at the later environment), and
    # only those.
    warned = {d.message.split(" both create")[0].rsplit(" and ", 1)[1] for d in diagnostics if d.code == "W408"}
    assert warned == {later for _, later, _ in ambiguous_namespaces(documents_)}, text
    for name, model in stacks:  # and each stack keeps what a stack must: unique addresses, literal strings
        addresses = [b.address for b in build(model, stack=name).blocks]
        assert len(addresses) == len(set(addresses))
        assert tf_literal(model.api.description) in leaves(documents_[name])


VALIDATE_SAMPLE = 8  # validated together in one Terraform run; the whole property above runs without Terraform


def test_a_sample_of_valid_documents_passes_terraform_validate(tmp_path_factory, tf_env):
    """Each sampled document a module of one configuration, all validated in one Terraform run."""
    workdir = tmp_path_factory.mktemp("validate")
    seen: list[dict] = []

    @settings(max_examples=VALIDATE_SAMPLE, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(documents())
    def collect(doc):
        seen.append(doc)

    collect()
    modules = {}
    for i, doc in enumerate(seen):
        (workdir / f"doc{i}").mkdir()
        (workdir / f"doc{i}" / "cdk.tf.json").write_text(json.dumps(terraform_json(compile_valid(doc))))
        modules[f"doc{i}"] = workdir / f"doc{i}"
    diagnostics = validate_together(workdir, tf_env, modules)
    assert diagnostics[None] == []
    for i, doc in enumerate(seen):  # valid, and no warning
        assert diagnostics[f"doc{i}"] == [], (yaml.safe_dump(doc), diagnostics[f"doc{i}"])
