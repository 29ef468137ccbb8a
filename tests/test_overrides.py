"""`overrides:`: raw Terraform arguments checked against the pinned provider's schema (every refusal, each at its
line and column), merged into what the plan emits, escaped like every other string, and overridden by
environments as JSON Merge Patch."""

from __future__ import annotations

import json
import textwrap

import pytest

from compiler.core.diagnostics import render_text
from compiler.language import compile_stacks_text, compile_text
from compiler.terraform import catalogue, overrides, provider_schema
from compiler.terraform.overrides import _scalar_problem
from compiler.terraform.plan import build, terraform_value

from .synthesis import resources, synth_json

OWNERS = {  # where each owner's override is written in DOC, and the Terraform address it reaches
    "api": ("api.overrides.api", "aws_apigatewayv2_api.api"),
    "stage": ("api.overrides.stage", "aws_apigatewayv2_stage.stage"),
    "vpc_link": ("vpc_link.overrides", "aws_apigatewayv2_vpc_link.vpc_link"),
    "service": ("services.app.overrides", "aws_service_discovery_service.app"),
    "authorizer": ("authorizers.tokens.overrides", "aws_apigatewayv2_authorizer.tokens"),
    "route": ("routes[0].overrides.route", "aws_apigatewayv2_route.get_root"),
    "integration": ("routes[0].overrides.integration", "aws_apigatewayv2_integration.get_root"),
}


def doc(**owned: str) -> str:
    """A valid document with a named stage and stage throttling, and each owner's override (YAML text) in place."""
    def block(owner: str, indent: int) -> str:
        text = owned.get(owner)
        return textwrap.indent(textwrap.dedent(text).strip("\n"), " " * indent) + "\n" if text else ""

    api_overrides = ("  overrides:\n" + (("    api:\n" + block("api", 6)) if "api" in owned else "")
                     + (("    stage:\n" + block("stage", 6)) if "stage" in owned else "")
                     if {"api", "stage"} & owned.keys() else "")
    route_overrides = ("    overrides:\n" + (("      route:\n" + block("route", 8)) if "route" in owned else "")
                       + (("      integration:\n" + block("integration", 8)) if "integration" in owned else "")
                       if {"route", "integration"} & owned.keys() else "")
    return ("version: 1\n"
            "api:\n  name: o-api\n  stage: v1\n  tags: {team: platform}\n"
            "  throttling: {burst_limit: 10, rate_limit: 5}\n" + api_overrides +
            "vpc_link:\n  subnet_ids: [subnet-0a1b2c3d4e5f60718]\n  security_group_ids: [sg-0c3d4e5f607182930]\n"
            + ("  overrides:\n" + block("vpc_link", 4) if "vpc_link" in owned else "") +
            "namespace: {type: http, name: o-ns}\n"
            "services:\n  app:\n    health_check: custom\n    instances: [{id: n1, ipv4: 10.0.0.1, port: 80}]\n"
            + ("    overrides:\n" + block("service", 6) if "service" in owned else "") +
            "authorizers:\n  tokens:\n    type: jwt\n    issuer: https://auth.example.com\n    audiences: [o]\n"
            + ("    overrides:\n" + block("authorizer", 6) if "authorizer" in owned else "") +
            "routes:\n  - route: GET /\n    service: app\n    authorization: tokens\n" + route_overrides)


def errors(text: str) -> list:
    _, diagnostics = compile_text(text)
    return [d for d in diagnostics if d.severity == "error"]


def position(text: str, needle: str, after: str = "overrides") -> tuple[int, int]:
    """(line, column) of the first character of `needle` in text, as an editor counts them, on a line below the
    first that holds `after` (the override)."""
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if after in line), 0)
    for number, line in enumerate(lines[start:], start=start + 1):
        if needle in line:
            return number, line.index(needle) + 1
    raise AssertionError(f"{needle!r} not in the document")


def one_error(text: str, needle: str) -> object:
    """The document's only error, which must sit exactly where `needle` is written."""
    found = errors(text)
    assert len(found) == 1, render_text(found)
    assert (found[0].line, found[0].col) == position(text, needle), render_text(found)
    return found[0]


