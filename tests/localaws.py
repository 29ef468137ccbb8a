"""moto's server on 127.0.0.1 as a local AWS, plus the network fixtures an example needs.

Only loopback: the server binds 127.0.0.1 and every client here is pointed at it explicitly.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import boto3
from botocore.config import Config

from .helpers import stop_process
from .synthesis import model_of
from .terraform import Terraform

DEFAULT_REGION = "us-east-1"  # what local mode gives the provider when routes.yaml names no region


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    def __init__(self, log: pathlib.Path) -> None:
        from . import conftest  # under pytest: the test being set up or run, when it is not marked localaws
        if conftest.UNMARKED_TEST is not None:
            raise RuntimeError(f"{conftest.UNMARKED_TEST} starts a local AWS but is not marked localaws: use the `moto` fixture "
                               "(tests/conftest.py), which marks the tests that use it")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "w")
        # AWS-managed IAM policies (e.g. AWSLambdaVPCAccessExecutionRole) exist in every account; moto loads them
        # only when asked.
        self.process = subprocess.Popen([sys.executable, str(pathlib.Path(__file__).with_name("moto_launcher.py")), "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=self._log, stderr=subprocess.STDOUT,
                                        env={**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"})
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2).read()
                return
            except OSError as exc:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto's server did not start; see {log}") from exc
                time.sleep(0.2)

    def client(self, service: str, region: str):
        # DiscoverInstances is served from a 'data-' host prefix in real AWS; the local server has none.
        return boto3.client(service, endpoint_url=self.url, region_name=region, aws_access_key_id="test",
                            aws_secret_access_key="test", config=Config(inject_host_prefix=False))

    def reset(self) -> None:
        """An empty account again: moto's reset API drops every resource of every service and region."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        urllib.request.urlopen(request, timeout=30).read()

    def stop(self) -> None:
        stop_process(self.process, timeout=20)
        self._log.close()


@dataclass
class LocalAccount:
    """What an example expects to exist already: a VPC with subnets and a security group, a KMS key for the logs,
    an ACM certificate, a Lambda authorizer function. Created in the local AWS; placeholders in the example are
    replaced by the real ids and ARNs."""

    replacements: dict[str, str]

    @classmethod
    def create(cls, moto: MotoServer, region: str, text: str) -> "LocalAccount":
        ec2 = moto.client("ec2", region)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"] for i in (1, 2)]
        sg = ec2.create_security_group(GroupName=f"vpc-link-{vpc}", Description="VPC link", VpcId=vpc)["GroupId"]
        replacements = {"subnet-0a1b2c3d4e5f60718": subnets[0], "subnet-0b2c3d4e5f6071829": subnets[1],
                        "sg-0c3d4e5f607182930": sg, "vpc-0d4e5f60718293a4b": vpc}
        for arn in re.findall(r"arn:aws:kms:[^\s,}]+", text):
            replacements[arn] = moto.client("kms", region).create_key()["KeyMetadata"]["Arn"]
        for arn in re.findall(r"arn:aws:acm:[^\s,}]+", text):
            replacements[arn] = moto.client("acm", region).request_certificate(DomainName="api.example.com")["CertificateArn"]
        for arn in re.findall(r"arn:aws:lambda:[^\s,}]+", text):
            replacements[arn] = _lambda_function(moto, region, arn.rsplit(":", 1)[1])
        for uri in dict.fromkeys(re.findall(r"truststore_uri:\s*\"?(s3://[^\s,}\"]+)", text)):
            version = _truststore(moto, region, uri)  # a mutual TLS truststore: a versioned S3 object
            for written in re.findall(r"truststore_version:\s*\"?([^\s,}\"#]+)", text):
                replacements[written] = version
        return cls(replacements)

    def localise(self, text: str) -> str:
        for placeholder, real in self.replacements.items():
            text = text.replace(placeholder, real)
        return text

    def cover(self, moto: MotoServer, region: str, text: str) -> None:
        """Create what an edited example names that the account does not have yet (another subnet, security
        group, VPC or KMS key), as AWS would require it to exist. `text` is the example before localise."""
        ec2, vpc = moto.client("ec2", region), self.replacements["vpc-0d4e5f60718293a4b"]
        for placeholder in dict.fromkeys(re.findall(r"\b(?:vpc|subnet|sg)-[0-9a-f]{17}\b|arn:aws:kms:[^\s,}]+", text)):
            if placeholder in self.replacements:
                continue
            n = len(self.replacements)  # a fresh CIDR for each new network
            if placeholder.startswith("vpc-"):
                real = ec2.create_vpc(CidrBlock=f"10.{100 + n}.0.0/16")["Vpc"]["VpcId"]
            elif placeholder.startswith("subnet-"):
                real = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{100 + n}.0/24")["Subnet"]["SubnetId"]
            elif placeholder.startswith("sg-"):
                real = ec2.create_security_group(GroupName=f"sg-{n}-{vpc}", Description="edited", VpcId=vpc)["GroupId"]
            else:
                real = moto.client("kms", region).create_key()["KeyMetadata"]["Arn"]
            self.replacements[placeholder] = real


