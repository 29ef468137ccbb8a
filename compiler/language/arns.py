"""Where AWS resources live: partitions, regions, account ids, ARNs and S3 locations, as AWS spells them.

What a user gives as an ARN must be where AWS looks for it: a regional custom domain's certificate in the API's
region, a log group's KMS key in the log group's region, a Lambda authorizer in the API's region; every ARN in the
partition of the region the stack is in ("Each Amazon Web Services account is scoped to one partition", Route 53
CreateHostedZone). The rules (rules.check_arns) read these helpers; the S3 helpers are shared with `synth --state`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

# botocore data/partitions.json (1.43.11): each partition's region expression and the regions it lists. A region
# maps to a partition by the explicit list first, then the expression.
PARTITIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("aws", r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$", (
        "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
        "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
        "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2",
        "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1",
        "me-central-1", "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1",
        "us-west-2")),
    ("aws-cn", r"^cn\-\w+\-\d+$", ("cn-north-1", "cn-northwest-1")),
    ("aws-us-gov", r"^us\-gov\-\w+\-\d+$", ("us-gov-east-1", "us-gov-west-1")),
    ("aws-iso", r"^us\-iso\-\w+\-\d+$", ("us-iso-east-1", "us-iso-west-1")),
    ("aws-iso-b", r"^us\-isob\-\w+\-\d+$", ("us-isob-east-1", "us-isob-west-1")),
    ("aws-iso-e", r"^eu\-isoe\-\w+\-\d+$", ("eu-isoe-west-1",)),
    ("aws-iso-f", r"^us\-isof\-\w+\-\d+$", ("us-isof-east-1", "us-isof-south-1")),
    ("aws-eusc", r"^eusc\-(de)\-\w+\-\d+$", ("eusc-de-east-1",)),
)
PARTITION_NAMES = tuple(name for name, _, _ in PARTITIONS)
ACCOUNT_ID = re.compile(r"^[0-9]{12}$")  # Organizations AccountId ^\d{12}$; kept as text (leading zeros count)


def partition_of(region: str) -> Optional[str]:
    """The partition a region belongs to, or None for a region botocore does not know (a new one: not refused).

    `us-gov-west-1` is aws-us-gov: the `aws` expression's `\\w` matches no '-', so only the GovCloud one fits."""
    for name, _, regions in PARTITIONS:
        if region in regions:
            return name
    for name, expression, _ in PARTITIONS:
        if re.match(expression, region, re.ASCII):
            return name
    return None


@dataclass(frozen=True)
class Arn:
    """arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE (IAM's region is empty)."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    @classmethod
    def parse(cls, text: str) -> Optional["Arn"]:
        parts = text.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn":
            return None
        return cls(*parts[1:])


# S3 bucket naming rules (docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html): 3-63 lower-case
# letters, digits, dots and hyphens, beginning and ending with a letter or digit; no two adjacent periods; not
# formatted as an IP address; and prefixes and suffixes S3 reserves.
RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
BUCKET_RULES = ("the bucket name must be 3-63 lowercase letters, digits, dots and hyphens, start and end with a "
                "letter or digit, have no two adjacent dots, not look like an IP address and not use a prefix or "
                "suffix S3 reserves")


def bucket_problem(bucket: str) -> str:
    """Why S3 refuses `bucket` as a bucket name, or ""."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket) or ".." in bucket \
            or re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+", bucket) \
            or bucket.startswith(RESERVED_BUCKET_PREFIXES) or bucket.endswith(RESERVED_BUCKET_SUFFIXES):
        return BUCKET_RULES
    return ""


def s3_object_problem(uri: str) -> str:
    """Why `uri` is not s3://BUCKET/KEY with a bucket S3 accepts and a key (an object, not a folder), or ""."""
    bucket, slash, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not slash or not key:
        return "expected s3://BUCKET/KEY"
    problem = bucket_problem(bucket)
    if problem:
        return problem
    if len(key.encode("utf-8", "surrogatepass")) > 1024:
        return "the key is longer than 1024 bytes"  # S3: "The object key name ... up to 1,024 bytes long"
    if key.endswith("/"):
        return "the key ends with '/': that names a folder, not an object"
    return ""


STATE_KEY = re.compile(r"[A-Za-z0-9!_.*'()/-]+")  # S3's safe characters: they reach Terraform's backend verbatim


def state_key_problem(key: str) -> str:
    """Why `key` cannot be a Terraform state object's key, or "" (the rules `synth --state` applies too)."""
    if len(key.encode()) > 1024:
        return "the key is longer than 1024 bytes"
    if not STATE_KEY.fullmatch(key):
        return "the key may hold only letters, digits, / and !-_.*'() (S3's safe characters)"
    if any(segment in ("", ".", "..") for segment in key.split("/")):
        return "the key must not start or end with /, or have empty, . or .. segments"
    return ""