def plan_args(text: str, address: str) -> dict:
    return resources(synth_json(text))[address]


# --- every owner synthesizes with its override merged in ----------------------------------------------------

FREE = {  # an argument routes.yaml does not model, per owner, and the value it must reach Terraform with
    "api": ("version: v7", "version", "v7"),
    "stage": ("description: tuned", "description", "tuned"),
    "vpc_link": ("tags: {cost-center: net}", "tags", {"cost-center": "net", "team": "platform"}),
    "service": ("tags: {owner: me}", "tags", {"owner": "me", "team": "platform"}),
    "authorizer": ("timeouts: {delete: 10m}", "timeouts", {"delete": "10m"}),
    "route": ("operation_name: Root", "operation_name", "Root"),
    "integration": ("description: root", "description", "root"),
}


@pytest.mark.parametrize("owner", sorted(OWNERS))
def test_each_owners_override_reaches_its_resource(owner):
    line, argument, expected = FREE[owner]
    text = doc(**{owner: line})
    assert errors(text) == []
    assert plan_args(text, OWNERS[owner][1])[argument] == expected


def test_a_block_the_provider_takes_once_merges_key_by_key():
    args = plan_args(doc(stage="default_route_settings: {detailed_metrics_enabled: true}"),
                     "aws_apigatewayv2_stage.stage")
    assert args["default_route_settings"] == {"detailed_metrics_enabled": True, "throttling_burst_limit": 10,
                                              "throttling_rate_limit": 5}


def test_a_single_block_written_as_a_list_of_one_merges_the_same():
    as_list = doc(stage="default_route_settings: [{detailed_metrics_enabled: true}]")
    as_mapping = doc(stage="default_route_settings: {detailed_metrics_enabled: true}")
    assert errors(as_list) == []
    assert plan_args(as_list, "aws_apigatewayv2_stage.stage") == plan_args(as_mapping, "aws_apigatewayv2_stage.stage")


def test_maps_merge_key_by_key_and_lists_of_blocks_are_taken_whole():
    args = plan_args(doc(integration="""
        request_parameters: {append:header.x-api: o}
        response_parameters:
          - {status_code: "500", mappings: {overwrite:statuscode: "503"}}
        """), "aws_apigatewayv2_integration.get_root")
    assert args["request_parameters"] == {"append:header.x-api": "o", "overwrite:path": "$request.path"}
    assert args["response_parameters"] == [{"mappings": {"overwrite:statuscode": "503"}, "status_code": "500"}]


def test_an_override_tag_wins_over_api_tags_on_its_resource_only():
    text = doc(vpc_link="tags: {team: network}")
    assert plan_args(text, "aws_apigatewayv2_vpc_link.vpc_link")["tags"] == {"team": "network"}
    assert plan_args(text, "aws_apigatewayv2_api.api")["tags"]["team"] == "platform"


def test_merge_leaves_the_emitted_arguments_unchanged():
    emitted = {"default_route_settings": {"throttling_rate_limit": 5}, "tags": {"a": "1"}}
    before = json.dumps(emitted, sort_keys=True)
    merged = overrides.merge(emitted, {"default_route_settings": [{"detailed_metrics_enabled": True}],
                                       "tags": {"b": "2"}}, provider_schema.of("aws_apigatewayv2_stage"))
    assert json.dumps(emitted, sort_keys=True) == before
    assert merged["tags"] == {"a": "1", "b": "2"}


def test_an_override_string_reaches_terraform_as_literal_text():
    text = doc(stage='description: "${file(\\"/etc/hostname\\")} %{if true}x%{endif}"',
               integration='request_parameters: {"append:header.${k}": "${v}"}')
    plan = build(compile_text(text)[0])
    stage = terraform_value(plan.block("aws_apigatewayv2_stage.stage").args)
    assert stage["description"] == '$${file("/etc/hostname")} %%{if true}x%%{endif}'
    integration = terraform_value(plan.block("aws_apigatewayv2_integration.get_root").args)
    assert integration["request_parameters"]["append:header.$${k}"] == "$${v}"


