"""The reach core (compiler/reach): every option declared once, each option's change shown on its route by `diff`,
the plan's owners and the integration URI, and what a route reaches with live instances (portless instances
failing, split brain, fan-out answers). The cross-tool agreement on a local AWS is tests/test_agreement.py."""

from __future__ import annotations

import pytest

from compiler import reach
from compiler.language import schema
from compiler.language.model import AttributeFilter, IntegrationUri
from compiler.reach import aspects, options
from compiler.reach.aspects import Aspect, Effect
from compiler.reach.observation import NO_INSTANCE, NO_INSTANCE_FAN_OUT, Standing
from compiler.review import planned
from compiler.review.diff import diff_models
from compiler.review.planfile import summarize_plan
from compiler.review.render import render
from compiler.review.versions import findings
from compiler.terraform.owners import Owner, OwnerKind
from compiler.terraform.plan import Concat, build

from .cases import CORPUS, OPTION_CASES, reviewed
from .conftest import EXAMPLES, ROOT, example_id, pinned
from .synthesis import model_of

# -- options: declared once, each shown on its route -----------------------------------------------------------

def schema_keys(obj: schema.Obj, declared: tuple[options.Option, ...], prefix: str = "") -> list[str]:
    """Every key under obj that must be declared: nested objects' keys too, unless declared as one value."""
    keys = []
    for name, field in obj.fields.items():
        key = prefix + name
        keys.append(key)
        option = options.declared(key, declared)
        if isinstance(field.type, schema.Obj) and not (option and option.whole):
            keys += schema_keys(field.type, declared, key + ".")
    return keys


@pytest.mark.parametrize("root, declared", [(schema.ROUTE, options.ROUTE_OPTIONS),
                                            (schema.AUTHORIZER, options.AUTHORIZER_OPTIONS)],
                         ids=["route", "authorizer"])
def test_every_option_in_the_schema_is_declared_once_and_nothing_else(root, declared):
    keys = schema_keys(root, declared)
    missing = [k for k in keys if options.declared(k, declared) is None]
    assert missing == [], f"declare these options in compiler/reach/options.py: {missing}"
    assert sorted(o.key for o in declared) == sorted(keys)  # each once, and none the schema lost
    for option in declared:
        assert option.field(root).doc  # the schema entry it stands for


def test_the_declared_defaults_are_the_schemas_or_what_aws_applies():
    assert options.declared("timeout_ms").default(schema.ROUTE) == 30_000
    assert options.declared("fan_out.concurrency").default(schema.ROUTE) == 8
    assert options.declared("result_ttl_seconds", options.AUTHORIZER_OPTIONS).default(schema.AUTHORIZER) == 300
    assert options.declared("id").effect is Effect.ADDRESS
    assert options.declared("fan_out.include_unhealthy").effect is Effect.REACH


def test_every_declared_option_has_a_case_in_the_corpus():
    declared = {o.key for o in options.ROUTE_OPTIONS} | {f"authorizers.{o.key}" for o in options.AUTHORIZER_OPTIONS}
    covered = {key for case in OPTION_CASES.values() for key in case.options}
    assert covered == declared, f"add a case to tests/cases.py OPTION_CASES for {sorted(declared - covered)}"


def test_every_aspect_is_read_from_the_model_and_from_a_plan():
    """Each aspect comes out of some description of the corpus, and has a reader of the plan unless it is a
    declaration that never reaches AWS."""
    seen = set()
    for text in [CORPUS] + [case.edit(CORPUS) for case in OPTION_CASES.values()]:
        for description in reach.describe(model_of(text)).values():
            seen |= set(aspects.values(description))
    assert seen == set(Aspect)
    in_plan = (set(planned.ROUTE_READERS) | set(planned.FAN_OUT_READERS) | {Aspect.SERVICE, Aspect.FILTER}
               | {a for readers in planned.AUTHORIZER_READERS.values() for a in readers})
    assert in_plan == {a for a in Aspect if a.effect is not Effect.DECLARATION}


