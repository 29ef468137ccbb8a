"""`main.py status` against the local AWS (moto's server on 127.0.0.1): deployed or not, drift, the instances each
route reaches now, the verdict, and the exit code CI relies on.

Most cases build the deployed side directly with boto3 (cheap, one region each, so they cannot disturb each
other); one applies this tool's own synthesized output with real Terraform and reads it back.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys

import pytest

from compiler.core.deployed import STACK_TAG
from compiler.live.status import NO_INSTANCE

from .conftest import ROOT
from .helpers import eventually
from .localaws import MotoServer, applied
from .synthesis import model_of

TASKS = {"task-0": "true", "task-1": "false", "task-2": "false"}  # what three Raft nodes register


def routes_yaml(region: str, follower_filter: str = "false", api: str = "raft-api") -> str:
    return f"""version: 1
region: {region}
api: {{name: {api}}}
vpc_link: {{subnet_ids: [subnet-0a1b2c3d4e5f60718], security_group_ids: [sg-0c3d4e5f607182930]}}
namespace: {{type: http, name: raft-ns}}
services:
  raft: {{health_check: custom, app_attributes: [leader]}}
routes:
  - {{route: GET /, service: raft, public: true}}
  - {{route: GET /leader, id: leader, service: raft, filter: {{leader: "true"}}, public: true}}
  - {{route: GET /follower, id: follower, service: raft, filter: {{leader: "{follower_filter}"}}, public: true}}
