"""`main.py import`: adopt a setup built by hand, and prove that Terraform then only imports it.

The reference setup is built with boto3 on the local AWS (moto's server on 127.0.0.1) as someone clicking through
the console would: a private DNS namespace, a service with SRV records and three static instances carrying
`leader`, a VPC link, an HTTP API with GET /, GET /leader and GET /follower (one Cloud Map integration each, the
filter in the integration URI) and a `$default` stage with auto-deploy and no access logs.

`import` writes routes.yaml and the import blocks; `synth --imports` puts them in the stack; `terraform plan` must
import every resource and change nothing: 0 to add, 0 to change, 0 to destroy (`import` writes
`force_destroy: false` for each adopted service, which is what an import leaves in Terraform's state). After apply,
a second plan has no changes at all.
"""

from __future__ import annotations

import json

import pytest

from compiler.adopt import Refused, adopt, clients
from compiler.core.deployed import STACK_TAG
from compiler.terraform.plan import build

from .helpers import run_main, run_on_a_terminal
from .localaws import MotoServer
from .synthesis import model_of
from .terraform import Terraform

REGION = "us-east-1"
LEADERS = {"node-1": "true", "node-2": "false", "node-3": "false"}


def console_setup(moto: MotoServer, name: str = "raft", health_check: bool = True) -> dict[str, str]:
    """The reference setup, as the console creates it; returns its ids. (Without `health_check`, the service has
    none: routes.yaml says so, and check warns, W402.)"""
    ec2, sd, agw = (moto.client(s, REGION) for s in ("ec2", "servicediscovery", "apigatewayv2"))
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"] for i in (1, 2)]
    sg = ec2.create_security_group(GroupName=f"{name}-link", Description="VPC link", VpcId=vpc)["GroupId"]
    operation = sd.create_private_dns_namespace(Name=f"{name}.internal", Vpc=vpc)["OperationId"]
    namespace = sd.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
    health = {"HealthCheckCustomConfig": {"FailureThreshold": 1}} if health_check else {}
    service = sd.create_service(Name=name, NamespaceId=namespace, **health,
                                DnsConfig={"NamespaceId": namespace, "RoutingPolicy": "MULTIVALUE",
                                           "DnsRecords": [{"Type": "SRV", "TTL": 10}]})["Service"]
    for i, (instance, leader) in enumerate(LEADERS.items()):
        sd.register_instance(ServiceId=service["Id"], InstanceId=instance, Attributes={
            "AWS_INSTANCE_IPV4": f"10.0.1.{10 + i}", "AWS_INSTANCE_PORT": "8080", "leader": leader})
    link = agw.create_vpc_link(Name=f"{name}-link", SubnetIds=subnets, SecurityGroupIds=[sg])["VpcLinkId"]
    api = agw.create_api(Name=f"{name}-api", ProtocolType="HTTP")["ApiId"]
    for key, query in (("GET /", ""), ("GET /leader", "?leader=true"), ("GET /follower", "?leader=false")):
        integration = agw.create_integration(ApiId=api, IntegrationType="HTTP_PROXY", ConnectionType="VPC_LINK",
                                             ConnectionId=link, IntegrationMethod="ANY", PayloadFormatVersion="1.0",
                                             IntegrationUri=service["Arn"] + query)["IntegrationId"]
        agw.create_route(ApiId=api, RouteKey=key, Target=f"integrations/{integration}")
    agw.create_stage(ApiId=api, StageName="$default", AutoDeploy=True)
    return {"api": api, "service": service["Id"], "namespace": namespace, "vpc": vpc, "link": link}


