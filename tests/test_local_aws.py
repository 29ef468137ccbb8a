"""Apply the synthesized JSON with real Terraform to a local AWS (moto's server on 127.0.0.1) and prove it right:
idempotent plans, stable addresses under reordering, minimal plans for additions and filter edits, the routing
semantics (which instances each route reaches), health gating, a destroy that leaves nothing behind, and every
kind of change the review tool knows applied and applied back on a local AWS as strict as AWS about deletions
(compiler/localaws/moto_launcher.py).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from compiler.review.diff import diff_models
from compiler.review.planfile import summarize_plan

from .cases import CASES
from .conftest import ROOT
from .localaws import LocalStack, applied, reach
from .synthesis import model_of, reverse_routes

# What ECS would register for three raft tasks; each node adds `leader` to its own registration.
ECS_TASKS = {f"task-{i}": {"AWS_INSTANCE_IPV4": f"10.0.1.{10 + i}", "AWS_INSTANCE_PORT": "8080",
                           "ECS_SERVICE_NAME": "raft", "ECS_CLUSTER_NAME": "prod", "leader": leader}
             for i, leader in enumerate(("true", "false", "false"))}


def expected_reach(text: str, instances: dict[str, dict[str, str]]) -> dict[str, set[str]]:
    """What routes.yaml says each route reaches, given the registered instances' attributes."""
    model = model_of(text)
    return {r.key.text: {i for i, attrs in instances.items() if r.filter.matches(attrs)} for r in model.routes}


def assert_nothing_left(stack: LocalStack) -> None:
    agw, sd, logs = stack.client("apigatewayv2"), stack.client("servicediscovery"), stack.client("logs")
    assert agw.get_apis()["Items"] == []
    assert agw.get_vpc_links()["Items"] == []
    assert sd.list_services()["Services"] == []
    assert sd.list_namespaces()["Namespaces"] == []
    assert logs.describe_log_groups()["logGroups"] == []


@pytest.fixture(scope="class")
def stack(request, tmp_path_factory, moto, tf_env):
    """The example named by the class's parameter, applied in an empty account: classes of this module that run one
    after another on one worker share its local AWS, and the stacks they leave behind hold the same names."""
    moto.reset()
    return applied(tmp_path_factory.mktemp(request.param.replace("/", "_")), moto, tf_env, request.param)


