"""The local AWS refuses what AWS refuses (compiler/localaws/moto_launcher.py): each refusal, then the same call once the
reference is gone, straight through boto3 against the launched server."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def agw(moto):
    return moto.client("apigatewayv2", REGION)


@pytest.fixture(scope="module")
def sd(moto):
    return moto.client("servicediscovery", REGION)


@pytest.fixture
def vpc_link(moto, agw):
    ec2 = moto.client("ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    return agw.create_vpc_link(Name="link", SubnetIds=[subnet])["VpcLinkId"]


def private_integration(agw, api_id: str, vpc_link: str) -> str:
    return agw.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", ConnectionType="VPC_LINK",
                                  ConnectionId=vpc_link, IntegrationMethod="ANY", PayloadFormatVersion="1.0",
                                  IntegrationUri="arn:aws:servicediscovery:eu-west-1:123456789012:service/srv-x"
                                  )["IntegrationId"]


def refused(call, **kwargs) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response
    return error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Message"]


def test_an_integration_that_a_route_targets_cannot_be_deleted(agw, vpc_link):
    api = agw.create_api(Name="strict", ProtocolType="HTTP")["ApiId"]
    integration = private_integration(agw, api, vpc_link)
    route = agw.create_route(ApiId=api, RouteKey="GET /", Target=f"integrations/{integration}")["RouteId"]
    assert refused(agw.delete_integration, ApiId=api, IntegrationId=integration) == (
        "ConflictException", 409,
        f"Cannot delete Integration because it is referenced by the following Routes with Ids: [{route}]")
    agw.update_route(ApiId=api, RouteId=route, Target=f"integrations/{private_integration(agw, api, vpc_link)}")
    agw.delete_integration(ApiId=api, IntegrationId=integration)  # nothing targets it any more
    assert integration not in {i["IntegrationId"] for i in agw.get_integrations(ApiId=api)["Items"]}


def test_a_vpc_link_that_an_integration_of_any_api_uses_cannot_be_deleted(agw, vpc_link):
    agw.create_api(Name="unrelated", ProtocolType="HTTP")
    api = agw.create_api(Name="user", ProtocolType="HTTP")["ApiId"]
    integration = private_integration(agw, api, vpc_link)
    assert refused(agw.delete_vpc_link, VpcLinkId=vpc_link) == (
        "BadRequestException", 400,
        f"Cannot delete vpc link. Vpc link '{vpc_link}', is referenced in [ANY:{integration}] in format of [Method:Resource].")
    agw.delete_integration(ApiId=api, IntegrationId=integration)
    agw.delete_vpc_link(VpcLinkId=vpc_link)
    assert vpc_link not in {v["VpcLinkId"] for v in agw.get_vpc_links()["Items"]}


def test_an_authorizer_that_a_route_uses_cannot_be_deleted(agw):
    api = agw.create_api(Name="authorized", ProtocolType="HTTP")["ApiId"]
    authorizer = agw.create_authorizer(ApiId=api, Name="operators", AuthorizerType="JWT",
                                       IdentitySource=["$request.header.Authorization"],
                                       JwtConfiguration={"Audience": ["raft"], "Issuer": "https://issuer.example.com"}
                                       )["AuthorizerId"]
    route = agw.create_route(ApiId=api, RouteKey="GET /leader", AuthorizationType="JWT", AuthorizerId=authorizer)["RouteId"]
    assert refused(agw.delete_authorizer, ApiId=api, AuthorizerId=authorizer) == (
        "ConflictException", 409, "Cannot delete authorizer 'operators', is referenced in route: GET /leader")
    agw.update_route(ApiId=api, RouteId=route, AuthorizationType="NONE", AuthorizerId="")  # what the provider sends
    agw.delete_authorizer(ApiId=api, AuthorizerId=authorizer)


def test_a_cloud_map_service_with_registered_instances_cannot_be_deleted(sd):
    namespace = sd.create_http_namespace(Name="strict-instances")["OperationId"]
    namespace_id = sd.get_operation(OperationId=namespace)["Operation"]["Targets"]["NAMESPACE"]
    service = sd.create_service(Name="raft", NamespaceId=namespace_id)["Service"]["Id"]
    sd.register_instance(ServiceId=service, InstanceId="task-0", Attributes={"AWS_INSTANCE_IPV4": "10.0.1.10"})
    assert refused(sd.delete_service, Id=service) == (
        "ResourceInUse", 409, "Service contains registered instances; delete the instances before deleting the service")
    # What the provider's force_destroy does: deregister every instance, then delete.
    for instance in sd.list_instances(ServiceId=service)["Instances"]:
        sd.deregister_instance(ServiceId=service, InstanceId=instance["Id"])
    sd.delete_service(Id=service)
    assert service not in {s["Id"] for s in sd.list_services()["Services"]}


def test_a_second_cloud_map_service_of_the_same_name_in_a_namespace_is_refused(sd):
    ids = []
    for name in ("strict-twins-a", "strict-twins-b"):
        operation = sd.create_http_namespace(Name=name)["OperationId"]
        ids.append(sd.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"])
    first = sd.create_service(Name="raft", NamespaceId=ids[0])["Service"]["Id"]
    assert refused(sd.create_service, Name="raft", NamespaceId=ids[0]) == (
        "ServiceAlreadyExists", 400, f"Service already exists: {first}")
    others = [sd.create_service(Name="raft", NamespaceId=ids[1])["Service"],  # another namespace
              sd.create_service(Name="raft-v2", NamespaceId=ids[0])["Service"]]  # another name
    assert [(s["Name"], s["NamespaceId"]) for s in others] == [("raft", ids[1]), ("raft-v2", ids[0])]


def test_a_namespace_that_holds_a_service_cannot_be_deleted(sd):
    operation = sd.create_http_namespace(Name="strict-holder")["OperationId"]
    namespace = sd.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
    service = sd.create_service(Name="raft", NamespaceId=namespace)["Service"]["Id"]
    code, status, _ = refused(sd.delete_namespace, Id=namespace)
    assert (code, status) == ("ResourceInUse", 409)
    sd.delete_service(Id=service)
    sd.delete_namespace(Id=namespace)


def test_private_dns_namespaces_in_one_vpc_conflict_only_by_name(moto, sd):
    """The other way round: moto refused any second namespace in a VPC; Route 53 refuses only the same name."""
    vpc = moto.client("ec2", REGION).create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    sd.create_private_dns_namespace(Name="raft.internal", Vpc=vpc)
    sd.create_private_dns_namespace(Name="raft.cluster", Vpc=vpc)  # what a rename does, create-before-destroy
    code, _, _ = refused(sd.create_private_dns_namespace, Name="raft.internal", Vpc=vpc)
    assert code == "ConflictingDomainExists"


def test_a_log_groups_key_changes_in_place(moto):
    """Not a refusal: AssociateKmsKey, which the provider uses to change `kms_key_id`, and moto lacks."""
    logs = moto.client("logs", REGION)
    logs.create_log_group(logGroupName="/strict/access", kmsKeyId="arn:aws:kms:eu-west-1:123456789012:key/old")
    logs.associate_kms_key(logGroupName="/strict/access", kmsKeyId="arn:aws:kms:eu-west-1:123456789012:key/new")
    [group] = logs.describe_log_groups(logGroupNamePrefix="/strict/access")["logGroups"]
    assert group["kmsKeyId"] == "arn:aws:kms:eu-west-1:123456789012:key/new"
    logs.disassociate_kms_key(logGroupName="/strict/access")
    [group] = logs.describe_log_groups(logGroupNamePrefix="/strict/access")["logGroups"]
    assert "kmsKeyId" not in group


def test_a_stage_changes_in_place(agw):
    """Not a refusal: UpdateStage and DeleteRouteSettings, which the provider uses for throttling, and moto lacks."""
    api = agw.create_api(Name="staged", ProtocolType="HTTP")["ApiId"]
    agw.create_stage(ApiId=api, StageName="$default", DefaultRouteSettings={"ThrottlingBurstLimit": 100,
                                                                            "ThrottlingRateLimit": 50.0})
    agw.update_stage(ApiId=api, StageName="$default",
                     RouteSettings={"GET /raft/leader": {"ThrottlingBurstLimit": 5, "ThrottlingRateLimit": 1.0}})
    stage = agw.get_stage(ApiId=api, StageName="$default")
    assert stage["RouteSettings"]["GET /raft/leader"]["ThrottlingBurstLimit"] == 5
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 100
    agw.delete_route_settings(ApiId=api, StageName="$default", RouteKey="GET /raft/leader")
    assert agw.get_stage(ApiId=api, StageName="$default")["RouteSettings"] == {}
    assert refused(agw.delete_route_settings, ApiId=api, StageName="$default", RouteKey="GET /raft/leader")[:2] == (
        "NotFoundException", 404)


def test_an_empty_scope_list_clears_a_routes_scopes(agw):
    """What the provider sends when a route's scopes are removed; moto kept the old ones."""
    api = agw.create_api(Name="scoped", ProtocolType="HTTP")["ApiId"]
    route = agw.create_route(ApiId=api, RouteKey="GET /leader", AuthorizationScopes=["raft/admin"])["RouteId"]
    agw.update_route(ApiId=api, RouteId=route, AuthorizationScopes=[])
    assert not agw.get_route(ApiId=api, RouteId=route).get("AuthorizationScopes")