def import_and_synth(root, moto: MotoServer, tf_env: dict[str, str], api_id: str, *options: str) -> tuple[str, Terraform]:
    """`import` into root/routes.yaml, `synth --imports` and `terraform init`: (import's stderr, the stack)."""
    result = run_main("import", "--api-id", api_id, "--output", str(root / "routes.yaml"),
                      "--local-aws", moto.url, *options, cwd=root)
    assert result.returncode == 0, result.stderr
    synth = run_main("synth", str(root / "routes.yaml"), "--imports", str(root / "routes.imports.tf.json"),
                     "--local-aws", moto.url, "--engine", "direct", "--out", str(root / "cdktf.out"), cwd=root)
    assert synth.returncode == 0, synth.stderr
    terraform = Terraform(root / "cdktf.out" / "stacks" / "routes", tf_env)
    terraform.init()
    return result.stderr, terraform


@pytest.fixture(scope="module")
def adopted(moto, tf_env, tmp_path_factory):
    """The reference setup, imported with --tag-api and synthesized with its import blocks."""
    root = tmp_path_factory.mktemp("adopted")
    ids = console_setup(moto)
    stderr, terraform = import_and_synth(root, moto, tf_env, ids["api"], "--tag-api")
    return root, ids, stderr, terraform


def test_the_routes_yaml_describes_the_setup(adopted):
    root, ids, stderr, _ = adopted
    text = (root / "routes.yaml").read_text()
    assert "  access_logs: {enabled: false}  # the stage writes no access logs\n" in text
    assert "  - route: GET /leader\n    service: raft\n    filter: {leader: \"true\"}\n    public: true" in text
    # An IPv4 address is quoted: the YAML 1.1 float regex takes `10.0.1.10` (compiler/adopt/yamltext.py).
    assert "      - {id: node-1, ipv4: \"10.0.1.10\", port: 8080, attributes: {leader: \"true\"}}\n" in text
    assert f"  vpc_id: {ids['vpc']}" in text
    model = model_of(text)  # it compiles
    assert {r.key.text: dict(r.filter.pairs) for r in model.routes} == {
        "GET /": {}, "GET /leader": {"leader": "true"}, "GET /follower": {"leader": "false"}}
    assert [(s.key, [(i.id, dict(i.attributes)["leader"]) for i in s.instances]) for s in model.services] == [
        ("raft", sorted(LEADERS.items()))]
    assert STACK_TAG not in stderr  # --tag-api: the tag is there already


def test_the_import_blocks_cover_every_resource_synth_writes(adopted):
    root, ids, _, _ = adopted
    imports = json.loads((root / "routes.imports.tf.json").read_text())["import"]
    plan = build(model_of((root / "routes.yaml").read_text()))
    assert [i["to"] for i in imports] == [b.address for b in plan.blocks if b.mode == "managed"]
    by_address = {i["to"]: i["id"] for i in imports}
    assert by_address["aws_service_discovery_private_dns_namespace.namespace"] == f"{ids['namespace']}:{ids['vpc']}"
    assert by_address["aws_service_discovery_instance.raft__node_2"] == f"{ids['service']}/node-2"
    assert by_address["aws_apigatewayv2_stage.stage"] == f"{ids['api']}/$default"
    assert by_address["aws_apigatewayv2_vpc_link.vpc_link"] == ids["link"]
    stack = json.loads((root / "cdktf.out" / "stacks" / "routes" / "cdk.tf.json").read_text())
    assert stack["import"] == imports


def test_the_first_plan_only_imports_then_nothing_changes(adopted, moto):
    root, ids, _, terraform = adopted
    terraform.run("plan", "-input=false", "-out=tfplan")
    changes = terraform.show_plan()["resource_changes"]
    managed = [b.address for b in build(model_of((root / "routes.yaml").read_text())).blocks if b.mode == "managed"]
    assert sorted(c["address"] for c in changes) == sorted(managed)
    assert all("importing" in c["change"] for c in changes), [c["address"] for c in changes
                                                             if "importing" not in c["change"]]
    changed = {c["address"]: c["change"] for c in changes if c["change"]["actions"] != ["no-op"]}
    # Imports only: nothing is created, updated, replaced or deleted.
    assert changed == {}
    terraform.run("apply", "-input=false", "tfplan")
    assert terraform.plan_changes() == []
    # The adopted API is the stack's: `status` finds it by name and tag, and every route reaches its instances.
    status = run_main("status", str(root / "routes.yaml"), "--local-aws", moto.url, "--format", "json", cwd=root)
    report = json.loads(status.stdout)
    assert status.returncode == 0, status.stdout + status.stderr
    assert report["api_id"] == ids["api"]
    assert {r["route"]: sorted(i["id"] for i in r["instances"]) for r in report["routes"]} == {
        "GET /": ["node-1", "node-2", "node-3"], "GET /follower": ["node-2", "node-3"], "GET /leader": ["node-1"]}


