"""Provider facts: one record per Terraform resource type (and data source) this tool emits. Plain data.

Everything the tool knows about a type beyond the plan's argument values lives here, once:

- `replaced_by`: the arguments whose change makes Terraform replace the resource (ForceNew in hashicorp/aws 5.x;
  AWS-FACTS section 4). `review.diff` predicts replacements from them.
- `map_arguments`: arguments whose value is a map of user keys (`tags`), not a nested block. The CDKTF engine
  passes them as plain dicts; a nested block becomes the bindings' struct class.
- `lifecycle`: Terraform's lifecycle meta-arguments, which `plan` puts on every block of the type.
- `on_replace` / `on_delete`: what a reviewer must be told when Terraform replaces or deletes one.
- `import_id`: the id Terraform's `import` block takes for it, as a format of named parts (`{api_id}/{route_id}`),
  from the resource's "Import" section in the provider's documentation
  (registry.terraform.io/providers/hashicorp/aws/5.100.0/docs/resources/<type without aws_>#import). `adopt` builds
  ids with `import_id_of` and nothing else spells the format; `parse_import_id` reads one back.

`plan`, `emit` and `review` read these records; none of them keeps a table of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..core.names import DATA, MANAGED

# Resources whose replacement must not delete the old one first: AWS refuses to delete an integration that
# routes reference, or a VPC link that integrations reference (terraform-provider-aws#12195).
CREATE_BEFORE_DESTROY: tuple[tuple[str, Any], ...] = (("create_before_destroy", True),)

TAGS = ("tags",)


@dataclass(frozen=True)
class ResourceType:
    name: str  # the Terraform type, e.g. aws_apigatewayv2_route
    mode: str = MANAGED
    replaced_by: tuple[str, ...] = ()  # argument paths, `block.argument` for nested blocks
    map_arguments: tuple[str, ...] = ()
    lifecycle: tuple[tuple[str, Any], ...] = ()
    on_replace: str = ""
    on_delete: str = ""
    import_id: str = ""  # e.g. "{api_id}/{route_id}"; "" for data sources, which are read, never imported

    def import_id_of(self, **parts: str) -> str:
        """The import id from its parts: `import_id_of(api_id="a1", route_id="r2")` -> `a1/r2`. Every part the
        format names must be given, and no other (a KeyError or TypeError is a bug in the caller)."""
        names = _PART.findall(self.import_id)
        if sorted(parts) != sorted(names):
            raise TypeError(f"{self.name}: import id {self.import_id!r} takes {names}, not {sorted(parts)}")
        return self.import_id.format(**parts)

    def parse_import_id(self, text: str) -> dict[str, str] | None:
        """The parts of an import id of this type, or None when it does not have the format's shape. Every part
        but the last stops at the first separator; the last takes the rest (a policy ARN, a log group's `/`)."""
        names = _PART.findall(self.import_id)
        if not names:
            return None
        pattern, rest = "", self.import_id
        for i, name in enumerate(names):
            literal, _, rest = rest.partition("{" + name + "}")
            pattern += re.escape(literal) + (f"(?P<{name}>.+)" if i == len(names) - 1 else f"(?P<{name}>.+?)")
        match = re.fullmatch(pattern + re.escape(rest), text, re.DOTALL)
        return match.groupdict() if match else None

    def forces_replacement(self, path: str) -> bool:
        """Whether a change at this argument path (`dns_config.routing_policy`) makes Terraform replace it."""
        return any(path == p or path.startswith(p + ".") for p in self.replaced_by)


_PART = re.compile(r"\{([a-z_]+)\}")

_NAMESPACE = "new namespace: every Cloud Map service in it is replaced too, with all that follows from that"
# aws_service_discovery_service has force_destroy = true (plan.py): deleting it deregisters what is registered.
_SERVICE_GONE = ("force_destroy deregisters every instance still registered: their traffic stops; "
                 "ECS services registered to it must be recreated (ECS sets service discovery only when a service "
                 "is created)")

# Import ids, from each resource's "Import" section (the provider's docs, website/docs/r/<type>.html.markdown), e.g.
# aws_iam_role_policy: "import IAM Role Policies using the `role_name:role_policy_name`"; aws_iam_role_policy_attachment:
# "import IAM role policy attachments using the role name and policy ARN separated by `/`";
# aws_vpc_security_group_egress_rule: "Security group egress rules can be imported using the
# `security_group_rule_id`"; aws_lambda_permission: "Lambda permission statements can be imported using
# function_name/statement_id"; aws_service_discovery_private_dns_namespace: "NAMESPACE_ID:VPC_ID". Each one is
# proven by tests/test_import.py: real Terraform imports every block of an adopted stack.
_TYPES = (
    ResourceType("aws_service_discovery_http_namespace", import_id="{namespace_id}",
                 replaced_by=("name", "description"), map_arguments=TAGS,
                 on_replace=_NAMESPACE),
    ResourceType("aws_service_discovery_private_dns_namespace", import_id="{namespace_id}:{vpc_id}",
                 replaced_by=("name", "vpc", "description"),
                 map_arguments=TAGS, on_replace=_NAMESPACE),
    ResourceType("aws_service_discovery_public_dns_namespace", import_id="{namespace_id}",
                 replaced_by=("name", "description"),
                 map_arguments=TAGS, on_replace=_NAMESPACE),
    ResourceType("aws_service_discovery_service", import_id="{service_id}",
                 replaced_by=("name", "namespace_id", "type", "dns_config.namespace_id", "dns_config.routing_policy",
                              "dns_config.dns_records.type", "health_check_config.type",
                              "health_check_custom_config"),
                 map_arguments=TAGS,
                 on_replace="new Cloud Map service ID and ARN: every integration targeting it is rewritten; "
                 + _SERVICE_GONE,
                 on_delete="the Cloud Map service is deleted: " + _SERVICE_GONE),
    ResourceType("aws_service_discovery_instance", import_id="{service_id}/{instance_id}",
                 replaced_by=("instance_id", "service_id"),
                 map_arguments=("attributes",),
                 on_replace="instance deregistered and registered again: a brief gap in its traffic"),
    ResourceType("aws_apigatewayv2_vpc_link", import_id="{vpc_link_id}",
                 replaced_by=("subnet_ids", "security_group_ids"), map_arguments=TAGS,
                 lifecycle=CREATE_BEFORE_DESTROY,
                 on_replace="a new link is created before the old one is deleted (create_before_destroy): "
                 "integrations switch to it once it is AVAILABLE, which takes minutes; the old link is deleted "
                 "afterwards. Both exist meanwhile, so the account needs a free VPC link (default quota: 10 per "
                 "Region)"),
    ResourceType("aws_apigatewayv2_api", import_id="{api_id}", replaced_by=("protocol_type",), map_arguments=TAGS,
                 on_replace="new HTTP API: new id and endpoint URL"),
    ResourceType("aws_apigatewayv2_authorizer", import_id="{api_id}/{authorizer_id}", replaced_by=("api_id",)),
    ResourceType("aws_lambda_permission", import_id="{function_name}/{statement_id}",
                 replaced_by=("statement_id", "action", "function_name", "principal", "source_arn")),
    # No create_before_destroy here: Terraform would propagate it to everything an integration depends on, the
    # Cloud Map service included, and a service replaced under its own name cannot be created while the old one
    # holds the name (ServiceAlreadyExists). The one replacement an integration meets (its type, when a route
    # turns fan-out on or off) replaces its route too (replace_triggered_by in plan.py), which goes first.
    ResourceType("aws_apigatewayv2_integration", import_id="{api_id}/{integration_id}",
                 replaced_by=("api_id", "integration_type", "integration_subtype"),
                 map_arguments=("request_parameters",),
                 on_replace="integration recreated with its route (the route is deleted first, so AWS never sees an "
                 "integration deleted while a route uses it): the route is absent for a few seconds"),
    ResourceType("aws_apigatewayv2_route", import_id="{api_id}/{route_id}", replaced_by=("api_id",)),
    # kms_key_id is not in replaced_by: the provider updates it in place (AssociateKmsKey / DisassociateKmsKey).
    ResourceType("aws_cloudwatch_log_group", import_id="{log_group_name}", replaced_by=("name",), map_arguments=TAGS,
                 on_replace="log group recreated: the old group and the logs in it are deleted",
                 on_delete="the log group and the logs in it are deleted"),
    ResourceType("aws_apigatewayv2_stage", import_id="{api_id}/{stage_name}",
                 replaced_by=("api_id", "name"), map_arguments=TAGS,
                 on_replace="stage recreated: its invoke URL changes and clients of the old stage path break"),
    ResourceType("aws_apigatewayv2_domain_name", import_id="{domain_name}",
                 replaced_by=("domain_name",), map_arguments=TAGS,
                 on_replace="custom domain recreated: DNS must point at its new regional domain name"),
    ResourceType("aws_apigatewayv2_api_mapping", import_id="{api_mapping_id}/{domain_name}",
                 replaced_by=("api_id", "domain_name")),
    # Fan-out routes and allow-list authorizers: a function from the shipped handler (compiler/terraform/bundle.py), its role
    # and log group; fan-out functions also get a security group, and optionally Cloud Map's interface endpoint.
    # ForceNew arguments from hashicorp/aws 5.x (function_name, package_type; a role's and a policy's name/role;
    # a security group's name, description and VPC; an endpoint's VPC, service and type). Code, environment,
    # VPC config, timeouts, policies and rule ports all change in place.
    ResourceType("aws_lambda_function", import_id="{function_name}",
                 replaced_by=("function_name", "package_type"), map_arguments=TAGS,
                 on_replace="function recreated under its new name: a new invoke ARN, so its integration or "
                 "authorizer is rewritten and its invoke permission replaced; its old log group stays behind",
                 on_delete="the function is deleted (its log group is this stack's and goes with it)"),
    ResourceType("aws_iam_role", import_id="{role_name}",
                 replaced_by=("name", "name_prefix", "path"), map_arguments=TAGS,
                 on_replace="role recreated: the function switches to the new role; IAM may take seconds to "
                 "propagate it, during which calls can fail"),
    ResourceType("aws_iam_role_policy", import_id="{role_name}:{policy_name}",
                 replaced_by=("name", "name_prefix", "role")),
    ResourceType("aws_iam_role_policy_attachment", import_id="{role_name}/{policy_arn}",
                 replaced_by=("role", "policy_arn")),
    ResourceType("aws_security_group", import_id="{security_group_id}",
                 replaced_by=("name", "name_prefix", "description", "vpc_id"),
                 map_arguments=TAGS,
                 on_replace="security group recreated: the function's network interfaces move to the new group "
                 "(minutes); instances that admit the old group by id must admit the new one"),
    ResourceType("aws_vpc_security_group_egress_rule", import_id="{security_group_rule_id}",
                 replaced_by=("security_group_id",), map_arguments=TAGS),
    ResourceType("aws_vpc_security_group_ingress_rule", import_id="{security_group_rule_id}",
                 replaced_by=("security_group_id",), map_arguments=TAGS),
    ResourceType("aws_vpc_endpoint", import_id="{vpc_endpoint_id}",
                 replaced_by=("vpc_id", "service_name", "vpc_endpoint_type"), map_arguments=TAGS,
                 on_replace="Cloud Map endpoint recreated: fan-out functions cannot reach DiscoverInstances until "
                 "the new endpoint is available and its private DNS name resolves (minutes)",
                 on_delete="Cloud Map endpoint deleted: fan-out functions in these subnets lose DiscoverInstances "
                 "unless a NAT gateway routes them out"),
    # The data sources that build an existing service's ARN (existing_id): read, never replaced.
    ResourceType("aws_partition", mode=DATA),
    ResourceType("aws_region", mode=DATA),
    ResourceType("aws_caller_identity", mode=DATA),
    ResourceType("aws_vpc", mode=DATA),  # the VPC link's VPC: its CIDR block bounds fan-out functions' egress
)

TYPES: dict[tuple[str, str], ResourceType] = {(t.mode, t.name): t for t in _TYPES}

# summarize-plan reads a whole plan: a resource of these families is this stack's even when this version of
# the tool does not emit its type (another version may have); anything else in the plan is someone else's.
FAMILIES = ("aws_apigatewayv2_", "aws_service_discovery_")


def of(name: str, mode: str = MANAGED) -> ResourceType:
    """The record of a type; a type this tool does not emit gets an empty one (no replacement rules, no texts)."""
    return TYPES.get((mode, name)) or ResourceType(name, mode)


def is_managed(name: str) -> bool:
    """Whether a resource of this type in a plan is this tool's to describe (summarize-plan warns about others)."""
    return (MANAGED, name) in TYPES or name.startswith(FAMILIES)