@pytest.mark.parametrize("name", OPTION_CASES)
def test_each_option_change_shows_on_its_route(name, update_snapshots):
    case = OPTION_CASES[name]
    summary = reviewed(CORPUS, case.edit(CORPUS), f"{name}: before -> after")
    pinned(ROOT / "tests" / "review" / "options" / f"{name}.txt", render(summary, "text"), update_snapshots)
    assert [(r.route_id, r.reach_changed) for r in summary.routes] == case.routes
    labels = {options.declared(key.removeprefix("authorizers."),
                               options.AUTHORIZER_OPTIONS if key.startswith("authorizers.") else options.ROUTE_OPTIONS)
              .aspect for key in case.options}
    for route in summary.routes:
        if route.kind == "changed":
            assert {label for label, _, _ in route.aspects} >= {a.label for a in labels if a}, route.details
    introduced = {(r.route_id, w.split(":")[0]) for r in summary.routes for w in r.warnings}
    assert introduced == set(case.warnings)


def test_include_unhealthy_on_a_fan_out_route_is_a_reach_change_with_its_function():
    summary = reviewed(CORPUS, OPTION_CASES["include-unhealthy"].edit(CORPUS), "t")
    [route] = summary.routes
    assert route.details == ["include unhealthy: false -> true"] and route.reach_changed
    assert [(c.address, c.action) for c in route.resources] == [("aws_lambda_function.fanout_reload", "update")]


def test_a_filter_no_registration_can_set_is_flagged_on_the_route_before_the_merge():
    summary = reviewed(CORPUS, OPTION_CASES["filter-unsettable"].edit(CORPUS), "t")
    [route] = summary.routes
    assert route.warnings == ["W403: ECS never sets the attribute 'zone', so no task of 'tasks' matches this filter "
                              "unless your application adds it"]
    text = render(summary, "text")
    assert "    warning W403: ECS never sets the attribute 'zone'" in text
    assert "**warning** W403\\: ECS never sets" in render(summary, "markdown")


def test_an_allow_list_change_lands_on_the_routes_that_use_it():
    summary = reviewed(CORPUS, OPTION_CASES["allowlist-cidrs"].edit(CORPUS), "t")
    [route] = summary.routes
    assert route.details == ["allow-list CIDRs: 127.0.0.1/32, 10.0.0.0/8 -> 127.0.0.1/32, 10.0.0.0/8, 192.168.0.0/16"]
    assert [c.address for c in route.resources] == ["aws_lambda_function.allowlist_office"]


def test_a_warning_the_base_had_already_is_not_new():
    head = OPTION_CASES["filter-unsettable"].edit(CORPUS)
    assert reviewed(head, head.replace("timeout_ms: 5000", "timeout_ms: 4000"), "t").routes[0].warnings == []


# -- the plan's owners and the integration URI ------------------------------------------------------------------

@pytest.mark.parametrize("path", EXAMPLES, ids=example_id)
def test_every_block_has_an_owner(path):
    plan = build(model_of(path.read_text()))
    assert [b.address for b in plan.blocks if b.owner is None] == []
    for block in plan.blocks:
        if block.type in ("aws_apigatewayv2_route", "aws_apigatewayv2_integration"):
            assert block.owner.kind is OwnerKind.ROUTE, block.address
        if block.type in ("aws_service_discovery_service", "aws_service_discovery_instance"):
            assert block.owner.kind is OwnerKind.SERVICE, block.address


def test_a_fan_out_routes_function_and_an_allow_lists_function_have_their_owners():
    owners = {b.address: b.owner for b in build(model_of(CORPUS)).blocks}
    assert owners["aws_lambda_function.fanout_reload"] == Owner.route("reload")
    assert owners["aws_iam_role_policy.fanout_reload"] == Owner.route("reload")
    assert owners["aws_lambda_function.allowlist_office"] == Owner.authorizer("office")
    assert owners["aws_apigatewayv2_stage.stage"] == Owner(OwnerKind.API)
    assert str(owners["aws_service_discovery_service.kv"]) == "service kv"