"""


class Deployed:
    """What `terraform apply` of routes_yaml() creates, made by hand with boto3, plus three registered tasks."""

    def __init__(self, moto: MotoServer, region: str, text: str, stack: str = "routes") -> None:
        model = model_of(text)
        self.agw, self.sd = moto.client("apigatewayv2", region), moto.client("servicediscovery", region)
        self.sd.create_http_namespace(Name=model.namespace.name)
        self.namespace = next(n["Id"] for n in self.sd.list_namespaces()["Namespaces"]
                              if n["Name"] == model.namespace.name)
        service = self.sd.create_service(Name="raft", NamespaceId=self.namespace, HealthCheckCustomConfig={})["Service"]
        self.service_id, self.service_arn = service["Id"], service["Arn"]
        for i, (task, leader) in enumerate(TASKS.items()):
            self.register(task, {"AWS_INSTANCE_IPV4": f"10.0.1.{10 + i}", "AWS_INSTANCE_PORT": "8080",
                                 "leader": leader})
        link = self.agw.create_vpc_link(Name="raft-api", SubnetIds=["subnet-1"], SecurityGroupIds=["sg-1"])
        self.api_id = self.agw.create_api(Name=model.api.name, ProtocolType="HTTP", Tags={STACK_TAG: stack})["ApiId"]
        self.integrations = {}
        for route in model.routes:
            uri = self.service_arn + (f"?{route.filter.query()}" if route.filter else "")
            integration = self.agw.create_integration(
                ApiId=self.api_id, IntegrationType="HTTP_PROXY", ConnectionType="VPC_LINK",
                ConnectionId=link["VpcLinkId"], IntegrationMethod="ANY", PayloadFormatVersion="1.0",
                IntegrationUri=uri)["IntegrationId"]
            self.integrations[route.key.text] = integration
            self.agw.create_route(ApiId=self.api_id, RouteKey=route.key.text, Target=f"integrations/{integration}")

    def register(self, task: str, attributes: dict[str, str]) -> None:
        self.sd.register_instance(ServiceId=self.service_id, InstanceId=task, Attributes=attributes)


def status(file, *args: str) -> tuple[int, str, str]:
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "status", str(file), *args],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    return result.returncode, result.stdout, result.stderr


def status_here(file, *args: str) -> tuple[int, str, str]:
    """The same command in this process (no interpreter or boto3 start-up), for cases that read only the output."""
    from compiler.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["status", str(file), *args])
    return code, out.getvalue(), err.getvalue()


def reached(report: dict) -> dict[str, set[str]]:
    return {r["route"]: {i["id"] for i in r["instances"]} for r in report["routes"]}


@pytest.fixture
def file(tmp_path):
    return tmp_path / "routes.yaml"


def test_each_route_reaches_its_instances_and_the_exit_code_is_0(moto, file):
    file.write_text(routes_yaml("eu-west-1"))
    Deployed(moto, "eu-west-1", file.read_text())
    code, out, err = status(file, "--local-aws", moto.url, "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["ok"] and report["problems"] == []
    assert reached(report) == {"GET /": {"task-0", "task-1", "task-2"}, "GET /leader": {"task-0"},
                               "GET /follower": {"task-1", "task-2"}}
    leader = next(r for r in report["routes"] if r["route"] == "GET /leader")
    assert leader["instances"] == [{"id": "task-0", "address": "10.0.1.10:8080", "attributes": {"leader": "true"},
                                    "health": "HEALTHY", "ecs_task": None}]
    assert {r["route"]: r["verdict"] for r in report["routes"]} == {
        "GET /": "3 instances, round-robin", "GET /leader": "one instance: task-0 serves all",
        "GET /follower": "2 instances, round-robin"}

    code, out, _ = status_here(file, "--local-aws", moto.url)
    assert code == 0
    assert "GET /leader  [leader]  deployed, as in routes.yaml" in out
    assert "  task-0  10.0.1.10:8080  leader=true  HEALTHY" in out
    assert out.rstrip().endswith("3 of 3 route(s) ok; 0 drifted; 0 reaching no instance")

    code, out, _ = status_here(file, "--local-aws", moto.url, "--format", "markdown")
    assert code == 0
    assert "| route | deployed | drift | instances reached | verdict |" in out
    assert "| `GET /leader` | yes | - | `task-0` 10.0.1.10:8080 HEALTHY | one instance: task-0 serves all |" in out


def test_a_filter_that_matches_nothing_is_the_500_verdict_and_exit_1(moto, file):
    file.write_text(routes_yaml("eu-west-2", follower_filter="no"))
    deployed = Deployed(moto, "eu-west-2", file.read_text())
    deployed.register("task-3", {"leader": "true"})  # registered without an address
    deployed.sd.update_instance_custom_health_status(ServiceId=deployed.service_id, InstanceId="task-2",
                                                     Status="UNHEALTHY")
    code, out, _ = status(file, "--local-aws", moto.url)
    assert code == 1
    assert f"GET /follower  [follower]  deployed, as in routes.yaml\n  service raft, filter leader=no\n" \
           f"  verdict: {NO_INSTANCE}" in out
    assert "warning: task-3 has no AWS_INSTANCE_IPV4/AWS_INSTANCE_PORT" in out
    assert "warning: task-2 (10.0.1.12:8080) matches but is UNHEALTHY: it receives no traffic" in out
    assert "1 reaching no instance" in out


def test_drift_is_reported_route_by_route_with_exit_1(moto, file):
    file.write_text(routes_yaml("eu-central-1"))
    deployed = Deployed(moto, "eu-central-1", file.read_text())
    agw = deployed.agw
    agw.update_integration(ApiId=deployed.api_id, IntegrationId=deployed.integrations["GET /follower"],
                           IntegrationUri=deployed.service_arn + "?leader=no")
    other = deployed.sd.create_service(Name="other", NamespaceId=deployed.namespace)["Service"]
    agw.update_integration(ApiId=deployed.api_id, IntegrationId=deployed.integrations["GET /leader"],
                           IntegrationUri=other["Arn"] + "?leader=true")
    root = next(r for r in agw.get_routes(ApiId=deployed.api_id)["Items"] if r["RouteKey"] == "GET /")
    agw.delete_route(ApiId=deployed.api_id, RouteId=root["RouteId"])
    agw.create_route(ApiId=deployed.api_id, RouteKey="GET /extra",
                     Target=f"integrations/{deployed.integrations['GET /']}")
    code, out, err = status(file, "--local-aws", moto.url, "--format", "json")
    assert code == 1, err
    drift = {r["route"]: r["drift"] for r in json.loads(out)["routes"]}
    assert drift == {
        "GET /": ["not deployed: the API has no route with this key"],
        "GET /follower": ["filter: the integration says leader=no, routes.yaml says leader=false"],
        "GET /leader": [f"service: the integration targets other ({other['Id']}), routes.yaml says raft in namespace "
                        "raft-ns"],
        "GET /extra": ["deployed, but routes.yaml has no such route"]}
    follower = next(r for r in json.loads(out)["routes"] if r["route"] == "GET /follower")
    assert follower["filter"] == {"leader": "no"} and follower["verdict"] == NO_INSTANCE  # what traffic meets now


def test_services_are_named_by_their_routes_yaml_key(moto, file):
    """`kv` is Cloud Map's `raft` here; an integration moved to another declared service names that one's key."""
    text = routes_yaml("ca-central-1").replace(
        "  raft: {health_check: custom, app_attributes: [leader]}",
        "  kv: {name: raft, health_check: custom, app_attributes: [leader]}\n  spare: {name: other}").replace(
        "service: raft", "service: kv")
    file.write_text(text)
    deployed = Deployed(moto, "ca-central-1", text)
    other = deployed.sd.create_service(Name="other", NamespaceId=deployed.namespace)["Service"]
    deployed.agw.update_integration(ApiId=deployed.api_id, IntegrationId=deployed.integrations["GET /leader"],
                                    IntegrationUri=other["Arn"] + "?leader=true")
    code, out, _ = status_here(file, "--local-aws", moto.url)
    assert code == 1
    assert "GET /follower  [follower]  deployed, as in routes.yaml\n  service kv (Cloud Map raft), filter leader=false\n" \
        in out
    assert f"  drift: service: the integration targets spare (other, {other['Id']}), routes.yaml says kv\n" in out
    assert "  service spare (Cloud Map other), filter leader=true\n" in out


def test_the_api_is_found_by_name_and_stack_tag_or_by_id(moto, file, tmp_path):
    file.write_text(routes_yaml("ap-southeast-2"))
    first = Deployed(moto, "ap-southeast-2", file.read_text(), stack="routes")
    deployed = moto.client("apigatewayv2", "ap-southeast-2")
    second = deployed.create_api(Name="raft-api", ProtocolType="HTTP", Tags={STACK_TAG: "staging"})["ApiId"]
    code, out, _ = status(file, "--local-aws", moto.url, "--format", "json")
    assert (code, json.loads(out)["api_id"]) == (0, first.api_id)
    code, out, _ = status_here(file, "--local-aws", moto.url, "--format", "json", "--stack", "staging")
    assert (code, json.loads(out)["api_id"]) == (1, second)  # found, but it has no routes: every route drifted
    code, out, _ = status_here(file, "--local-aws", moto.url, "--format", "json", "--api-id", first.api_id)
    assert (code, json.loads(out)["api_id"]) == (0, first.api_id)
    missing = tmp_path / "missing.yaml"
    missing.write_text(routes_yaml("ap-southeast-2", api="not-deployed"))
    code, out, _ = status_here(missing, "--local-aws", moto.url)
    assert code == 1 and "problem: no API named 'not-deployed' is deployed" in out


def test_watch_prints_what_changed(moto, file, tmp_path):
    file.write_text(routes_yaml("sa-east-1"))
    deployed = Deployed(moto, "sa-east-1", file.read_text())
    log = tmp_path / "watch.out"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "status", str(file), "--local-aws",
                                    moto.url, "--watch", "0.3"], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        assert _eventually(lambda: "route(s) ok" in log.read_text()), log.read_text()
        deployed.register("task-1", {"AWS_INSTANCE_IPV4": "10.0.1.11", "AWS_INSTANCE_PORT": "8080", "leader": "true"})
        assert _eventually(lambda: "GET /leader: verdict: one instance: task-0 serves all -> 2 instances, round-robin"
                           in log.read_text()), log.read_text()
        assert "GET /follower: reaches: task-1 10.0.1.11:8080 HEALTHY, task-2 10.0.1.12:8080 HEALTHY -> " \
               "task-2 10.0.1.12:8080 HEALTHY" in log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_local_aws_must_be_on_loopback(file):
    file.write_text(routes_yaml("eu-west-1"))
    code, _, err = status(file, "--local-aws", "http://192.0.2.1:4566")
    assert code == 2 and "127.0.0.1, localhost or [::1]" in err


def _eventually(condition, seconds: float = 15.0) -> bool:
    return eventually(condition, seconds)


def test_status_of_a_stack_applied_by_terraform_from_this_tools_output(moto, tf_env, tmp_path):
    stack, text = applied(tmp_path / "stack", moto, tf_env, "examples/http-static.yaml")  # synth, init, apply
    file = tmp_path / "routes.yaml"
    file.write_text(text)
    code, out, err = status(file, "--local-aws", moto.url, "--format", "json")
    assert code == 0, err + out
    assert reached(json.loads(out)) == {"GET /": {"node-1", "node-2", "node-3"}, "GET /leader": {"node-1"},
                                        "GET /follower": {"node-2", "node-3"}}

    agw, api_id = stack.client("apigatewayv2"), stack.api_id()
    follower = next(r for r in agw.get_routes(ApiId=api_id)["Items"] if r["RouteKey"] == "GET /follower")
    integration_id = follower["Target"].split("/", 1)[1]
    uri = agw.get_integration(ApiId=api_id, IntegrationId=integration_id)["IntegrationUri"]
    agw.update_integration(ApiId=api_id, IntegrationId=integration_id,
                           IntegrationUri=uri.replace("leader=false", "leader=no"))
    code, out, _ = status(file, "--local-aws", moto.url)
    assert code == 1
    assert "GET /follower  [follower]  DRIFT\n  drift: filter: the integration says leader=no, routes.yaml says " \
           "leader=false" in out
    agw.update_integration(ApiId=api_id, IntegrationId=integration_id, IntegrationUri=uri)

    stack.client("servicediscovery").update_instance_custom_health_status(
        ServiceId=stack.terraform.outputs()["service_kv_id"], InstanceId="node-1", Status="UNHEALTHY")
    code, out, _ = status(file, "--local-aws", moto.url, "--format", "json")
    assert code == 1
    leader = next(r for r in json.loads(out)["routes"] if r["route"] == "GET /leader")
    assert (leader["drift"], leader["verdict"]) == ([], NO_INSTANCE)
    assert any("node-1" in w and "UNHEALTHY" in w for w in leader["warnings"])


# -- verdicts from the reach core (compiler/reach): fan-out wording, portless instances, split brain, quiet -------

FAN_OUT_ROUTE = ('  - {route: POST /reload, id: reload, service: raft, public: true, fan_out: {}}\n')
FAN_OUT_LINK = "vpc_link: {subnet_ids: [subnet-0a1b2c3d4e5f60718], security_group_ids: [sg-0c3d4e5f607182930]}"


def with_fan_out(text: str, route: str = FAN_OUT_ROUTE) -> str:
    assert FAN_OUT_LINK in text
    return text.replace(FAN_OUT_LINK, FAN_OUT_LINK[:-1] + ", vpc_id: vpc-0d4e5f60718293a4b, cloud_map_access: nat}") \
        + route


def deploy_fan_out(deployed: Deployed, route_key: str = "POST /reload") -> None:
    """The fan-out route's integration as the stack creates it: a Lambda proxy to its function."""
    uri = ("arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:"
           "function:raft-api-fanout-reload/invocations")
    integration = deployed.agw.create_integration(ApiId=deployed.api_id, IntegrationType="AWS_PROXY",
                                                  IntegrationMethod="POST", PayloadFormatVersion="2.0",
                                                  IntegrationUri=uri)["IntegrationId"]
    deployed.agw.create_route(ApiId=deployed.api_id, RouteKey=route_key, Target=f"integrations/{integration}")


