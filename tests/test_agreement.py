"""diff, summarize-plan, status and serve agree on what each route reaches and how it is authorized.

The reach corpus (tests/cases.py: CORPUS, every option of a route and an authorizer as OPTION_CASES, and instance
sets with unhealthy, portless and duplicate-leader members) is applied with real Terraform to the local AWS (moto's
server on 127.0.0.1) and changed in steps. At each step:

- diff (from the two routes.yaml texts) and summarize-plan (from `terraform show -json` of the real plan) must
  list the same routes, with the same reach flag, the same aspects changed (before and after) and the same
  resources;
- after the apply, with an instance set registered in Cloud Map (loopback backends that answer with their id),
  status (reading the deployed API and Cloud Map) must report for every route what the route's description says
  these instances give (compiler.reach: who is reached, who cannot be called, the verdict, the warnings, no drift,
  the authorization);
- serve (the real `python main.py serve --cloud-map` process, as a black box) must answer each route as the
  description says: who answered, how often, and with which status; a request without credentials is refused
  where authorization is required.

Every disagreement is collected, naming the tool, the step and the route, and each tool's test asserts there is
none. Nothing here talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field

import pytest

from compiler import reach
from compiler.language.model import Model
from compiler.live import status
from compiler.reach import aspects
from compiler.review.planfile import summarize_plan

from .backends import Backends, free_port
from .cases import CORPUS, INSTANCE_SETS, OPTION_CASES, reviewed
from .conftest import ROOT
from .helpers import eventually, stop_process
from .localaws import LocalAccount, LocalStack, MotoServer
from .synthesis import model_of
from .terraform import available, terraform_env

pytestmark = [pytest.mark.localaws, pytest.mark.terraform,
              pytest.mark.skipif(not available(), reason="terraform is not on PATH (README: Terraform is required)")]

# The corpus, then three states each made of some of the option cases (applied to the corpus in this order: an
# edit that rewrites another's anchor comes after it), and the instance set registered while each state is applied.
STEPS = {
    "corpus": ((), "healthy"),
    "options": (("concurrency", "include-unhealthy", "forward-headers", "max-body-bytes", "per-instance-timeout",
                 "filter-value", "tls-server-name", "stage-in-path", "throttling", "route-key", "timeout", "scopes",
                 "jwt-audiences", "allowlist-cidrs", "authorizer-cache", "route-overrides", "authorizer-overrides"),
                "unhealthy-and-portless"),
    "reach-and-authorizers": (("service", "fan-out-on", "authorizer-swap", "filter-unsettable", "jwt-issuer",
                               "identity-source", "simple-responses", "authorizer-function"), "two-leaders"),
    "authorization-and-ids": (("authorization-added", "authorizer-type", "public", "route-id"), "healthy"),
}
TASKS = {"task-1": {"leader": "true"}, "task-2": {"leader": "false"}}  # what ECS and the nodes register in `tasks`
ECS = {"ECS_CLUSTER_NAME": "agree", "ECS_SERVICE_NAME": "tasks", "AVAILABILITY_ZONE": "eu-west-1a"}
ROUNDS = 2  # requests per reached instance, for each proxied route


def state_text(step: str) -> str:
    text = CORPUS
    for case in STEPS[step][0]:
        text = OPTION_CASES[case].edit(text)
    return text


def test_every_option_case_is_in_some_step_and_each_step_is_valid():
    assert sorted(c for cases, _ in STEPS.values() for c in cases) == sorted(OPTION_CASES)
    for step in STEPS:
        model_of(state_text(step))


# -- the world: the applied stack, its Cloud Map, the backends and serve -------------------------------------------

class Serve:
    """`python main.py serve FILE --cloud-map URL --port P`, reloading FILE when it changes."""

    def __init__(self, file, cloud_map: str) -> None:
        self.port = free_port()
        self.file, self.errors = file, file.with_suffix(".stderr")
        with open(file.with_suffix(".access.log"), "w") as out, open(self.errors, "w") as err:
            self.process = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "serve", str(file), "--port",
                                             str(self.port), "--cloud-map", cloud_map], stdout=out, stderr=err,
                                            cwd=ROOT)
        if not eventually(lambda: "serving" in self.errors.read_text() or self.process.poll() is not None, 60):
            raise RuntimeError(self.errors.read_text())

    def load(self, text: str) -> None:
        before = self.errors.read_text().count("reloaded")
        self.file.write_text(text)
        assert eventually(lambda: self.errors.read_text().count("reloaded") > before, 30), self.errors.read_text()

    def request(self, method: str, path: str, headers: dict) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=b"" if method in ("POST", "PUT") else None, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def stop(self) -> None:
        stop_process(self.process)


@dataclass
class World:
    stack: LocalStack
    account: LocalAccount
    backends: Backends
    serve: Serve
    registered: dict = field(default_factory=dict)  # service key -> {instance id: reach.Registration}
    disagreements: dict = field(default_factory=lambda: {"summarize-plan": [], "status": [], "serve": [],
                                                         "serve (allow-list)": []})
    checked: Counter = field(default_factory=Counter)  # what was compared, per tool (the test must not be empty)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("agreement")
    moto = MotoServer(root / "moto.log")
    backends = Backends([*sorted({n for s in INSTANCE_SETS.values() for n in s}), *TASKS])
    serve = None
    try:
        region = model_of(CORPUS).region
        arns = sorted(set(re.findall(r"arn:aws:lambda:[^\s,}]+", "\n".join(map(state_text, STEPS)))))
        account = LocalAccount.create(moto, region, "\n".join(arns))  # the network, and every function a step names
        stack = LocalStack(root, moto, terraform_env(root), region)
        text = account.localise(CORPUS)
        stack.synth(text)
        stack.terraform.init()
        stack.terraform.apply()
        (root / "routes.yaml").write_text(text)
        serve = Serve(root / "routes.yaml", moto.url)
        found = World(stack, account, backends, serve)
        previous = text
        for step in STEPS:
            current = account.localise(state_text(step))
            if step != "corpus":
                compare_reviews(found, step, previous, current, root)
                stack.synth(current)
                stack.terraform.apply()
                serve.load(current)
            register(found, model_of(current), STEPS[step][1])
            compare_status(found, step, model_of(current))
            compare_serve(found, step, model_of(current))
            previous = current
        yield found
    finally:
        if serve is not None:
            serve.stop()
        backends.stop()
        moto.stop()


def register(world: World, model: Model, instance_set: str) -> None:
    """The instance set in Cloud Map, as the nodes and ECS register themselves (and health as reported)."""
    sd = world.stack.client("servicediscovery")
    outputs = world.stack.terraform.outputs()
    wanted = {"kv": {node: (attributes, health, has_port) for node, (attributes, health, has_port)
                     in INSTANCE_SETS[instance_set].items()},
              "tasks": {task: ({**attributes, **ECS}, "HEALTHY", True) for task, attributes in TASKS.items()}}
    for key, instances in wanted.items():
        service_id = outputs[f"service_{key}_id"]
        for old in set(world.registered.get(key, {})) - set(instances):
            sd.deregister_instance(ServiceId=service_id, InstanceId=old)
        world.registered[key] = {}
        for instance, (attributes, health, has_port) in instances.items():
            address = {"AWS_INSTANCE_IPV4": "127.0.0.1"}
            if has_port:
                address["AWS_INSTANCE_PORT"] = str(world.backends.ports[instance])
            sd.register_instance(ServiceId=service_id, InstanceId=instance, Attributes={**address, **attributes})
            sd.update_instance_custom_health_status(ServiceId=service_id, InstanceId=instance, Status=health)
            world.registered[key][instance] = reach.Registration(
                instance, tuple(sorted({**address, **attributes}.items())), reach.Health(health))


def expected(world: World, model: Model) -> dict[str, reach.RouteObservation]:
    """What each route's description says the registered instances give."""
    return {route_id: reach.observe(description, world.registered[description.target.service.key].values())
            for route_id, description in reach.describe(model).items()}


