"""An ECS task as Cloud Map holds it: one line for `status` instead of ECS's system attributes.

What ECS registers for each task (ECS Developer Guide, "Use service discovery to connect Amazon ECS services with DNS
names", docs.aws.amazon.com/AmazonECS/latest/developerguide/service-discovery.html, "Instance attributes": "The
following metadata is added as custom attributes for each Amazon ECS service that is configured to use service
discovery"): AWS_INSTANCE_IPV4, AWS_INSTANCE_PORT, AVAILABILITY_ZONE, REGION, ECS_SERVICE_NAME, ECS_CLUSTER_NAME,
EC2_INSTANCE_ID (EC2 launch type), ECS_TASK_DEFINITION_FAMILY and ECS_TASK_SET_EXTERNAL_ID. Neither the task's ARN
nor its task definition's revision is among them. The ARN is derived: ECS names each Cloud Map instance after its
task (the instance id is the task id: unverified against real AWS, so it is derived only when the id has a task id's
shape), and the task ARN is arn:<partition>:ecs:<REGION>:<account>:task/<ECS_CLUSTER_NAME>/<task id>, with the
partition and account of the Cloud Map service (ECS registers into its own account's services). The revision is shown
only when an attribute holds it (ECS_TASK_DEFINITION_REVISION, which ECS does not set: an application may), never
guessed: reading it needs ecs:DescribeTasks, which `status` does not call.

Everything here comes from AWS and is untrusted: nothing raises, and every attribute value in the line passes through
core.text.visible (the ARN's parts are checked against their formats first).
"""

from __future__ import annotations

import re
from typing import Optional

from ..core.text import visible

ECS_ATTRIBUTES = ("AVAILABILITY_ZONE", "REGION", "ECS_SERVICE_NAME", "ECS_CLUSTER_NAME", "EC2_INSTANCE_ID",
                  "ECS_TASK_DEFINITION_FAMILY", "ECS_TASK_SET_EXTERNAL_ID", "ECS_TASK_DEFINITION_REVISION")
# A task id: 32 hex digits (the current ARN format), or a UUID (the format before 2018).
TASK_ID = re.compile(r"^([0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
SERVICE_ARN = re.compile(r"^arn:(aws[a-z-]*):servicediscovery:[a-z0-9-]+:([0-9]{12}):service/")
CLUSTER = re.compile(r"^[A-Za-z0-9_-]{1,255}$")  # CreateCluster clusterName
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")


def task_arn(instance_id: str, attributes: dict[str, str], service_arn: Optional[str]) -> Optional[str]:
    """The task's ARN, when the instance is an ECS task and every part of the ARN is known and well formed."""
    cluster, region = attributes.get("ECS_CLUSTER_NAME", ""), attributes.get("REGION", "")
    service = SERVICE_ARN.match(service_arn or "")
    if not (service and TASK_ID.match(instance_id) and CLUSTER.match(cluster) and REGION.match(region)):
        return None
    partition, account = service.groups()
    return f"arn:{partition}:ecs:{region}:{account}:task/{cluster}/{instance_id}"


def task_line(instance_id: str, attributes: dict[str, str], service_arn: Optional[str]) -> Optional[str]:
    """`ECS task <ARN>, task definition <family>[:<revision>]`, or None for an instance ECS did not register."""
    if "ECS_CLUSTER_NAME" not in attributes:
        return None
    arn = task_arn(instance_id, attributes, service_arn)
    task = arn or (f"{visible(attributes['ECS_CLUSTER_NAME'])}/{visible(instance_id)} (no ARN: the service's "
                   "account or the task id is unknown)")
    family = visible(attributes.get("ECS_TASK_DEFINITION_FAMILY", ""))
    revision = visible(attributes.get("ECS_TASK_DEFINITION_REVISION", ""))
    definition = "unknown" if not family else f"{family}:{revision}" if revision else f"{family} (revision not registered)"
    return f"ECS task {task}, task definition {definition}"


def without_ecs(attributes: dict[str, str]) -> dict[str, str]:
    """The attributes but ECS's own (which task_line sums up), for an instance ECS registered."""
    if "ECS_CLUSTER_NAME" not in attributes:
        return attributes
    return {k: v for k, v in attributes.items() if k not in ECS_ATTRIBUTES}