def route_of(report: dict, key: str) -> dict:
    return next(r for r in report["routes"] if r["route"] == key)


def test_a_fan_out_route_is_worded_as_one_with_502_when_nothing_matches(moto, file):
    text = with_fan_out(routes_yaml("us-west-1"), FAN_OUT_ROUTE + '  - {route: POST /nobody, id: nobody, '
                        'service: raft, filter: {leader: maybe}, public: true, fan_out: {}}\n'
                        '  - {route: POST /leader/reload, id: leader_reload, service: raft, filter: {leader: "true"}, '
                        'public: true, fan_out: {}}\n')
    file.write_text(text)
    deployed = Deployed(moto, "us-west-1", routes_yaml("us-west-1"))
    for key in ("POST /reload", "POST /nobody", "POST /leader/reload"):
        deploy_fan_out(deployed, key)
    code, out, err = status_here(file, "--local-aws", moto.url, "--format", "json")
    report = json.loads(out)
    assert code == 1, err
    assert route_of(report, "POST /nobody")["verdict"] == "no instance: every request gets 502 from the fan-out function"
    assert route_of(report, "POST /leader/reload")["verdict"] == "fan-out: one instance, task-0, each request"
    assert route_of(report, "POST /reload")["verdict"] == "fan-out: all 3 instances, each request"
    assert {r["route"]: r["target"] for r in report["routes"]}["POST /reload"] == "fan-out"