def test_cdktf_token_markers_in_an_override_are_refused():
    text = doc(stage='description: "${TfToken[TOKEN.1]}"')
    assert one_error(text, '"${TfToken').code == "E314"


def test_no_override_changes_nothing():
    plain = doc()
    assert "overrides" not in plain
    assert build(compile_text(plain)[0]) == build(compile_text(plain)[0])
    assert all(not v for v in (compile_text(plain)[0].api.overrides, compile_text(plain)[0].routes[0].overrides))


# --- refusals: unknown, type, nesting, computed ----------------------------------------------------------

def test_an_unknown_argument_says_did_you_mean_and_lists_what_may_be_set():
    text = doc(stage="descripton: x")
    error = one_error(text, "descripton")
    assert error.code == "E250" and error.loc == "api.overrides.stage.descripton"
    assert error.hint == ("did you mean 'description'? the arguments an override may set here: "
                          "default_route_settings, description, stage_variables, tags")


def test_an_unknown_argument_inside_a_block_is_named_with_its_block():
    error = one_error(doc(stage="default_route_settings: {detailed_metrics: true}"), "detailed_metrics")
    assert error.code == "E250" and "block default_route_settings" in error.message
    assert error.hint.startswith("did you mean 'detailed_metrics_enabled'?")


def test_an_argument_of_another_type_is_unknown_here():
    error = one_error(doc(route="tags: {a: b}"), "tags")  # routes have no tags in the provider's schema
    assert error.code == "E250"


@pytest.mark.parametrize("owner, line, needle, expected", [
    ("stage", "description: 5", "5", "description of aws_apigatewayv2_stage must be a string, not a number"),
    ("stage", "default_route_settings: {detailed_metrics_enabled: yes please}", "yes please",
     "default_route_settings.detailed_metrics_enabled of aws_apigatewayv2_stage must be true or false, not a string"),
    ("stage", "stage_variables: [a]", "[a]", "stage_variables of aws_apigatewayv2_stage must be a map of string "
     "(a mapping), not a list"),
    ("stage", "stage_variables: {a: 1}", "1", "stage_variables.a of aws_apigatewayv2_stage must be a string, "
     "not a number"),
    ("route", "operation_name: [a]", "[a]", "operation_name of aws_apigatewayv2_route must be a string, not a list"),
    ("route", "operation_name: null", "null", "operation_name of aws_apigatewayv2_route must be a string, "
     "not empty (null)"),
    ("integration", "response_parameters: [{status_code: 500, mappings: {a: b}}]", "500",
     "response_parameters.status_code of aws_apigatewayv2_integration must be a string, not a number"),
])
def test_a_value_of_the_wrong_type_is_located(owner, line, needle, expected):
    error = one_error(doc(**{owner: line}), needle)
    assert (error.code, error.message) == ("E251", expected)


def test_a_number_where_the_provider_wants_a_string_is_told_to_quote_it():
    assert one_error(doc(stage="description: 5"), "5").hint == 'quote it: "..."'


@pytest.mark.parametrize("owner, line, needle, expected", [
    ("stage", "default_route_settings: [{detailed_metrics_enabled: true}, {detailed_metrics_enabled: false}]",
     "[{", "default_route_settings of aws_apigatewayv2_stage is one block; 2 are given"),
    ("stage", "default_route_settings: true", "true", "default_route_settings of aws_apigatewayv2_stage is a "
     "block, not a boolean"),
    ("authorizer", "timeouts: 10m", "10m", "timeouts of aws_apigatewayv2_authorizer is a block, not a string"),
    ("integration", "response_parameters: {status_code: '500', mappings: {a: b}}", "{status_code",
     "response_parameters of aws_apigatewayv2_integration is a list of blocks, not a mapping"),
    ("route", "request_parameter: [{request_parameter_key: route.request.querystring.q}]", "{request_parameter_key",
     "block request_parameter of aws_apigatewayv2_route is missing 'required', which the provider requires in it"),
])
def test_wrong_nesting_is_located(owner, line, needle, expected):
    error = one_error(doc(**{owner: line}), needle)
    assert (error.code, error.message) == ("E252", expected)


