"""`graph --local-aws`: the picture's instances are what Cloud Map's DiscoverInstances returns now (moto's server
on 127.0.0.1), with their health, each filter applied as API Gateway applies it; an instance that matches but is
unhealthy is drawn blocked, one that deregisters is gone on the next read."""

from __future__ import annotations

import re

import pytest

from compiler.pictures import graph

from .helpers import run_main
from .hostile_pictures import mermaid_text
from .localaws import MotoServer

pytestmark = pytest.mark.localaws

REGION = "eu-central-1"
ROUTES = f"""version: 1
region: {REGION}
api: {{name: live-api}}
vpc_link: {{subnet_ids: [subnet-0a1b2c3d4e5f60718], security_group_ids: [sg-0c3d4e5f607182930]}}
namespace: {{type: http, name: live-ns}}
services:
  kv: {{health_check: custom, app_attributes: [leader]}}
routes:
  - {{route: GET /, service: kv, public: true}}
  - {{route: GET /leader, id: leader, service: kv, filter: {{leader: "true"}}, public: true}}
"""


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto-pictures") / "server.log")
    yield server
    server.stop()


@pytest.fixture
def cloud_map(moto):
    sd = moto.client("servicediscovery", REGION)
    sd.create_http_namespace(Name="live-ns")
    namespace = next(n["Id"] for n in sd.list_namespaces()["Namespaces"] if n["Name"] == "live-ns")
    service = sd.create_service(Name="kv", NamespaceId=namespace, HealthCheckCustomConfig={})["Service"]["Id"]
    for task, leader in (("task-a", "true"), ("task-b", "false"), ("task-c", "true")):
        sd.register_instance(ServiceId=service, InstanceId=task, Attributes={
            "AWS_INSTANCE_IPV4": "10.0.2.1" + task[-1].replace("a", "0").replace("b", "1").replace("c", "2"),
            "AWS_INSTANCE_PORT": "8080", "leader": leader, "ECS_CLUSTER_NAME": "prod"})
    sd.update_instance_custom_health_status(ServiceId=service, InstanceId="task-c", Status="UNHEALTHY")
    yield sd, service
    for instance in sd.list_instances(ServiceId=service)["Instances"]:
        sd.deregister_instance(ServiceId=service, InstanceId=instance["Id"])
    sd.delete_service(Id=service)
    sd.delete_namespace(Id=namespace)


def nodes(text: str) -> dict[str, str]:
    """Node id -> its label as Mermaid shows it, lines joined by <br/>."""
    return {node: "<br/>".join(mermaid_text(label)) for node, label in re.findall(r'^  ([a-z]\d+)\S*?"(.*)"', text, re.M)}


def edges(text: str) -> set[tuple[str, str, str]]:
    return set(re.findall(r"^  ([a-z]\d+) (-->|==>|-\.->\|[a-z ]+\|) ([a-z]\d+)$", text, re.M))


def test_live_instances_with_their_health_and_each_filter_applied(moto, cloud_map, tmp_path):
    file = tmp_path / "routes.yaml"
    file.write_text(ROUTES)
    result = run_main("graph", str(file), "--local-aws", moto.url)
    assert result.returncode == 0, result.stderr
    found = nodes(result.stdout)
    ids = {label.split("<br/>")[0]: node for node, label in found.items()}
    assert {"task-a", "task-b", "task-c"} <= set(ids)
    assert found[ids["task-c"]].endswith("<br/>unhealthy") and "ECS" not in found[ids["task-a"]]
    leader = next(n for n, label in found.items() if label.startswith("kv<br/>filter leader=true"))
    everyone = next(n for n, label in found.items() if label.startswith("kv<br/>filter: all instances"))
    drawn = edges(result.stdout)
    assert {(t, arrow) for s, arrow, t in drawn if s == leader} == {
        (ids["task-a"], "-->"), (ids["task-c"], "-.->|no traffic|")}
    assert {(t, arrow) for s, arrow, t in drawn if s == everyone} == {
        (ids["task-a"], "-->"), (ids["task-b"], "-->"), (ids["task-c"], "-.->|no traffic|")}


def test_a_deregistered_instance_is_gone_and_an_empty_service_says_so(moto, cloud_map, tmp_path):
    sd, service = cloud_map
    file = tmp_path / "routes.yaml"
    file.write_text(ROUTES)
    sd.deregister_instance(ServiceId=service, InstanceId="task-a")
    after = nodes(run_main("graph", str(file), "--local-aws", moto.url).stdout)
    assert not any(label.startswith("task-a<br/>") for label in after.values())
    for task in ("task-b", "task-c"):
        sd.deregister_instance(ServiceId=service, InstanceId=task)
    empty = run_main("graph", str(file), "--local-aws", moto.url)
    assert empty.returncode == 0, empty.stderr
    assert "no instance of kv<br/>DiscoverInstances returns none" in nodes(empty.stdout).values()


def test_a_service_cloud_map_does_not_have_is_a_warning_not_a_traceback(moto, tmp_path):
    file = tmp_path / "routes.yaml"
    file.write_text(ROUTES.replace("live-ns", "missing-ns"))
    result = run_main("graph", str(file), "--local-aws", moto.url)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "warning: graph: DiscoverInstances for kv:" in result.stderr
    assert "DiscoverInstances failed (see the warning)" in result.stdout
    assert graph.STATIC_NONE not in result.stdout