def test_the_integration_uri_is_built_and_parsed_by_one_pair():
    model = model_of(CORPUS.replace('filter: {leader: "true"}', 'filter: {leader: "true", zone/id: "a&b=c d"}', 1))
    uri = build(model).block("aws_apigatewayv2_integration.leader").args["integration_uri"]
    assert isinstance(uri, Concat)
    arn = "arn:aws:servicediscovery:eu-west-1:123456789012:service/srv-0123456789abcdef"
    parsed = IntegrationUri.parse(arn + uri.parts[-1])
    assert parsed.filter == next(r for r in model.routes if r.id == "leader").filter
    assert str(parsed) == arn + "?leader=true&zone%2Fid=a%26b%3Dc%20d" and parsed.service_id == "srv-0123456789abcdef"
    assert IntegrationUri.parse("arn:aws:servicediscovery:eu-west-1:1:namespace/ns-1") is None
    assert IntegrationUri.parse(arn + "?a=").filter == AttributeFilter.of({"a": ""})


# -- what a route reaches with live instances -------------------------------------------------------------------

def registration(instance_id: str, health: str = "HEALTHY", port: str | None = "8080", **attributes: str):
    address = {"AWS_INSTANCE_IPV4": "10.0.1.1"} | ({"AWS_INSTANCE_PORT": port} if port is not None else {})
    return reach.Registration(instance_id, tuple(sorted({**address, **attributes}.items())), reach.Health.of(health))


def described(route_id: str, text: str = CORPUS):
    return reach.describe(model_of(text))[route_id]


def test_a_portless_instance_counts_as_failing_one_request_in_four():
    seen = reach.observe(described("root"), [registration(f"n{i}") for i in range(3)] + [registration("n3", port=None)])
    assert [s.id for s in seen.failing] == ["n3"] and len(seen.serving) == 3 and not seen.ok
    assert seen.verdict == "4 instances, round-robin: 1 request in 4 fails with 500 (n3 cannot be called)"
    assert [w.message for w in seen.warnings] == [
        "n3 has no AWS_INSTANCE_IPV4/AWS_INSTANCE_PORT: API Gateway cannot reach it, and requests sent to it fail: "
        "1 request in 4"]


def test_a_malformed_address_cannot_be_called_and_unknown_health_is_not_healthy():
    bad = [registration("a", port="80x"), registration("b", port="70000"), registration("c", health="weird")]
    seen = reach.observe(described("root"), bad)
    assert [(s.id, s.standing, s.reason) for s in seen.instances] == [
        ("a", Standing.CANNOT_BE_CALLED, "AWS_INSTANCE_PORT '80x' is not a port"),
        ("b", Standing.CANNOT_BE_CALLED, "AWS_INSTANCE_PORT '70000' is not a port"),
        ("c", Standing.UNHEALTHY, "UNKNOWN")]
    assert seen.verdict == "2 instances, round-robin: none can be called, every request fails with 500"


def test_two_leaders_are_split_brain():
    seen = reach.observe(described("leader"), [registration("n1", leader="true"), registration("n2", leader="true"),
                                               registration("n3", leader="false")])
    assert seen.verdict == "2 instances, round-robin" and seen.ok
    assert [w.concern for w in seen.warnings] == [reach.Concern.SPLIT_BRAIN]
    assert "should select one instance, but 2 match (n1, n2): split brain" in seen.warnings[0].message
    assert not reach.observe(described("root"), [registration("n1"), registration("n2")]).warnings  # no leader filter


def test_fan_out_wording_and_answers():
    fan_out = described("reload")
    assert reach.observe(fan_out, []).verdict == NO_INSTANCE_FAN_OUT
    assert fan_out.answers.no_instance.status == 502 and fan_out.answers.partial.status == 207
    assert reach.observe(fan_out, [registration("task-2")]).verdict == "fan-out: one instance, task-2, each request"
    some = reach.observe(fan_out, [registration("a"), registration("b", port=None)])
    assert some.verdict == ("fan-out: all 2 instances, each request; b cannot be called: every answer is 207 "
                            "(some failed)")
    proxy = described("root")
    assert reach.observe(proxy, []).verdict == NO_INSTANCE and proxy.answers.no_instance.status == 500
    assert proxy.answers.timeout.status == 503 and proxy.answers.timeout.body == '{"message":"Service Unavailable"}'


