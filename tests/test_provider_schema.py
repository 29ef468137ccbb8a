"""The shipped provider schema (compiler/terraform/provider_schema.json) is the pinned provider's, for exactly the
types this tool emits: regenerated here with real terraform from the mirror's hashicorp/aws and compared byte for
byte, and read back the way the override validator reads it."""

from __future__ import annotations

import json

import pytest

from compiler.terraform import catalogue, provider_schema
from compiler.terraform.direct import PROVIDER

from .terraform import available, terraform_env


def stored() -> dict:
    return json.loads(provider_schema.FILE.read_text(encoding="utf-8"))


def test_it_holds_exactly_the_types_the_catalogue_lists():
    data = stored()
    assert {(mode, name) for mode in ("managed", "data") for name in data[mode]} == set(catalogue.TYPES)


def test_it_is_the_version_the_bindings_and_the_generated_json_pin():
    assert stored()["version"] == provider_schema.VERSION == PROVIDER["aws"]["version"]
    assert stored()["source"] == "registry.terraform.io/hashicorp/aws"


def test_it_keeps_only_what_validation_needs():
    """Types, flags and nesting: no descriptions, no deprecation notes, nothing else of the provider's 13 MB."""
    def walk(block: dict):
        assert set(block) == {"attributes", "blocks"}
        for attribute in block["attributes"].values():
            assert set(attribute) <= {"type", "required", "optional", "computed"} and "type" in attribute
        for nested in block["blocks"].values():
            assert set(nested) <= {"nesting", "block", "min_items", "max_items"}
            walk(nested["block"])
    for mode in ("managed", "data"):
        for block in stored()[mode].values():
            walk(block)
    assert provider_schema.FILE.stat().st_size < 100_000


def test_reading_it_gives_nesting_bounds_and_computed_attributes():
    stage = provider_schema.of("aws_apigatewayv2_stage")
    assert stage.blocks["default_route_settings"].single and stage.blocks["default_route_settings"].nesting == "list"
    assert not stage.blocks["route_settings"].single and stage.blocks["route_settings"].nesting == "set"
    assert stage.attributes["invoke_url"].computed_only
    assert not stage.attributes["deployment_id"].computed_only  # optional and computed: an argument
    assert stage.attributes["stage_variables"].type == ["map", "string"]
    route = provider_schema.of("aws_apigatewayv2_route")
    assert route.blocks["request_parameter"].block.attributes["required"].type == "bool"
    with pytest.raises(KeyError):
        provider_schema.of("aws_ecs_service")


def test_compact_refuses_a_provider_that_lacks_a_type():
    full = {"provider_schemas": {provider_schema.SOURCE: {"resource_schemas": {}, "data_source_schemas": {}}}}
    with pytest.raises(provider_schema.SchemaError, match="has no (managed|data) type"):
        provider_schema.compact(full)


def test_compact_refuses_a_nested_attribute_it_cannot_read_yet():
    block = {"attributes": {"x": {"nested_type": {"attributes": {}}, "optional": True}}}
    with pytest.raises(provider_schema.SchemaError, match="nested_type"):
        provider_schema.compact_block(block)


@pytest.mark.terraform
@pytest.mark.skipif(not available(), reason="terraform is not on PATH (README: Terraform is required)")
def test_regenerating_from_the_mirrors_provider_gives_the_shipped_file(tmp_path):
    compacted = provider_schema.generate(tmp_path, terraform_env(tmp_path))
    assert provider_schema.render(compacted) == provider_schema.FILE.read_text(encoding="utf-8"), (
        "the shipped schema is stale: run python -m compiler.terraform.provider_schema --write")