@pytest.mark.parametrize("owner, argument", [("api", "api_endpoint"), ("api", "arn"), ("api", "execution_arn"),
                                             ("stage", "invoke_url"), ("vpc_link", "arn"), ("service", "arn"),
                                             ("integration", "integration_response_selection_expression")])
def test_a_computed_attribute_is_refused(owner, argument):
    error = one_error(doc(**{owner: f"{argument}: x"}), f"{argument}:")
    assert error.code == "E253" and f"{argument} of" in error.message and "computed by the provider" in error.message


# --- refusals: what routes.yaml owns, what nobody may set, meta-arguments --------------------------------

OWNED = [  # (owner, argument written, the routes.yaml option the message must name)
    ("api", "name: x", "`api.name`"), ("api", "protocol_type: WEBSOCKET", "always HTTP"),
    ("api", "description: x", "`api.description`"), ("api", "cors_configuration: {max_age: 1}", "`api.cors`"),
    ("api", "disable_execute_api_endpoint: true", "`api.disable_execute_api_endpoint`"),
    ("stage", "name: x", "`api.stage`"), ("stage", "auto_deploy: false", "always true"),
    ("stage", "deployment_id: x", "auto_deploy"), ("stage", "api_id: x", "this stack's API"),
    ("stage", "access_log_settings: {destination_arn: x, format: y}", "`api.access_logs`"),
    ("stage", "default_route_settings: {throttling_burst_limit: 1}", "`api.throttling`", "throttling_burst_limit"),
    ("stage", "default_route_settings: {throttling_rate_limit: 1}", "`api.throttling`", "throttling_rate_limit"),
    ("stage", "route_settings: [{route_key: GET /}]", "`routes[].throttling`"),
    ("vpc_link", "name: x", "`vpc_link.name`"), ("vpc_link", "subnet_ids: [x]", "`vpc_link.subnet_ids`"),
    ("vpc_link", "security_group_ids: [x]", "`vpc_link.security_group_ids`"),
    ("service", "name: x", "`services.<key>.name`"), ("service", "description: x", "`services.<key>.description`"),
    ("service", "namespace_id: x", "`namespace`"), ("service", "force_destroy: false", "force_destroy"),
    ("service", "dns_config: {namespace_id: x, routing_policy: WEIGHTED}", "routing_policy"),
    ("service", "health_check_config: {type: HTTP}", "route53_health_check"),
    ("service", "health_check_custom_config: {}", "health_check: custom"),
    ("authorizer", "name: x", "the key under `authorizers`"), ("authorizer", "authorizer_type: REQUEST", "type"),
    ("authorizer", "identity_sources: [x]", "identity_source"), ("authorizer", "jwt_configuration: {issuer: x}",
                                                                 "issuer"),
    ("authorizer", "authorizer_uri: x", "function_arn"), ("authorizer", "enable_simple_responses: false",
                                                          "simple_responses"),
    ("authorizer", "authorizer_result_ttl_in_seconds: 1", "result_ttl_seconds"),
    ("authorizer", "authorizer_payload_format_version: '1.0'", "2.0"),
    ("route", "route_key: GET /x", "`routes[].route`"), ("route", "target: integrations/x", "`routes[].service`"),
    ("route", "authorization_type: NONE", "`routes[].authorization`"),
    ("route", "authorizer_id: x", "`routes[].authorization`"), ("route", "authorization_scopes: [x]", "scopes"),
    ("route", "api_id: x", "this stack's API"),
    ("integration", "integration_uri: x", "`routes[].service` and `routes[].filter`"),
    ("integration", "connection_id: x", "`vpc_link`"), ("integration", "connection_type: INTERNET", "VPC_LINK"),
    ("integration", "integration_type: HTTP", "fan_out"), ("integration", "integration_subtype: x", "fan_out"),
    ("integration", "integration_method: GET", "ANY"), ("integration", "payload_format_version: '2.0'", "1.0"),
    ("integration", "timeout_milliseconds: 100", "`routes[].timeout_ms`"),
    ("integration", "tls_config: {server_name_to_verify: x}", "`routes[].tls_server_name`"),
    ("integration", "request_parameters: {overwrite:path: /x}", "`routes[].forward_stage_in_path`",
     "overwrite:path"),
]