@pytest.mark.parametrize("stack", ["routes.yaml"], indirect=True, scope="class")
class TestBundledExample:
    def test_second_plan_has_no_changes(self, stack):
        assert stack[0].terraform.plan_changes() == []

    def test_reordering_routes_plans_no_changes(self, stack):
        local, text = stack
        local.synth(reverse_routes(text))
        assert local.terraform.plan_changes() == []

    def test_a_route_like_another_gets_its_own_integration(self, stack):
        """Same service, filter and options as `leader`: still its own integration, so that removing either
        route later never touches the other's."""
        local, text = stack
        local.synth(text + '\n  - route: POST /leader\n    service: raft\n    filter: {leader: "true"}\n'
                           "    authorization: operators\n    scopes: [raft/admin]\n    timeout_ms: 5000\n")
        assert sorted(local.terraform.plan_changes()) == [("aws_apigatewayv2_integration.post_leader", ("create",)),
                                                          ("aws_apigatewayv2_route.post_leader", ("create",))]

    def test_adding_a_route_with_a_new_filter_plans_its_route_and_integration(self, stack):
        local, text = stack
        local.synth(text + "\n  - route: GET /zone-a\n    service: raft\n    filter: {zone: a}\n"
                           "    authorization: operators\n")
        assert sorted(local.terraform.plan_changes()) == [("aws_apigatewayv2_integration.get_zone_a", ("create",)),
                                                          ("aws_apigatewayv2_route.get_zone_a", ("create",))]

    def test_changing_a_filter_value_updates_one_integration_in_place(self, stack):
        local, text = stack
        local.synth(text.replace('leader: "false"', 'leader: "no"'))
        assert local.terraform.plan_changes() == [("aws_apigatewayv2_integration.follower", ("update",))]
        local.synth(text)

    def test_each_route_reaches_exactly_the_instances_its_filter_names(self, stack):
        local, text = stack
        sd = local.client("servicediscovery")
        for instance_id, attributes in ECS_TASKS.items():
            sd.register_instance(ServiceId=local.terraform.outputs()["service_raft_id"], InstanceId=instance_id,
                                 Attributes=attributes)
        reached = reach(local)
        assert reached == expected_reach(text, ECS_TASKS)
        assert reached == {"GET /": {"task-0", "task-1", "task-2"}, "GET /leader": {"task-0"},
                           "GET /follower": {"task-1", "task-2"}, "POST /admin/reload": {"task-0", "task-1", "task-2"}}

    def test_an_unhealthy_instance_drops_out(self, stack):
        local, _ = stack
        sd, service_id = local.client("servicediscovery"), local.terraform.outputs()["service_raft_id"]
        for instance_id, attributes in ECS_TASKS.items():  # RegisterInstance is an upsert: this test needs no other
            sd.register_instance(ServiceId=service_id, InstanceId=instance_id, Attributes=attributes)
        sd.update_instance_custom_health_status(ServiceId=service_id, InstanceId="task-1", Status="UNHEALTHY")
        assert reach(local)["GET /follower"] == {"task-2"}
        assert reach(local, health="ALL")["GET /follower"] == {"task-1", "task-2"}

    @pytest.mark.parametrize("case", ["filter-changed", "route-added", "route-removed", "service-name",
                                      "dns-record-type", "health-check", "namespace-name", "vpc-link-subnets",
                                      "stage-name", "throttling-changed"])
    def test_diff_predicts_what_terraform_plans(self, stack, case, tmp_path):
        """`diff` reads routes.yaml; `summarize-plan` reads Terraform's plan: they must agree on every action."""
        local, text = stack
        change = CASES[case][0]
        head = local.localise(change((ROOT / "routes.yaml").read_text()))
        local.synth(head)
        local.terraform.run("plan", "-input=false", "-out=tfplan")
        plan_json = tmp_path / "plan.json"
        plan_json.write_text(local.terraform.run("show", "-json", "tfplan").stdout)
        predicted = diff_models(model_of(text), model_of(head), case)
        planned = summarize_plan(json.loads(plan_json.read_text()), case)
        assert {(c.address, c.action) for c in planned.resources} == {(c.address, c.action) for c in predicted.resources}
        assert sorted(r.address for r in planned.replacements) == sorted(r.address for r in predicted.replacements)
        cli = subprocess.run([sys.executable, str(ROOT / "main.py"), "summarize-plan", str(plan_json), "--format",
                              "markdown"], capture_output=True, text=True, cwd=ROOT)
        assert cli.returncode == 0, cli.stderr
        for replaced in predicted.replacements:
            assert f"`{replaced.address}` **REPLACE**" in cli.stdout
        local.synth(text)

    def test_destroy_leaves_nothing_behind(self, stack):
        local, _ = stack
        sd = local.client("servicediscovery")
        service_id = local.terraform.outputs()["service_raft_id"]
        for instance_id in ECS_TASKS:  # ECS deregisters its tasks when the ECS service goes away
            sd.deregister_instance(ServiceId=service_id, InstanceId=instance_id)
        local.terraform.destroy()
        assert_nothing_left(local)