# -- diff and summarize-plan ---------------------------------------------------------------------------------------

def rows(summary) -> dict[str, dict]:
    """Each route's row as data: kind, reach flag, aspects changed (those that reach AWS), resources."""
    effect = {a.label: a.effect for a in aspects.Aspect}
    out = {}
    for route in summary.routes:
        changed = sorted(a for a in route.aspects if effect[a[0]] is not aspects.Effect.DECLARATION)
        resources = sorted((c.address, c.action) for c in route.resources)
        if route.kind != "changed" or changed or resources:  # a declaration (`public`) never reaches AWS
            out[route.route_id] = {"kind": route.kind, "reach changes": route.reach_changed, "aspects": changed,
                                   "resources": resources}
    return out


def compare_reviews(world: World, step: str, base: str, head: str, root) -> None:
    local = world.stack
    local.synth(head)
    local.terraform.run("plan", "-input=false", "-out=tfplan")
    plan = json.loads(local.terraform.run("show", "-json", "tfplan").stdout)
    (root / f"{step}.plan.json").write_text(json.dumps(plan))
    predicted, planned = rows(reviewed(base, head, step)), rows(summarize_plan(plan, step, model_of(head)))
    world.checked["summarize-plan"] += len(predicted)
    for route_id in sorted(predicted.keys() | planned.keys()):
        said, done = predicted.get(route_id), planned.get(route_id)
        removed = said and done and said["kind"] == done["kind"] == "removed"
        if removed and set(done["resources"]) <= set(said["resources"]):
            # A removed route's resources are owned by the base's plan, which the plan file does not know: the
            # route, its integration and a fan-out's function are linked by their ids, the rest listed apart.
            said = {**said, "resources": done["resources"]}
        if said != done:
            differ = [k for k in ("kind", "reach changes", "aspects", "resources")
                      if (said or {}).get(k) != (done or {}).get(k)]
            world.disagreements["summarize-plan"].append(f"{step}: route {route_id}: " + "; ".join(
                f"{k}: diff says {(said or {}).get(k)}, summarize-plan says {(done or {}).get(k)}" for k in differ))