def test_health_keeps_out_unless_the_fan_out_includes_the_unhealthy():
    members = [registration("a"), registration("b", health="UNHEALTHY")]
    assert [s.id for s in reach.observe(described("reload"), members).selected] == ["a"]
    everyone = described("reload", OPTION_CASES["include-unhealthy"].edit(CORPUS))
    assert [s.id for s in reach.observe(everyone, members).selected] == ["a", "b"]


def test_within_the_attribute_lag_the_earlier_attributes_still_match():
    moved = reach.Registration("n1", (("AWS_INSTANCE_IPV4", "10.0.1.1"), ("AWS_INSTANCE_PORT", "80"),
                                      ("leader", "false")), earlier=(("leader", "true"),))
    seen = reach.observe(described("leader"), [moved])
    assert [s.standing for s in seen.instances] == [Standing.SERVES_BY_LAG]


def test_the_deployed_filter_is_what_traffic_meets_and_drift_names_it():
    deployed = reach.Deployed("arn:aws:servicediscovery:eu-west-1:123456789012:service/srv-1?leader=no", True,
                              reach.DeployedAuthorization("NONE"))
    seen = reach.observe(described("follower"), [registration("n1", leader="no")], deployed)
    assert seen.drift == ("filter: the integration says leader=no, routes.yaml says leader=false",)
    assert [s.id for s in seen.serving] == ["n1"]
    wrong = reach.Deployed(deployed.uri.replace("leader=no", "leader=true"), True,
                           reach.DeployedAuthorization("JWT", "operators", ("kv/admin",)))
    assert reach.observe(described("leader"), [], wrong).drift == ()
    swapped = reach.Deployed(wrong.uri, True, reach.DeployedAuthorization("JWT", "admins", ("kv/admin",)))
    assert reach.observe(described("leader"), [], swapped).drift == (
        "authorization: the route says JWT admins scopes kv/admin, routes.yaml says JWT operators scopes kv/admin",)


def test_the_authorization_hook_serve_reads():
    model = model_of(CORPUS)
    of = {r.id: reach.authorization_of(model, r) for r in model.routes}
    assert of["office_only"].kind is reach.AuthKind.ALLOWLIST
    assert of["office_only"].cidrs == ("127.0.0.1/32", "10.0.0.0/8")
    assert of["office_only"].identity == reach.IdentitySource(reach.IdentityKind.CONTEXT, "identity.sourceIp")
    assert of["leader"].issuer == "https://auth.example.com" and of["leader"].scopes == ("kv/admin",)
    assert str(of["gated"].identity) == "$request.header.Authorization" and of["gated"].required
    assert not of["root"].required and of["root"].public


def test_static_instances_foretell_split_brain_and_an_empty_filter():
    text = (ROOT / "examples" / "http-static.yaml").read_text()
    two = text.replace('leader: "false", zone: b', 'leader: "true", zone: b', 1)
    leader = reach.describe(model_of(two))["leader"]
    assert [w.concern for w in leader.warnings] == [reach.Concern.SPLIT_BRAIN]
    summary = diff_models(model_of(text), model_of(two), "t", (findings([], text), findings([], two)))
    assert [(r.route_id, r.warnings) for r in summary.routes if r.warnings] == [
        ("leader", ["filter leader=true should select one instance, but 2 match (node-1, node-2): split brain, "
                    "requests go to each in turn"])]


# -- summarize-plan: what the plan says lands on the route's row ------------------------------------------------

def planned_change(address: str, action: str, before: dict, after: dict, unknown: dict | None = None) -> dict:
    kind, name = address.split(".")
    return {"address": address, "mode": "managed", "type": kind, "name": name, "change": {
        "actions": {"replace": ["delete", "create"]}.get(action, [action]), "before": before, "after": after,
        "after_unknown": unknown or {}}}