@pytest.mark.parametrize("stack", ["examples/http-static.yaml"], indirect=True, scope="class")
class TestHttpNamespaceWithStaticInstances:
    def test_second_plan_has_no_changes(self, stack):
        assert stack[0].terraform.plan_changes() == []

    def test_flipping_the_leader_attribute_updates_instances_in_place(self, stack):
        local, text = stack
        flipped = text.replace('leader: "true", zone: a', 'leader: "false", zone: a', 1) \
                      .replace('leader: "false", zone: b', 'leader: "true", zone: b', 1)
        local.synth(flipped)
        assert sorted(local.terraform.plan_changes()) == [("aws_service_discovery_instance.kv__node_1", ("update",)),
                                                          ("aws_service_discovery_instance.kv__node_2", ("update",))]
        local.synth(text)

    def test_each_route_reaches_exactly_the_instances_its_filter_names(self, stack):
        local, text = stack
        registered = {i.id: dict(i.attributes) for i in model_of(text).service("kv").instances}
        reached = reach(local)
        assert reached == expected_reach(text, registered)
        assert reached["GET /leader"] == {"node-1"} and reached["GET /follower"] == {"node-2", "node-3"}

    def test_an_unhealthy_instance_drops_out(self, stack):
        local, _ = stack
        local.client("servicediscovery").update_instance_custom_health_status(
            ServiceId=local.terraform.outputs()["service_kv_id"], InstanceId="node-3", Status="UNHEALTHY")
        assert reach(local)["GET /"] == {"node-1", "node-2"}

    def test_destroy_leaves_nothing_behind(self, stack):
        stack[0].terraform.destroy()
        assert_nothing_left(stack[0])


@pytest.mark.parametrize("stack", ["examples/secure.yaml"], indirect=True, scope="class")
class TestSecureExample:
    """Every option of the production example, applied and read back from the local API."""

    def test_second_plan_has_no_changes(self, stack):
        assert stack[0].terraform.plan_changes() == []

    def test_routes_carry_their_authorization(self, stack):
        local, _ = stack
        agw, api_id = local.client("apigatewayv2"), local.api_id()
        routes = {r["RouteKey"]: r for r in agw.get_routes(ApiId=api_id)["Items"]}
        # moto answers the list call (GetAuthorizers) with a 500; read each one by id instead.
        authorizers = {r["AuthorizerId"]: agw.get_authorizer(ApiId=api_id, AuthorizerId=r["AuthorizerId"])
                       for r in routes.values() if r.get("AuthorizerId")}
        assert {k: r["AuthorizationType"] for k, r in routes.items()} == {
            "GET /": "JWT", "GET /follower": "JWT", "GET /leader": "CUSTOM", "POST /admin/{proxy+}": "AWS_IAM"}
        assert routes["GET /follower"]["AuthorizationScopes"] == ["raft/read"]
        assert authorizers[routes["GET /leader"]["AuthorizerId"]]["AuthorizerType"] == "REQUEST"
        assert authorizers[routes["GET /"]["AuthorizerId"]]["JwtConfiguration"]["Audience"] == ["raft"]

    def test_stage_throttles_by_default_and_per_route(self, stack):
        local, _ = stack
        stage = local.client("apigatewayv2").get_stage(ApiId=local.api_id(), StageName="v1")
        assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 200
        assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == 100
        assert {k: (v["ThrottlingBurstLimit"], v["ThrottlingRateLimit"]) for k, v in stage["RouteSettings"].items()} \
            == {"GET /leader": (5, 1), "POST /admin/{proxy+}": (2, 0.5)}
        assert "integrationErrorMessage" in stage["AccessLogSettings"]["Format"]

    def test_integrations_verify_tls_and_strip_the_stage(self, stack):
        local, _ = stack
        for integration in local.client("apigatewayv2").get_integrations(ApiId=local.api_id())["Items"]:
            assert integration["TlsConfig"] == {"ServerNameToVerify": "raft.internal"}
            assert integration["RequestParameters"] == {"overwrite:path": "$request.path"}

    def test_cors_and_custom_domain(self, stack):
        local, _ = stack
        agw = local.client("apigatewayv2")
        api = agw.get_api(ApiId=local.api_id())
        assert api["CorsConfiguration"]["AllowOrigins"] == ["https://console.example.com"]
        assert api["DisableExecuteApiEndpoint"] is True
        mappings = agw.get_api_mappings(DomainName="api.example.com")["Items"]
        assert [(m["ApiId"], m["Stage"], m["ApiMappingKey"]) for m in mappings] == [(local.api_id(), "v1", "raft")]

    def test_each_route_reaches_exactly_the_instances_its_filter_names(self, stack):
        local, text = stack
        registered = {i.id: dict(i.attributes) for i in model_of(text).service("raft").instances}
        assert reach(local) == expected_reach(text, registered)

    def test_destroy_leaves_nothing_behind(self, stack):
        stack[0].terraform.destroy()
        assert_nothing_left(stack[0])
        assert stack[0].client("apigatewayv2").get_domain_names()["Items"] == []