def needle_of(entry: tuple) -> str:
    """Where the refusal must be reported: the key named last in the table entry, else the argument's key."""
    return entry[3] if len(entry) > 3 else entry[1].split(":")[0] + ":"


@pytest.mark.parametrize("entry", OWNED, ids=[f"{e[0]}.{needle_of(e).rstrip(':')}" for e in OWNED])
def test_an_argument_routes_yaml_owns_is_refused_naming_its_option(entry):
    owner, line, option = entry[:3]
    error = one_error(doc(**{owner: line}), needle_of(entry))
    assert error.code == "E254" and "is set by routes.yaml" in error.message and option in error.message
    assert error.hint == "set that option instead; an override cannot change what routes.yaml decides"


REFUSED = [  # (owner, argument written, why)
    ("api", "body: '{}'", "OpenAPI import"), ("api", "route_key: GET /", "quick create"),
    ("api", "target: arn:x", "quick create"), ("api", "credentials_arn: arn:x", "quick create"),
    ("api", "fail_on_warnings: true", "OpenAPI import"),
    ("api", "route_selection_expression: $request.method", "${request.method} ${request.path}"),
    ("api", "api_key_selection_expression: x", "WebSocket"),
    ("stage", "client_certificate_id: x", "WebSocket"),
    ("stage", "default_route_settings: {logging_level: INFO}", "execution logging", "logging_level"),
    ("stage", "default_route_settings: {data_trace_enabled: true}", "execution logging", "data_trace_enabled"),
    ("route", "api_key_required: true", "WebSocket"), ("route", "model_selection_expression: x", "WebSocket"),
    ("route", "request_models: {a: b}", "WebSocket"), ("route", "route_response_selection_expression: x", "WebSocket"),
    ("integration", "content_handling_strategy: CONVERT_TO_TEXT", "WebSocket"),
    ("integration", "passthrough_behavior: NEVER", "WebSocket"),
    ("integration", "request_templates: {a: b}", "WebSocket"),
    ("integration", "template_selection_expression: x", "WebSocket"),
    ("api", "id: x", "AWS assigns"), ("stage", "tags_all: {a: b}", "override `tags` instead"),
]


@pytest.mark.parametrize("entry", REFUSED, ids=[f"{e[0]}.{needle_of(e).rstrip(':')}" for e in REFUSED])
def test_an_argument_no_configuration_may_set_is_refused_with_the_reason(entry):
    owner, line, why = entry[:3]
    error = one_error(doc(**{owner: line}), needle_of(entry))
    assert error.code == "E254" and "cannot be set" in error.message and why in error.message


@pytest.mark.parametrize("meta", sorted(catalogue.META_ARGUMENTS))
def test_terraform_meta_arguments_are_refused(meta):
    error = one_error(doc(route=f"{meta}: x"), f"{meta}:")
    assert error.code == "E254" and "meta-argument" in error.message


def test_every_owned_and_refused_path_is_an_argument_of_the_pinned_provider():
    """The catalogue's tables name real arguments (a typo there would refuse nothing)."""
    for name in catalogue.OVERRIDABLE:
        kind, schema = catalogue.of(name), provider_schema.of(name)
        for path, _ in kind.owned + kind.refused:
            block, *rest = path.split(".")
            assert block in schema.attributes or block in schema.blocks, (name, path)
            if rest and block in schema.blocks:
                assert rest[0] in schema.blocks[block].block.attributes, (name, path)