def _truststore(moto: MotoServer, region: str, uri: str) -> str:
    """The bucket and object a truststore URI names, in a versioned bucket; returns the object's version id.
    (API Gateway reads the PEM bundle; the local AWS only records the URI, so the content is a stand-in.)"""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    s3 = moto.client("s3", region)
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **location)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return s3.put_object(Bucket=bucket, Key=key, Body=b"-----BEGIN CERTIFICATE-----\nlocal stand-in\n"
                                                       b"-----END CERTIFICATE-----\n")["VersionId"]


def _lambda_function(moto: MotoServer, region: str, name: str) -> str:
    role = moto.client("iam", region).create_role(
        RoleName=f"{name}-role", Path="/",
        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                                 '"Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}')["Role"]["Arn"]
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return {'isAuthorized': False}\n")
    return moto.client("lambda", region).create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="index.handler",
        Code={"ZipFile": package.getvalue()})["FunctionArn"]


class LocalStack:
    """One example synthesized in local mode into its own directory, driven by real Terraform."""

    def __init__(self, root: pathlib.Path, moto: MotoServer, env: dict[str, str], region: str) -> None:
        self.root = root
        self.moto = moto
        self.region = region  # moto keeps state per region: clients must ask where the provider applied
        self.terraform = Terraform(root / "cdktf.out" / "stacks" / "routes", env)

    def client(self, service: str):
        return self.moto.client(service, self.region)

    def api_id(self) -> str:
        return self.terraform.outputs()["api_endpoint"].split("//")[1].split(".")[0]

    def synth(self, text: str) -> None:
        from compiler.terraform.synth import synthesize
        # The direct engine: the same bytes as CDKTF (tests/test_engine_parity.py), without starting jsii.
        synthesize(model_of(text), str(self.root / "cdktf.out"), "routes", local_endpoint=self.moto.url,
                   engine="direct")


def applied(root: pathlib.Path, moto: MotoServer, env: dict[str, str], source: str) -> tuple[LocalStack, str]:
    """The example `source` (a path under the checkout) synthesized in local mode in root, its account made, then
    `terraform init` and `apply`; returns the stack and the localised text."""
    from .conftest import ROOT
    root.mkdir(parents=True, exist_ok=True)
    text = (ROOT / source).read_text()
    region = model_of(text).region or DEFAULT_REGION
    stack = LocalStack(root, moto, env, region)
    stack.account = LocalAccount.create(moto, region, text)
    stack.localise = stack.account.localise
    text = stack.localise(text)
    stack.synth(text)
    stack.terraform.init()
    stack.terraform.apply()
    return stack, text


def reach(stack: LocalStack, health: str = "HEALTHY") -> dict[str, set[str]]:
    """route key -> the instance ids DiscoverInstances returns for the filter in that route's integration URI."""
    agw, sd = stack.client("apigatewayv2"), stack.client("servicediscovery")
    api_id = stack.api_id()
    out = {}
    for route in agw.get_routes(ApiId=api_id)["Items"]:
        integration = agw.get_integration(ApiId=api_id, IntegrationId=route["Target"].split("/", 1)[1])
        if integration["IntegrationType"] == "AWS_PROXY":  # a fan-out function: what it asks DiscoverInstances
            function = integration["IntegrationUri"].split("/functions/", 1)[1].removesuffix("/invocations")
            env = stack.client("lambda").get_function_configuration(FunctionName=function)["Environment"]["Variables"]
            namespace = env["CLOUD_MAP_NAMESPACE"]  # the function asks by id, as it does (fanout.with_http_name)
            if env.get("CLOUD_MAP_NAMESPACE_ID"):
                namespace = sd.get_namespace(Id=env["CLOUD_MAP_NAMESPACE_ID"])["Namespace"]["Properties"][
                    "HttpProperties"]["HttpName"]
            found = sd.discover_instances(NamespaceName=namespace, ServiceName=env["CLOUD_MAP_SERVICE"],
                                          QueryParameters=json.loads(env["FILTER"]),
                                          HealthStatus="ALL" if env["INCLUDE_UNHEALTHY"] == "true" else health)
            out[route["RouteKey"]] = {i["InstanceId"] for i in found["Instances"]}
            continue
        uri = urlsplit(integration["IntegrationUri"])
        service_id = uri.path.rsplit("/", 1)[1]
        service = sd.get_service(Id=service_id)["Service"]
        namespace = sd.get_namespace(Id=service["NamespaceId"])["Namespace"]
        # DiscoverInstances takes the namespace's HTTP name (the namespace name unless set otherwise).
        http_name = namespace.get("Properties", {}).get("HttpProperties", {}).get("HttpName") or namespace["Name"]
        found = sd.discover_instances(NamespaceName=http_name, ServiceName=service["Name"], QueryParameters=dict(parse_qsl(uri.query)),
                                      HealthStatus=health)
        out[route["RouteKey"]] = {i["InstanceId"] for i in found["Instances"]}
    return out