def env(**variables: str) -> list:
    return [{"variables": variables}]


def test_a_scope_change_in_the_plan_is_shown_as_diff_shows_it():
    """The issue's case: the plan said only "update: aws_apigatewayv2_route.<id>"."""
    route = {"id": "r1", "route_key": "GET /leader", "target": "integrations/i1", "authorization_type": "JWT",
             "authorizer_id": "a1", "authorization_scopes": ["kv/admin"]}
    authorizer = {"id": "a1", "name": "operators", "identity_sources": ["$request.header.Authorization"],
                  "jwt_configuration": [{"issuer": "https://auth.example.com", "audience": ["kv"]}]}
    plan = {"format_version": "1.2", "resource_changes": [
        planned_change("aws_apigatewayv2_route.leader", "update", route, {**route, "authorization_scopes": ["kv/ops"]}),
        planned_change("aws_apigatewayv2_authorizer.operators", "no-op", authorizer, authorizer)]}
    [row] = summarize_plan(plan, "t", model_of(OPTION_CASES["scopes"].edit(CORPUS))).routes
    assert row.details == ["authorization: operators scopes kv/admin -> operators scopes kv/ops"]
    assert [(c.address, c.action) for c in row.resources] == [("aws_apigatewayv2_route.leader", "update")]
    assert row.details == reviewed(CORPUS, OPTION_CASES["scopes"].edit(CORPUS), "t").routes[0].details


def test_the_fan_out_functions_and_the_allow_lists_environment_land_on_the_routes_rows():
    fan_out = {"id": "f", "invoke_arn": "arn:aws:apigateway:eu-west-1:lambda:path/f/invocations",
               "environment": env(CLOUD_MAP_SERVICE="kv", FILTER="{}", INCLUDE_UNHEALTHY="false", CONCURRENCY="8",
                                  PER_INSTANCE_TIMEOUT_MS="2000", FORWARD_HEADERS="content-type",
                                  MAX_BODY_BYTES="4096", STRIP_STAGE="true")}
    allowlist = {"id": "l", "environment": env(ALLOWED_CIDRS="127.0.0.1/32,10.0.0.0/8")}
    office = {"id": "a2", "name": "office", "identity_sources": ["$context.identity.sourceIp"],
              "authorizer_result_ttl_in_seconds": 300}
    variables = fan_out["environment"][0]["variables"]
    unhealthy = {**fan_out, "environment": env(**{**variables, "INCLUDE_UNHEALTHY": "true"})}
    wider = {"id": "l", "environment": env(ALLOWED_CIDRS="127.0.0.1/32,10.0.0.0/8,192.168.0.0/16")}
    office_route = {"id": "r2", "route_key": "GET /office", "target": "integrations/i2", "authorization_type": "CUSTOM",
                    "authorizer_id": "a2"}
    plan = {"format_version": "1.2", "resource_changes": [
        planned_change("aws_lambda_function.fanout_reload", "update", fan_out, unhealthy),
        planned_change("aws_lambda_function.allowlist_office", "update", allowlist, wider),
        planned_change("aws_apigatewayv2_authorizer.office", "no-op", office, office),
        planned_change("aws_apigatewayv2_route.office_only", "no-op", office_route, office_route)]}
    head = OPTION_CASES["allowlist-cidrs"].edit(OPTION_CASES["include-unhealthy"].edit(CORPUS))
    rows = {r.route_id: r for r in summarize_plan(plan, "t", model_of(head)).routes}
    assert sorted(rows) == ["office_only", "reload"]
    assert rows["reload"].details == ["include unhealthy: false -> true"] and rows["reload"].reach_changed
    assert rows["office_only"].details == [
        "allow-list CIDRs: 127.0.0.1/32, 10.0.0.0/8 -> 127.0.0.1/32, 10.0.0.0/8, 192.168.0.0/16"]
    assert [c.address for c in rows["office_only"].resources] == ["aws_lambda_function.allowlist_office"]