def test_a_portless_instance_counts_as_failing_and_the_route_is_not_ok(moto, file):
    file.write_text(routes_yaml("us-west-2"))
    deployed = Deployed(moto, "us-west-2", file.read_text())
    deployed.register("task-3", {"AWS_INSTANCE_IPV4": "10.0.1.13", "leader": "false"})  # no AWS_INSTANCE_PORT
    code, out, _ = status_here(file, "--local-aws", moto.url, "--format", "json")
    report = json.loads(out)
    root = route_of(report, "GET /")
    assert code == 1 and not root["ok"] and root["failing"] == ["task-3"]
    assert root["verdict"] == "4 instances, round-robin: 1 request in 4 fails with 500 (task-3 cannot be called)"
    assert "task-3 has no AWS_INSTANCE_IPV4/AWS_INSTANCE_PORT: API Gateway cannot reach it, and requests sent to it " \
           "fail: 1 request in 4" in root["warnings"]
    code, out, _ = status_here(file, "--local-aws", moto.url)
    assert "1 of 3 route(s) ok; 0 drifted; 0 reaching no instance; 2 reaching instances that cannot be called" in out


def test_two_instances_matching_a_leader_filter_are_split_brain(moto, file):
    file.write_text(routes_yaml("ap-northeast-1"))
    deployed = Deployed(moto, "ap-northeast-1", file.read_text())
    deployed.register("task-1", {"AWS_INSTANCE_IPV4": "10.0.1.11", "AWS_INSTANCE_PORT": "8080", "leader": "true"})
    code, out, _ = status_here(file, "--local-aws", moto.url)
    assert code == 0  # every request is answered; the warning says by whom
    assert "GET /leader  [leader]  deployed, as in routes.yaml\n  service raft, filter leader=true\n" in out
    assert "  verdict: 2 instances, round-robin\n  warning: filter leader=true should select one instance, but 2 " \
           "match (task-0, task-1): split brain, requests go to each in turn\n" in out


