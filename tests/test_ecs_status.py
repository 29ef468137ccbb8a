"""status's one line for an ECS task: the task ARN derived from what ECS registers (instance id, cluster, Region)
and the Cloud Map service's account, the task definition family, and never ECS's attributes one by one."""

from __future__ import annotations

import pytest

from compiler.live.discovery import Found
from compiler.live.ecs import task_arn, task_line, without_ecs
from compiler.live.status import InstanceView, RouteView, _instance_text, registration
from compiler.reach.observation import Seen, Standing

SERVICE = "arn:aws:servicediscovery:eu-west-1:123456789012:service/srv-abcdefgh12345678"
TASK = "0123456789abcdef0123456789abcdef"
ECS = {"AVAILABILITY_ZONE": "eu-west-1a", "REGION": "eu-west-1", "ECS_SERVICE_NAME": "raft",
       "ECS_CLUSTER_NAME": "prod", "ECS_TASK_DEFINITION_FAMILY": "raft", "leader": "true"}


def test_the_task_arn_is_built_from_the_instance_the_cluster_the_region_and_the_services_account():
    assert task_arn(TASK, ECS, SERVICE) == f"arn:aws:ecs:eu-west-1:123456789012:task/prod/{TASK}"
    assert task_arn(TASK, ECS, SERVICE.replace("arn:aws:", "arn:aws-cn:")).startswith("arn:aws-cn:ecs:")
    uuid = "d190d14a-2404-45d6-9113-4eda22d7f2c7"  # a task id of the format before 2018
    assert task_arn(uuid, ECS, SERVICE).endswith(f"task/prod/{uuid}")


@pytest.mark.parametrize("instance, attributes, service", [
    ("node-1", ECS, SERVICE),  # not a task id: a static or application-registered instance
    (TASK, {**ECS, "REGION": "eu-west-1\x1b[2J"}, SERVICE),  # a Region that is not one
    (TASK, {**ECS, "ECS_CLUSTER_NAME": "a/b"}, SERVICE),  # a cluster name ECS would refuse
    (TASK, ECS, None), (TASK, ECS, "arn:aws:lambda:eu-west-1:123456789012:function:f"),  # no service account
])
def test_no_arn_is_made_up_from_parts_that_are_missing_or_malformed(instance, attributes, service):
    assert task_arn(instance, attributes, service) is None


def test_the_line_names_the_task_and_its_definition_and_says_the_revision_is_not_registered():
    assert task_line(TASK, ECS, SERVICE) == (f"ECS task arn:aws:ecs:eu-west-1:123456789012:task/prod/{TASK}, "
                                             "task definition raft (revision not registered)")
    with_revision = {**ECS, "ECS_TASK_DEFINITION_REVISION": "7"}
    assert task_line(TASK, with_revision, SERVICE).endswith("task definition raft:7")
    assert task_line(TASK, ECS, None) == (f"ECS task prod/{TASK} (no ARN: the service's account or the task id is "
                                          "unknown), task definition raft (revision not registered)")
    assert task_line("node-1", {"leader": "true"}, SERVICE) is None  # not registered by ECS


def test_hostile_attribute_values_are_shown_as_escapes():
    line = task_line("x", {**ECS, "ECS_CLUSTER_NAME": "p\x1b[31m", "ECS_TASK_DEFINITION_FAMILY": "f\u202e"}, SERVICE)
    assert "\x1b" not in line and "\u202e" not in line and "\\x1b" in line and "\\u202e" in line


def test_status_shows_one_line_per_task_without_ecs_attributes_one_by_one():
    found = Found(TASK, tuple(sorted({**ECS, "AWS_INSTANCE_IPV4": "10.0.1.10", "AWS_INSTANCE_PORT": "8080"}.items())))
    view = InstanceView.of(Seen(registration(found), Standing.SERVES), SERVICE)
    assert view.attributes == {k: v for k, v in ECS.items()}  # the JSON keeps every attribute
    route = RouteView("GET /leader", "leader", True, filter={"leader": "true"})
    assert _instance_text(view, route) == (f"{TASK}  10.0.1.10:8080  leader=true  HEALTHY  ECS task arn:aws:ecs:eu-west-1:"
                                    f"123456789012:task/prod/{TASK}, task definition raft (revision not registered)")
    assert without_ecs({"leader": "true"}) == {"leader": "true"}


ROUTES = """version: 1
region: eu-west-1
api: {name: ecs-api}
vpc_link: {subnet_ids: [subnet-0a1b2c3d4e5f60718], security_group_ids: [sg-0c3d4e5f607182930]}
namespace: {type: http, name: ecs-ns}
services:
  raft: {registered_by: ecs, health_check: none}
routes:
  - {route: GET /, service: raft, public: true}
"""


@pytest.mark.localaws
def test_status_reads_the_task_from_cloud_map_with_the_deployed_services_account(tmp_path):
    """Through the local AWS: the service's ARN (and so the account) is the one the deployed integration targets."""
    from compiler.core.deployed import STACK_TAG
    from compiler.live.status import read

    from .localaws import MotoServer
    from .synthesis import model_of

    moto = MotoServer(tmp_path / "moto.log")
    try:
        sd, agw = moto.client("servicediscovery", "eu-west-1"), moto.client("apigatewayv2", "eu-west-1")
        operation = sd.create_http_namespace(Name="ecs-ns")["OperationId"]
        namespace = sd.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
        service = sd.create_service(Name="raft", NamespaceId=namespace)["Service"]
        sd.register_instance(ServiceId=service["Id"], InstanceId=TASK, Attributes={
            **{k: v for k, v in ECS.items() if k != "leader"}, "AWS_INSTANCE_IPV4": "10.0.1.10",
            "AWS_INSTANCE_PORT": "8080"})
        api = agw.create_api(Name="ecs-api", ProtocolType="HTTP", Tags={STACK_TAG: "routes"})["ApiId"]
        link = agw.create_vpc_link(Name="ecs-api", SubnetIds=["subnet-1"], SecurityGroupIds=["sg-1"])["VpcLinkId"]
        integration = agw.create_integration(ApiId=api, IntegrationType="HTTP_PROXY", ConnectionType="VPC_LINK",
                                             ConnectionId=link, IntegrationMethod="ANY",
                                             IntegrationUri=service["Arn"])["IntegrationId"]
        agw.create_route(ApiId=api, RouteKey="GET /", Target=f"integrations/{integration}")
        report = read(model_of(ROUTES), agw, sd)
        [instance] = report.routes[0].instances
        account = service["Arn"].split(":")[4]
        assert instance.ecs_task == (f"ECS task arn:aws:ecs:eu-west-1:{account}:task/prod/{TASK}, task definition "
                                     "raft (revision not registered)")
    finally:
        moto.stop()