def test_every_required_argument_of_an_overridable_type_is_the_tools():
    """So an override never needs to supply one, and the validator's required check is only for blocks."""
    for name in catalogue.OVERRIDABLE:
        schema, kind = provider_schema.of(name), catalogue.of(name)
        assert all(kind.owner(n) for n, a in schema.attributes.items() if a.required), name


# --- the language's own rules for overrides ----------------------------------------------------------------

def test_an_override_that_is_not_a_mapping_is_a_type_error():
    text = doc().replace("  security_group_ids: [sg-0c3d4e5f607182930]\n",
                         "  security_group_ids: [sg-0c3d4e5f607182930]\n  overrides: [tags]\n")
    error = one_error(text, "[tags]")
    assert error.code == "E201" and "mapping of aws_apigatewayv2_vpc_link arguments" in error.message


@pytest.mark.parametrize("tags, needle, code", [
    ('{"aws:owner": x}', '"aws:owner"', "E204"), ('{"cloudmap-routes:stack": x}', '"cloudmap-routes:stack"', "E204"),
    ("{team: 'a|b'}", "'a|b'", "E204"),
])
def test_override_tags_obey_the_tag_rules(tags, needle, code):
    assert one_error(doc(vpc_link=f"tags: {tags}"), needle).code == code


def test_a_resource_carries_at_most_50_tags_counting_api_tags_and_the_stack_tag():
    forty_nine = ", ".join(f"k{i}: v" for i in range(49))
    text = doc(api=f"tags: {{{forty_nine}}}")  # 49 + api.tags' team + the stack tag
    error = one_error(text, "tags: {k0")
    assert error.code == "E309" and "51 tags" in error.message
    assert errors(doc(vpc_link=f"tags: {{{forty_nine}}}")) == []  # 49 + team: 50, no stack tag on the link


def test_an_existing_service_has_nothing_to_override():
    text = doc().replace("    instances: [{id: n1, ipv4: 10.0.0.1, port: 80}]\n",
                         "    existing_id: srv-abcdefgh12345678\n    overrides: {tags: {a: b}}\n")
    text = text.replace("    health_check: custom\n    existing_id", "    existing_id")
    error = one_error(text, "overrides")
    assert error.code == "E310"


def test_every_problem_is_reported_at_once():
    text = doc(stage="descripton: x\ninvoke_url: y", route="target: x", integration="connection_id: y")
    assert sorted(d.code for d in errors(text)) == ["E250", "E253", "E254", "E254"]


# --- environments override overrides (JSON Merge Patch) -------------------------------------------------

ENVIRONMENTS = """
environments:
  dev:
    api:
      overrides:
        stage:
          description: null
          default_route_settings: {detailed_metrics_enabled: false}
          stage_variables: {mode: dev}
  prod:
    vpc_link:
      overrides:
        tags: {tier: prod}
"""


def test_an_environment_merges_into_an_override_and_null_removes_a_key():
    text = doc(stage="description: tuned\ndefault_route_settings: {detailed_metrics_enabled: true}",
               vpc_link="tags: {cost-center: net}") + ENVIRONMENTS
    stacks, diagnostics = compile_stacks_text(text)
    assert stacks, render_text(diagnostics)
    models = dict(stacks)
    dev_stage = build(models["dev"]).block("aws_apigatewayv2_stage.stage").args
    assert "description" not in dev_stage
    assert dev_stage["default_route_settings"]["detailed_metrics_enabled"] is False
    assert dev_stage["stage_variables"] == {"mode": "dev"}
    prod = build(models["prod"])
    assert prod.block("aws_apigatewayv2_stage.stage").args["description"] == "tuned"
    assert prod.block("aws_apigatewayv2_vpc_link.vpc_link").args["tags"] == {"cost-center": "net", "tier": "prod",
                                                                             "team": "platform"}


def test_a_bad_argument_an_environment_adds_is_reported_at_the_environments_line():
    text = doc(stage="description: tuned") + "environments:\n  dev:\n    api:\n      overrides:\n        stage:\n" \
                                             "          invoke_url: x\n  prod: {}\n"
    _, diagnostics = compile_stacks_text(text)
    found = [d for d in diagnostics if d.severity == "error"]
    assert len(found) == 1 and found[0].code == "E253"
    assert (found[0].line, found[0].col) == position(text, "invoke_url", after="environments")
    assert found[0].message.startswith("environment dev: ")
    assert found[0].loc == "environments.dev.api.overrides.stage.invoke_url"