def planned(local: LocalStack) -> list[tuple[str, str]]:
    """Plan into tfplan; (address, action) of every change, from `plan -json` (one Terraform run, no `show`)."""
    out = local.terraform.run("plan", "-input=false", "-out=tfplan", "-json").stdout
    messages = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return sorted((m["change"]["resource"]["addr"], m["change"]["action"]) for m in messages
                  if m.get("type") == "planned_change")


def assert_plan_empty(local: LocalStack) -> None:
    local.terraform.run("plan", "-input=false", "-detailed-exitcode")  # exit 2 (changes) fails with the plan text


def register_ecs_tasks(local: LocalStack) -> None:
    """What ECS keeps registered in the service that exists now (RegisterInstance of a known id updates it)."""
    sd, service_id = local.client("servicediscovery"), local.terraform.outputs()["service_raft_id"]
    for instance_id, attributes in ECS_TASKS.items():
        sd.register_instance(ServiceId=service_id, InstanceId=instance_id, Attributes=attributes)


FIRST_ROUTE = '\n  - route: GET /a\n    id: aaa\n    service: raft\n    filter: {leader: "true"}\n'  # sorts before every id

# Each step applies these kinds of change (tests/cases.py) together, then applies the original back: five steps
# instead of seventeen, as every Terraform run here costs seconds. Kinds share a step when Terraform carries them
# out on different resources or meets them in one update (the integrations take a new service ARN and a new VPC link
# id at once). A service replaced under a new name and one replaced under its own name stay apart: only the second
# needs the old service gone before the new one can take its name.
SEQUENCE = {
    "in-place": ("authorization-changed", "throttling-changed", "timeout-changed", "filter-changed",
                 "route-key-renamed", "log-group-kms-key", "no-change"),
    "routes-added-and-removed": ("route-added", "route-removed"),
    "service-renamed-vpc-link-and-stage-replaced": ("service-name", "vpc-link-subnets", "vpc-link-security-groups",
                                                    "stage-name"),
    "namespace-renamed-and-moved": ("namespace-vpc", "namespace-name"),  # in this order: both edit one line
    "service-replaced-under-its-name": ("dns-record-type", "routing-policy", "health-check"),
}
# Adding or removing a route plans exactly that route and its integration, whatever its id sorts before.
_ROUTES = [(f"aws_apigatewayv2_{kind}.{route}", action) for kind in ("integration", "route")
           for route, action in (("aaa", "create"), ("drop_leader", "create"), ("follower", "delete"))]
ROUTE_PLANS = {"routes-added-and-removed": (_ROUTES, [(address, {"create": "delete", "delete": "create"}[action])
                                                      for address, action in _ROUTES])}


# Not a kind `diff` names on its own: a route turning fan-out on (or off) changes its integration's type, which
# replaces the integration, and AWS refuses to delete an integration a route targets. The route is replaced with it
# (replace_triggered_by), and Terraform deletes the route first.
def _fan_out_follower(text: str) -> str:
    route = "  - route: GET /follower\n    id: follower\n"
    assert route in text
    return text.replace(route, route + "    fan_out: {per_instance_timeout_ms: 2000}\n", 1)


EXTRA_STEPS = {"fan-out-turned-on-and-off": _fan_out_follower}
REPLACED_TOGETHER = [("aws_apigatewayv2_integration.follower", "replace"), ("aws_apigatewayv2_route.follower", "replace")]


