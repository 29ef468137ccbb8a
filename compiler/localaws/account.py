"""What a routes.yaml expects to exist already, created in the local AWS, and the copy of the file that names it.

A routes.yaml names things it does not create: subnets, security groups and a VPC for the VPC link and the
namespace, KMS keys for the logs, an ACM certificate for a custom domain, Lambda authorizer functions, an S3
truststore. `LocalAccount.create` makes each in the local AWS; `localise` returns the file's text with every such
id replaced by the real one, and account guards (`allowed_account_ids`) naming the local AWS's one account. The
user's file is never written: the copy goes into the local AWS's own folder.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

DEFAULT_REGION = "us-east-1"  # what local mode gives the provider when routes.yaml names no region
LOCAL_ACCOUNT = "123456789012"  # moto's account: what STS GetCallerIdentity answers
# The placeholders the bundled examples and `init`'s starter use for the network an API needs.
PLACEHOLDER_SUBNETS = ("subnet-0a1b2c3d4e5f60718", "subnet-0b2c3d4e5f6071829")
PLACEHOLDER_GROUP, PLACEHOLDER_VPC = "sg-0c3d4e5f607182930", "vpc-0d4e5f60718293a4b"


@dataclass
class LocalAccount:
    """What an example expects to exist already: a VPC with subnets and a security group, a KMS key for the logs,
    an ACM certificate, a Lambda authorizer function. Created in the local AWS; placeholders in the example are
    replaced by the real ids and ARNs."""

    replacements: dict[str, str]

    @classmethod
    def create(cls, moto, region: str, text: str) -> "LocalAccount":
        """`moto` is anything with `client(service, region)` for the local AWS (server.MotoServer)."""
        ec2 = moto.client("ec2", region)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"] for i in (1, 2)]
        sg = ec2.create_security_group(GroupName=f"vpc-link-{vpc}", Description="VPC link", VpcId=vpc)["GroupId"]
        replacements = {PLACEHOLDER_SUBNETS[0]: subnets[0], PLACEHOLDER_SUBNETS[1]: subnets[1],
                        PLACEHOLDER_GROUP: sg, PLACEHOLDER_VPC: vpc}
        # Each in the ARN's own region: another environment's ARN names its region, and check refuses a key or a
        # certificate outside the stack's region (E319), so the copy must keep it there.
        for arn in re.findall(r"arn:aws:kms:[^\s,}]+", text):
            replacements[arn] = moto.client("kms", _region_of(arn, region)).create_key()["KeyMetadata"]["Arn"]
        for arn in re.findall(r"arn:aws:acm:[^\s,}]+", text):
            replacements[arn] = moto.client("acm", _region_of(arn, region)).request_certificate(
                DomainName="api.example.com")["CertificateArn"]
        for arn in re.findall(r"arn:aws:lambda:[^\s,}]+", text):
            replacements[arn] = _lambda_function(moto, _region_of(arn, region), arn.rsplit(":", 1)[1])
        for uri in dict.fromkeys(re.findall(r"truststore_uri:\s*\"?(s3://[^\s,}\"]+)", text)):
            version = _truststore(moto, region, uri)  # a mutual TLS truststore: a versioned S3 object
            for written in re.findall(r"truststore_version:\s*\"?([^\s,}\"#]+)", text):
                replacements[written] = version
        return cls(replacements)

    def localise(self, text: str) -> str:
        for placeholder, real in self.replacements.items():
            text = text.replace(placeholder, real)
        return text

    def cover(self, moto, region: str, text: str) -> None:
        """Create what an edited example names that the account does not have yet (another subnet, security
        group, VPC or KMS key), as AWS would require it to exist. `text` is the example before localise."""
        ec2, vpc = moto.client("ec2", region), self.replacements[PLACEHOLDER_VPC]
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


def _region_of(text: str, default: str) -> str:
    """An ARN's region, or `default` for one without (or not of a region's shape: the client is made for it)."""
    from ..language.arns import Arn
    arn = Arn.parse(text)
    return arn.region if arn and re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", arn.region) else default


def localise(moto, region: str, text: str) -> str:
    """routes.yaml's text with every id it names replaced by something that exists in the local AWS: the
    account's fixtures, plus a VPC, subnet or security group for any other vpc-/subnet-/sg- id in the file."""
    replacements = dict(LocalAccount.create(moto, region, text).replacements)
    ec2 = moto.client("ec2", region)
    extra_vpc = None
    for n, vpc in enumerate(sorted(set(re.findall(r"\bvpc-[0-9a-f]{8,17}\b", text)) - set(replacements)), start=1):
        replacements[vpc] = ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16")["Vpc"]["VpcId"]
    for n, subnet in enumerate(sorted(set(re.findall(r"\bsubnet-[0-9a-f]{8,17}\b", text)) - set(replacements))):
        extra_vpc = extra_vpc or ec2.create_vpc(CidrBlock="10.200.0.0/16")["Vpc"]["VpcId"]
        replacements[subnet] = ec2.create_subnet(VpcId=extra_vpc, CidrBlock=f"10.200.{n}.0/24")["Subnet"]["SubnetId"]
    for group in sorted(set(re.findall(r"\bsg-[0-9a-f]{8,17}\b", text)) - set(replacements)):
        extra_vpc = extra_vpc or ec2.create_vpc(CidrBlock="10.200.0.0/16")["Vpc"]["VpcId"]
        replacements[group] = ec2.create_security_group(GroupName=f"vpc-link-{group}", Description="VPC link",
                                                        VpcId=extra_vpc)["GroupId"]
    for placeholder in sorted(replacements, key=len, reverse=True):
        text = text.replace(placeholder, replacements[placeholder])
    # Account guards: the local AWS is one account. (ARNs keep theirs: `(?<!:)` skips arn:...:ACCOUNT:...)
    return re.sub(r"(?<![:\d])\d{12}(?!\d)", LOCAL_ACCOUNT, text)


def _truststore(moto, region: str, uri: str) -> str:
    """The bucket and object a truststore URI names, in a versioned bucket; returns the object's version id.
    (API Gateway reads the PEM bundle; the local AWS only records the URI, so the content is a stand-in.)"""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    s3 = moto.client("s3", region)
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=bucket, **location)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return s3.put_object(Bucket=bucket, Key=key, Body=b"-----BEGIN CERTIFICATE-----\nlocal stand-in\n"
                                                       b"-----END CERTIFICATE-----\n")["VersionId"]


def _lambda_function(moto, region: str, name: str) -> str:
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