# -- status --------------------------------------------------------------------------------------------------------

def compare_status(world: World, step: str, model: Model) -> None:
    local = world.stack
    report = status.read(model, local.client("apigatewayv2"), local.client("servicediscovery"))
    views = {v.id: v for v in report.routes}
    descriptions = reach.describe(model)
    for route_id, want in expected(world, model).items():
        view = views.get(route_id)
        told = (sorted(i.id for i in view.instances), view.failing, view.verdict, sorted(view.warnings), view.drift,
                view.authorization) if view else None
        wanted = (sorted(s.id for s in want.selected), [s.id for s in want.failing], want.verdict,
                  sorted(w.message for w in want.warnings), [], str(descriptions[route_id].authorization))
        world.checked["status"] += 1
        if told != wanted:
            world.disagreements["status"].append(f"{step}: route {route_id}: status says {told}, the description "
                                                 f"says {wanted}")
    if report.problems or [v.route for v in report.routes if v.id is None]:
        world.disagreements["status"].append(f"{step}: {report.problems}, undeclared routes deployed")


# -- serve ---------------------------------------------------------------------------------------------------------

def credentials(authorization: reach.RouteAuthorization) -> dict:
    identity = authorization.identity
    return {identity.name: "Bearer presence-only"} if identity and identity.kind is reach.IdentityKind.HEADER else {}


def compare_serve(world: World, step: str, model: Model) -> None:
    prefix = "" if model.api.stage == "$default" else f"/{model.api.stage}"
    descriptions = reach.describe(model)
    for route_id, want in expected(world, model).items():
        description = descriptions[route_id]
        key = description.key
        path, headers = prefix + key.path, credentials(description.authorization)
        if description.authorization.kind is reach.AuthKind.ALLOWLIST:
            # The description: admitted when the caller's address (loopback here) is in the CIDRs, whatever the
            # headers say.
            admitted = "127.0.0.1/32" in description.authorization.cidrs
            status_code, _ = world.serve.request(key.method, path, {})
            if (status_code in (401, 403)) == admitted:
                world.disagreements["serve (allow-list)"].append(
                    f"{step}: route {route_id}: serve answers {status_code} from 127.0.0.1 without headers; the "
                    f"description {'admits' if admitted else 'refuses'} 127.0.0.1 "
                    f"({', '.join(description.authorization.cidrs)})")
            continue
        problems = serve_answers(world, description, want, key.method, path, headers)
        world.checked["serve"] += 1
        world.disagreements["serve"] += [f"{step}: route {route_id}: {p}" for p in problems]


def serve_answers(world: World, description: reach.RouteReach, want: reach.RouteObservation, method: str,
                  path: str, headers: dict) -> list[str]:
    problems = []
    if description.authorization.required:
        refused, _ = world.serve.request(method, path, {})
        if refused != 401:
            problems.append(f"without credentials serve answers {refused}; the route needs "
                            f"{description.authorization}")
    if description.target.kind is reach.TargetKind.FAN_OUT:
        code, body = world.serve.request(method, path, headers)
        answer = json.loads(body)
        expected_status = (502 if not want.serving else 207 if want.failing else 200)
        called = sorted(i["id"] for i in answer.get("instances", []))
        served = sorted(i["id"] for i in answer.get("instances", []) if i.get("ok"))
        if (code, called, served) != (expected_status, sorted(s.id for s in want.selected),
                                      sorted(s.id for s in want.serving)):
            problems.append(f"fan-out answers {code}, called {called}, served by {served}; the description says "
                            f"{expected_status}, {want.verdict}")
        return problems
    selected = want.selected
    answers = Counter()
    for _ in range(max(1, ROUNDS * len(selected))):
        code, body = world.serve.request(method, path, headers)
        answers[json.loads(body)["instance"] if code == 200 else code] += 1
    wanted = Counter({s.id: ROUNDS for s in want.serving})
    failures = ROUNDS * len(want.failing) if selected else 1
    if failures:
        wanted[description.answers.cannot_call.status if selected else description.answers.no_instance.status] = \
            failures
    if answers != wanted:
        problems.append(f"serve answered {dict(answers)}; the description says {dict(wanted)} ({want.verdict})")
    return problems


# -- the verdicts ----------------------------------------------------------------------------------------------------

def test_diff_and_summarize_plan_agree_on_every_route(world):
    assert world.checked["summarize-plan"] > 10
    assert world.disagreements["summarize-plan"] == []


def test_status_says_what_the_description_says(world):
    assert world.checked["status"] == len(STEPS) * len(model_of(CORPUS).routes)
    assert world.disagreements["status"] == []


def test_serve_answers_as_the_description_says(world):
    assert world.checked["serve"] >= len(STEPS) * (len(model_of(CORPUS).routes) - 1)
    assert world.disagreements["serve"] == []


def test_serve_enforces_the_allow_list_as_the_description_says(world):
    assert world.disagreements["serve (allow-list)"] == []