def test_the_sequence_applies_every_kind_of_change():
    assert sorted(kind for kinds in SEQUENCE.values() for kind in kinds) == sorted(CASES)


def apply_and_apply_back(stack, step: str) -> None:
    """One step of the sequence on an applied stack of routes.yaml (see TestEveryChangeAppliesAndAppliesBack)."""
    local, text = stack
    head = (ROOT / "routes.yaml").read_text()
    for kind in SEQUENCE.get(step, ()):
        head = CASES[kind][0](head)
    if step in EXTRA_STEPS:
        head = EXTRA_STEPS[step](head)
    if "route-added" in SEQUENCE.get(step, ()):
        head += FIRST_ROUTE
    local.account.cover(local.moto, local.region, head)  # the other subnet, security group, VPC or key
    if getattr(local, "unfinished", False):  # an earlier step failed half-way: start from the original again
        local.synth(text)
        local.terraform.apply()
    local.unfinished = True
    for target, expected in zip((local.localise(head), text), ROUTE_PLANS.get(step, (None, None))):
        register_ecs_tasks(local)
        local.synth(target)
        if step in EXTRA_STEPS:
            changes = planned(local)
            assert set(REPLACED_TOGETHER) <= set(changes), changes
            local.terraform.run("apply", "-input=false", "tfplan")
        elif expected is None:
            local.terraform.apply()
        else:
            assert planned(local) == sorted(expected)
            local.terraform.run("apply", "-input=false", "tfplan")
        assert_plan_empty(local)
    local.unfinished = False
    register_ecs_tasks(local)
    assert reach(local) == expected_reach(text, ECS_TASKS)


# The steps on two stacks, each applied from the original routes.yaml and destroyed at its end: every step starts
# from the original and ends on it, so which stack runs it changes nothing, and the two can run side by side.
STEPS = [*SEQUENCE, *EXTRA_STEPS]
FIRST_HALF = ["namespace-renamed-and-moved", "routes-added-and-removed", "in-place"]
SECOND_HALF = [step for step in STEPS if step not in FIRST_HALF]


def test_the_two_stacks_apply_every_step():
    assert sorted(FIRST_HALF + SECOND_HALF) == sorted(STEPS) and not set(FIRST_HALF) & set(SECOND_HALF)


@pytest.mark.parametrize("stack", ["routes.yaml"], indirect=True, scope="class")
class TestEveryChangeAppliesAndAppliesBack:
    """On one applied stack, with ECS's tasks registered all along: each step's apply succeeds, the next plan is
    empty, applying the original back succeeds, its next plan is empty, and every route still reaches exactly the
    tasks its filter names. The local AWS refuses, as AWS does, to delete a Cloud Map service with registered
    instances (the service's force_destroy deregisters them), a VPC link that integrations use (the link's
    create_before_destroy points them at the new one first) and an integration that a route targets (Terraform
    deletes a removed route before its integration)."""

    @pytest.mark.parametrize("step", FIRST_HALF)
    def test_applies_and_applies_back(self, stack, step):
        apply_and_apply_back(stack, step)

    def test_destroy_with_the_tasks_still_registered_leaves_nothing_behind(self, stack):
        stack[0].terraform.destroy()  # force_destroy deregisters what ECS left
        assert_nothing_left(stack[0])


@pytest.mark.parametrize("stack", ["routes.yaml"], indirect=True, scope="class")
class TestEveryOtherChangeAppliesAndAppliesBack:
    """The same as TestEveryChangeAppliesAndAppliesBack, for the other steps, on a stack of its own."""

    @pytest.mark.parametrize("step", SECOND_HALF)
    def test_applies_and_applies_back(self, stack, step):
        apply_and_apply_back(stack, step)

    def test_destroy_with_the_tasks_still_registered_leaves_nothing_behind(self, stack):
        stack[0].terraform.destroy()  # force_destroy deregisters what ECS left
        assert_nothing_left(stack[0])