# --- the pure validator's generic cty checks (types this tool emits but no owner overrides) ---------------

class _At:
    line = col = 1


class _Positions:
    def key(self, path):
        return _At()

    value = key


def test_object_and_set_types_are_checked_through_a_type_that_has_them():
    """aws_security_group's ingress is a set of objects: the validator reads any cty type the schema has."""
    found = overrides.check("aws_security_group", {"ingress": [
        {"from_port": 1, "to_port": 2, "protocol": "tcp", "cidr_blocks": ["x"], "description": "d",
         "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": ["a", "a"], "self": False, "extra": 1},
        {"from_port": "1"}]}, ("x",), _Positions())
    messages = sorted(d.message for d in found)
    assert "ingress[0] of aws_security_group has no attribute 'extra'" in messages
    assert "ingress[0].security_groups of aws_security_group is a set: 'a' is given twice" in messages
    assert "ingress[1].from_port of aws_security_group must be a finite number, not a string" in messages
    assert sum("is missing the attribute" in m for m in messages) == 8  # the second object has only from_port


@pytest.mark.parametrize("cty, value, problem", [
    ("number", float("inf"), "a finite number"), ("number", True, "a finite number"), ("bool", 1, "true or false"),
    (["tuple", ["string", "number"]], ["a"], "a tuple [string, number] (a list of 2)"),
    (["tuple", ["string", "number"]], ["a", 1], ""), ("dynamic", {"anything": [1]}, ""),
])
def test_scalar_shapes_of_every_cty_kind(cty, value, problem):
    assert _scalar_problem(cty, value) == problem


# --- review: diff puts an override change on its owner's row ----------------------------------------------

def summary_of(base: str, head: str):
    from compiler.review.diff import diff_models
    return diff_models(compile_text(base)[0], compile_text(head)[0], "t")


def test_diff_shows_a_route_override_change_on_the_routes_row():
    summary = summary_of(doc(integration="description: a"), doc(integration="description: b"))
    [row] = summary.routes
    assert row.route_id == "get_root" and not row.reach_changed
    assert row.details == ["override of aws_apigatewayv2_integration.get_root: description (in place)"]
    assert [(c.address, c.action) for c in row.resources] == [("aws_apigatewayv2_integration.get_root", "update")]


def test_diff_shows_api_and_service_override_changes_on_their_rows():
    summary = summary_of(doc(stage="description: a", service="tags: {a: b}"),
                         doc(stage="description: b", api="version: v2", service="tags: {a: c}"))
    assert summary.routes == []
    rows = {o.owner: o.details for o in summary.owners}
    assert rows == {"api": ["override of aws_apigatewayv2_api.api: version (in place)",
                            "override of aws_apigatewayv2_stage.stage: description (in place)"],
                    "service app": ["override of aws_service_discovery_service.app: tags.a (in place)"]}


def test_diff_says_when_an_overridden_argument_forces_a_replacement():
    """The catalogue's ForceNew paths hold for overridden arguments: a Cloud Map service's `type`."""
    summary = summary_of(doc(), doc(service="type: HTTP"))
    [row] = summary.owners
    assert row.details == ["override of aws_service_discovery_service.app: type (forces replacement: type)"]
    replaced = {c.address: c for c in summary.replacements}
    assert replaced["aws_service_discovery_service.app"].attributes == ("type",)
    assert summary.routes[0].details == ["service 'app' is replaced: new Cloud Map service ARN"]


def test_an_unchanged_override_is_not_a_change():
    same = doc(stage="default_route_settings: {detailed_metrics_enabled: true}")
    as_list = doc(stage="default_route_settings: [{detailed_metrics_enabled: true}]")
    assert summary_of(same, same).unchanged
    assert summary_of(same, as_list).unchanged