def test_without_tag_api_nothing_is_written_to_aws_and_the_tag_is_announced(moto, tmp_path):
    ids = console_setup(moto, "plain")
    result = run_main("import", "--api-id", ids["api"], "--output", str(tmp_path / "routes.yaml"),
                      "--local-aws", moto.url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"aws_apigatewayv2_api.api: adds the tag {STACK_TAG}=routes" in result.stderr
    written = (tmp_path / "routes.yaml").read_text()
    assert "# The first plan also changes what routes.yaml cannot say as deployed:" in written
    assert moto.client("apigatewayv2", REGION).get_api(ApiId=ids["api"]).get("Tags", {}) == {}
    again = run_main("import", "--api-id", ids["api"], "--output", str(tmp_path / "routes.yaml"),
                     "--local-aws", moto.url, cwd=tmp_path)
    assert again.returncode == 2 and "exists; pass --force to replace it" in again.stderr


def test_strict_refuses_a_setup_whose_routes_yaml_would_have_warnings_and_writes_nothing(moto, tmp_path):
    ids = console_setup(moto, "strict", health_check=False)
    result = run_main("import", "--api-id", ids["api"], "--output", str(tmp_path / "routes.yaml"),
                      "--local-aws", moto.url, "--strict", "--tag-api", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "warning W402" in result.stderr and "and --strict fails on warnings; nothing written" in result.stderr
    assert list(tmp_path.iterdir()) == []
    assert moto.client("apigatewayv2", REGION).get_api(ApiId=ids["api"]).get("Tags", {}) == {}  # nor tagged


def test_on_a_terminal_import_shows_how_many_aws_calls_it_has_made(moto, tmp_path):
    import os
    import sys

    from .conftest import ROOT
    ids = console_setup(moto, "progress")
    code, shown = run_on_a_terminal([sys.executable, str(ROOT / "main.py"), "import", "--api-id", ids["api"],
                                     "--output", str(tmp_path / "routes.yaml"), "--local-aws", moto.url], tmp_path,
                                    {**os.environ, "PYTHONPATH": str(ROOT)}, 120)
    assert code == 0
    assert f"\r\x1b[Kreading API {ids['api']}..." in shown
    calls = int(shown.split(f"reading API {ids['api']}: done in ")[1].split(", ")[1].split(" AWS calls")[0])
    assert calls >= 10  # the API, its routes, integrations, stages, the link, the service, its instances, ...
    piped = run_main("import", "--api-id", ids["api"], "--output", str(tmp_path / "again.yaml"), "--local-aws",
                     moto.url, cwd=tmp_path)
    assert piped.returncode == 0 and "reading API" not in piped.stderr  # off a terminal: nothing of it


def test_a_jwt_authorizer_and_its_scopes_are_adopted(moto):
    ids = console_setup(moto, "jwt")
    agw = moto.client("apigatewayv2", REGION)
    authorizer = agw.create_authorizer(ApiId=ids["api"], AuthorizerType="JWT", Name="operators",
                                       IdentitySource=["$request.header.Authorization"],
                                       JwtConfiguration={"Audience": ["raft-admin"],
                                                         "Issuer": "https://issuer.example.com/pool"})["AuthorizerId"]
    leader = next(r for r in agw.get_routes(ApiId=ids["api"])["Items"] if r["RouteKey"] == "GET /leader")
    agw.update_route(ApiId=ids["api"], RouteId=leader["RouteId"], AuthorizationType="JWT", AuthorizerId=authorizer,
                     AuthorizationScopes=["raft/admin"])
    adoption = adopt(clients(REGION, moto.url), ids["api"], "routes.yaml")
    assert ("authorizers:\n  operators:\n    type: jwt\n    issuer: https://issuer.example.com/pool\n"
            "    audiences: [raft-admin]\n") in adoption.text
    assert ("  - route: GET /leader\n    service: jwt\n    filter: {leader: \"true\"}\n    authorization: operators\n"
            "    scopes: [raft/admin]\n") in adoption.text
    assert ("aws_apigatewayv2_authorizer.operators", f"{ids['api']}/{authorizer}") in adoption.imports
    assert ("aws_apigatewayv2_route.get_leader", f"{ids['api']}/{leader['RouteId']}") in adoption.imports


# --- what the language cannot express is refused, and nothing is written ----------------------------------

def refusal(moto, api_id: str) -> list[str]:
    with pytest.raises(Refused) as caught:
        adopt(clients(REGION, moto.url), api_id, "routes.yaml")
    return caught.value.reasons


def test_a_rest_api_is_refused(moto, tmp_path):
    rest = moto.client("apigateway", REGION).create_rest_api(name="legacy")["id"]
    result = run_main("import", "--api-id", rest, "--output", str(tmp_path / "routes.yaml"), "--local-aws", moto.url)
    assert result.returncode == 1
    assert f"{rest} is a REST API ('legacy', API Gateway v1): routes.yaml describes HTTP APIs" in result.stderr
    assert "nothing was written" in result.stderr and list(tmp_path.iterdir()) == []


def test_integrations_that_are_not_cloud_map_and_extra_stages_are_refused(moto):
    ids = console_setup(moto, "mixed")
    agw = moto.client("apigatewayv2", REGION)
    public = agw.create_integration(ApiId=ids["api"], IntegrationType="HTTP_PROXY", IntegrationMethod="GET",
                                    IntegrationUri="https://example.com/hook")["IntegrationId"]
    agw.create_route(ApiId=ids["api"], RouteKey="POST /hook", Target=f"integrations/{public}")
    agw.create_stage(ApiId=ids["api"], StageName="prod")
    reasons = refusal(moto, ids["api"])
    assert any(r.startswith(f"route POST /hook: integration {public} is not a Cloud Map private integration")
               for r in reasons), reasons
    assert any("has 2 stages ($default, prod): routes.yaml describes exactly one" in r for r in reasons), reasons


def test_an_integration_that_rewrites_requests_is_refused(moto):
    ids = console_setup(moto, "rewrite")
    agw = moto.client("apigatewayv2", REGION)
    route = next(r for r in agw.get_routes(ApiId=ids["api"])["Items"] if r["RouteKey"] == "GET /leader")
    agw.update_integration(ApiId=ids["api"], IntegrationId=route["Target"].split("/")[1],
                           RequestParameters={"append:header.x-from": "gateway"})
    assert any("rewrites the request (append:header.x-from=gateway)" in r for r in refusal(moto, ids["api"]))


def test_synth_refuses_import_blocks_for_resources_it_does_not_write(tmp_path):
    imports = tmp_path / "routes.imports.tf.json"
    imports.write_text(json.dumps({"import": [{"to": "aws_apigatewayv2_route.nope", "id": "a/b"}]}))
    result = run_main("synth", "routes.yaml", "--imports", str(imports), "--engine", "direct", "--out",
                      str(tmp_path / "out"))
    assert result.returncode == 1
    assert ("the import blocks do not fit the stack:\n  aws_apigatewayv2_route.nope: no such resource in this "
            "stack") in result.stderr
    assert not (tmp_path / "out").exists()