def test_status_is_quiet_unless_verbose(moto, file):
    """check's warnings are check's news; ECS's own attributes are on every task, and shown when asked for."""
    text = routes_yaml("eu-north-1").replace("raft: {health_check: custom, app_attributes: [leader]}",
                                            "raft: {registered_by: ecs, app_attributes: [leader]}")
    file.write_text(text)
    deployed = Deployed(moto, "eu-north-1", text)
    deployed.register("task-0", {"AWS_INSTANCE_IPV4": "10.0.1.10", "AWS_INSTANCE_PORT": "8080", "leader": "true",
                                 "ECS_CLUSTER_NAME": "prod", "ECS_SERVICE_NAME": "raft", "AVAILABILITY_ZONE": "a"})
    code, out, err = status_here(file, "--local-aws", moto.url)
    assert "W402" not in err and "warning" not in err
    assert "  task-0  10.0.1.10:8080  leader=true  HEALTHY" in out
    code, out, err = status_here(file, "--local-aws", moto.url, "--verbose")
    assert "warning W402" in err
    assert "  task-0  10.0.1.10:8080  AVAILABILITY_ZONE=a ECS_CLUSTER_NAME=prod ECS_SERVICE_NAME=raft leader=true  " \
           "HEALTHY" in out


def test_an_authorization_that_differs_is_drift(moto, file):
    file.write_text(routes_yaml("eu-west-3"))
    deployed = Deployed(moto, "eu-west-3", file.read_text())
    leader = next(r for r in deployed.agw.get_routes(ApiId=deployed.api_id)["Items"] if r["RouteKey"] == "GET /leader")
    deployed.agw.update_route(ApiId=deployed.api_id, RouteId=leader["RouteId"], AuthorizationType="AWS_IAM")
    code, out, _ = status_here(file, "--local-aws", moto.url, "--format", "json")
    assert code == 1
    assert route_of(json.loads(out), "GET /leader")["drift"] == [
        "authorization: the route says AWS_IAM, routes.yaml says NONE"]
