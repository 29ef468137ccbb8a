"""Pairing the plan's blocks with AWS ids: what each Terraform `import` block says, and the file of them.

The addresses are never computed here: the written routes.yaml is compiled and planned exactly as synth will
(compiler.terraform.plan), and each managed block of that plan is paired with the AWS resource that answers to its
arguments (a route by its route key, a function by its name, a role by the function that uses it, a rule by its
group, ports and description), in the import id format of its type (compiler.terraform.catalogue). A block with no
such resource is one the first plan creates. Pure: it reads only the Setup (read.py) and the plan.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ..core.names import MANAGED
from ..terraform import catalogue
from ..terraform.plan import Block, Concat, Ref, ResourcePlan, tf_literal
from .read import Function, Setup

Parts = Optional[dict[str, str]]  # the parts of a block's import id, or None: nothing in AWS to import


@dataclass
class Pairing:
    imports: list[tuple[str, str]] = field(default_factory=list)  # (address, import id), in plan order
    creates: list[str] = field(default_factory=list)  # addresses the first plan creates
    changes: list[str] = field(default_factory=list)  # `address: what` the first plan changes of imported ones


def pair(plan: ResourcePlan, setup: Setup, namespace_id: Optional[str]) -> Pairing:
    pairer = _Pairer(plan, setup, namespace_id)
    out = Pairing()
    for block in pairer.blocks.values():
        parts = pairer.parts(block)
        if parts is None:
            out.creates.append(block.address)
            if block.address in pairer.why:
                out.changes.append(f"{block.address}: created ({pairer.why[block.address]})")
        else:
            out.imports.append((block.address, catalogue.of(block.type).import_id_of(**parts)))
    out.changes += _function_changes(pairer)
    return out


def _ref(value: Any) -> Optional[Ref]:
    return value if isinstance(value, Ref) else None


def _refers_to(value: Any, block: Block) -> bool:
    """Whether an argument value is, or interpolates, a reference to the block."""
    if isinstance(value, Ref):
        return value.address == block.address
    if isinstance(value, Concat):
        return any(isinstance(p, Ref) and p.address == block.address for p in value.parts)
    if isinstance(value, list):
        return any(_refers_to(v, block) for v in value)
    return False


class _Pairer:
    """Each block's import id parts, found from its arguments; memoized, since blocks lean on each other."""

    def __init__(self, plan: ResourcePlan, setup: Setup, namespace_id: Optional[str]) -> None:
        self.blocks = {b.address: b for b in plan.blocks if b.mode == MANAGED}
        self.setup = setup
        self.namespace_id = namespace_id
        self.functions = {f.name: f for f in setup.functions.values() if f.config}
        self.memo: dict[str, Parts] = {}
        self.taken: dict[str, str] = {}  # AWS integration id -> the address it is imported at
        self.why: dict[str, str] = {}  # address -> why a resource that exists is created anew instead
        self.api_id = setup.api["ApiId"]

    def parts(self, block: Block) -> Parts:
        if block.address not in self.memo:
            finder: Callable[[Block], Parts] = getattr(self, "_" + block.type.removeprefix("aws_"), _nothing)
            self.memo[block.address] = finder(block)
        return self.memo[block.address]

    def referred(self, value: Any) -> Optional[Block]:
        ref = _ref(value)
        return self.blocks.get(ref.address) if ref else None

    def referrers(self, block: Block, type_: str, arg: str) -> list[Block]:
        return [b for b in self.blocks.values() if b.type == type_ and _refers_to(b.args.get(arg), block)]

    def function_of(self, block: Optional[Block]) -> Optional[Function]:
        """The function this tool made that a plan's aws_lambda_function block is."""
        return self.functions.get(block.args.get("function_name", "")) if block else None

    # --- the API and its parts ---------------------------------------------------------------------------

    def _apigatewayv2_api(self, block: Block) -> Parts:
        return {"api_id": self.api_id}

    def _apigatewayv2_vpc_link(self, block: Block) -> Parts:
        link = self.setup.vpc_link
        return {"vpc_link_id": link["VpcLinkId"]} if link else None

    def _apigatewayv2_stage(self, block: Block) -> Parts:
        stage = self.setup.stage
        if stage and stage["StageName"] == block.args.get("name"):
            return {"api_id": self.api_id, "stage_name": stage["StageName"]}
        return None

    def _apigatewayv2_route(self, block: Block) -> Parts:
        route = self._aws_route(block)
        return {"api_id": self.api_id, "route_id": route["RouteId"]} if route else None

    def _aws_route(self, block: Block) -> Optional[dict]:
        return next((r for r in self.setup.routes if r["RouteKey"] == block.args.get("route_key")), None)

    def _apigatewayv2_integration(self, block: Block) -> Parts:
        """The integration the route targets in AWS. Each route has its own in the plan: an integration two routes
        share is imported for the first of them in the plan, and the other's is created."""
        for route_block in self.referrers(block, "aws_apigatewayv2_route", "target"):
            route = self._aws_route(route_block)
            integration_id = (route or {}).get("Target", "").removeprefix("integrations/")
            if integration_id not in self.setup.integrations:
                continue
            if integration_id in self.taken:
                self.why[block.address] = (f"route {route['RouteKey']} shares integration {integration_id} with "
                                           f"{self.taken[integration_id]}; each route gets its own")
                return None
            self.taken[integration_id] = block.address
            return {"api_id": self.api_id, "integration_id": integration_id}
        return None

    def _apigatewayv2_authorizer(self, block: Block) -> Parts:
        found = [i for i, a in self.setup.authorizers.items() if a.get("Name") == block.args.get("name")]
        return {"api_id": self.api_id, "authorizer_id": found[0]} if len(found) == 1 else None

    def _apigatewayv2_domain_name(self, block: Block) -> Parts:
        found = [d for d, _ in self.setup.domains if d["DomainName"] == block.args.get("domain_name")]
        return {"domain_name": found[0]["DomainName"]} if found else None

    def _apigatewayv2_api_mapping(self, block: Block) -> Parts:
        domain = self.referred(block.args.get("domain_name"))
        parts = self.parts(domain) if domain else None
        if parts is None:
            return None
        mapping = next(m for d, m in self.setup.domains if d["DomainName"] == parts["domain_name"])
        return {"api_mapping_id": mapping["ApiMappingId"], "domain_name": parts["domain_name"]}

    # --- Cloud Map -------------------------------------------------------------------------------------------

    def _namespace(self, block: Block) -> Optional[dict]:
        namespace = self.setup.namespaces.get(self.namespace_id or "")
        return namespace if namespace and namespace.get("Name") == block.args.get("name") else None

    def _service_discovery_http_namespace(self, block: Block) -> Parts:
        namespace = self._namespace(block)
        return {"namespace_id": namespace["Id"]} if namespace else None

    _service_discovery_public_dns_namespace = _service_discovery_http_namespace

    def _service_discovery_private_dns_namespace(self, block: Block) -> Parts:
        namespace = self._namespace(block)
        return {"namespace_id": namespace["Id"], "vpc_id": block.args["vpc"]} if namespace else None

    def _service_discovery_service(self, block: Block) -> Parts:
        found = [i for i, s in self.setup.services.items()
                 if s.get("NamespaceId") == self.namespace_id and s.get("Name") == block.args.get("name")]
        return {"service_id": found[0]} if len(found) == 1 else None

    def _service_discovery_instance(self, block: Block) -> Parts:
        service = self.referred(block.args.get("service_id"))
        parts = self.parts(service) if service else None
        if parts is None:
            return None
        ids = {i["Id"] for i in self.setup.instances.get(parts["service_id"], [])}
        instance = block.args.get("instance_id")
        return {"service_id": parts["service_id"], "instance_id": instance} if instance in ids else None

    # --- logs, functions, roles, permissions ----------------------------------------------------------------

    def _cloudwatch_log_group(self, block: Block) -> Parts:
        name = block.args.get("name")
        access = self.setup.log_group
        found = (access and not access.get("missing") and access["logGroupName"] == name) or any(
            f.log_group and f.log_group["logGroupName"] == name for f in self.functions.values())
        return {"log_group_name": name} if found else None

    def _lambda_function(self, block: Block) -> Parts:
        function = self.function_of(block)
        return {"function_name": function.name} if function else None

    def _role_function(self, role: Block) -> Optional[Function]:
        users = self.referrers(role, "aws_lambda_function", "role")
        return self.function_of(users[0]) if users else None

    def _iam_role(self, block: Block) -> Parts:
        function = self._role_function(block)
        role = function.role if function else None
        return {"role_name": role["RoleName"]} if role else None

    def _role_and_function(self, block: Block) -> tuple[Parts, Optional[Function]]:
        role = self.referred(block.args.get("role"))
        if role is None:
            return None, None
        return self.parts(role), self._role_function(role)

    def _iam_role_policy(self, block: Block) -> Parts:
        role, function = self._role_and_function(block)
        if role is None or function is None or block.args.get("name") not in function.role_policies:
            return None
        return {"role_name": role["role_name"], "policy_name": block.args["name"]}

    def _iam_role_policy_attachment(self, block: Block) -> Parts:
        role, function = self._role_and_function(block)
        wanted = block.args.get("policy_arn")
        suffix = wanted.parts[-1] if isinstance(wanted, Concat) else wanted  # arn:<partition> is a data source's
        found = [a for a in (function.attached_policies if function else []) if isinstance(suffix, str)
                 and a.endswith(suffix)]
        return {"role_name": role["role_name"], "policy_arn": found[0]} if role and len(found) == 1 else None

    def _lambda_permission(self, block: Block) -> Parts:
        function = self.function_of(self.referred(block.args.get("function_name")))
        statement = block.args.get("statement_id")
        if function is None or statement not in function.statements:
            return None  # a permission on a function this tool did not make (a lambda authorizer's) is created
        return {"function_name": function.name, "statement_id": statement}

    # --- networks ---------------------------------------------------------------------------------------------

    def _security_group(self, block: Block) -> Parts:
        found = [g for g in self.setup.groups.values()
                 if g.get("GroupName") == block.args.get("name") and g.get("VpcId") == block.args.get("vpc_id")]
        return {"security_group_id": found[0]["GroupId"]} if len(found) == 1 else None

    def _rule(self, block: Block, egress: bool) -> Parts:
        group = self.referred(block.args.get("security_group_id"))
        parts = self.parts(group) if group else None
        if parts is None:
            return None
        args = block.args
        found = [r for r in self.setup.rules if r.get("GroupId") == parts["security_group_id"]
                 and bool(r.get("IsEgress")) == egress and r.get("IpProtocol") == args.get("ip_protocol")
                 and r.get("FromPort") == args.get("from_port") and r.get("ToPort") == args.get("to_port")
                 and (r.get("Description") or None) == args.get("description")]
        return {"security_group_rule_id": found[0]["SecurityGroupRuleId"]} if len(found) == 1 else None

    def _vpc_security_group_egress_rule(self, block: Block) -> Parts:
        return self._rule(block, egress=True)

    def _vpc_security_group_ingress_rule(self, block: Block) -> Parts:
        return self._rule(block, egress=False)

    def _vpc_endpoint(self, block: Block) -> Parts:
        groups = [self.parts(g) for g in map(self.referred, block.args.get("security_group_ids") or []) if g]
        wanted = {p["security_group_id"] for p in groups if p}
        found = [e for e in self.setup.endpoints if e.get("VpcId") == block.args.get("vpc_id")
                 and wanted & {g["GroupId"] for g in e.get("Groups") or []}]
        return {"vpc_endpoint_id": found[0]["VpcEndpointId"]} if len(found) == 1 else None


def _nothing(block: Block) -> Parts:
    """A type this tool emits but import does not look for: the first plan creates it."""
    return None


# --- what the first plan changes of the functions it imports -------------------------------------------------

# aws_lambda_function arguments compared with GetFunction's Configuration.
FUNCTION_SETTINGS = (("runtime", "Runtime"), ("handler", "Handler"), ("timeout", "Timeout"),
                     ("memory_size", "MemorySize"), ("description", "Description"))


def _function_changes(pairer: _Pairer) -> list[str]:
    changes = []
    for block in pairer.blocks.values():
        role = pairer.parts(block) if block.type == "aws_iam_role" else None
        prefix = block.args.get("name_prefix", "")
        if role and not role["role_name"].startswith(prefix):  # the provider reads name_prefix back from the name
            changes.append(f"{block.address}: replaced: the role's name {role['role_name']!r} does not start with "
                           f"{prefix!r}")
        function = pairer.function_of(block) if block.type == "aws_lambda_function" else None
        if function is None or pairer.parts(block) is None:
            continue
        changes.append(_code_change(block, function))
        differ = [arg for arg, key in FUNCTION_SETTINGS if block.args.get(arg) != function.config.get(key)]
        differ += [f"environment variable {v}" for v in _environment_changes(pairer, block, function)]
        if differ:
            changes.append(f"{block.address}: updated in place: {', '.join(differ)} as this version writes it")
    return changes


def _code_change(block: Block, function: Function) -> str:
    """Terraform's AWS provider (5.x) does not read `filename`, `source_code_hash` and `publish` back when it
    imports a function, so the first plan always updates the function in place and uploads its package once
    (hashicorp/terraform-provider-aws#7385; pulumi/pulumi-aws#3376: "only sourceCodeHash is imported", upstream
    "is not fixing it"). tests/test_import_own.py pins that this is the only change, with the same code."""
    same = block.args.get("source_code_hash") == function.config.get("CodeSha256")
    return (f"{block.address}: updated in place: the provider does not read filename and source_code_hash back "
            "on import, so Terraform uploads the package once more" +
            (" (the same code: its SHA-256 is the deployed function's)" if same else
             f" (this version's handler: the deployed code's SHA-256 is {function.config.get('CodeSha256')!r})"))


def _environment_changes(pairer: _Pairer, block: Block, function: Function) -> list[str]:
    wanted = ((block.args.get("environment") or {}).get("variables") or {})
    deployed = function.environment
    differ = sorted(set(deployed) - set(wanted))
    for name, value in sorted(wanted.items()):
        if isinstance(value, Ref):  # the namespace's HTTP name: what the paired namespace has
            value = _http_name(pairer, value)
        if value is not None and deployed.get(name) != value:
            differ.append(name)
    return sorted(differ)


def _http_name(pairer: _Pairer, ref: Ref) -> Optional[str]:
    namespace = pairer.setup.namespaces.get(pairer.namespace_id or "")
    if ref.attr != "http_name" or namespace is None:
        return None
    return ((namespace.get("Properties") or {}).get("HttpProperties") or {}).get("HttpName") or namespace.get("Name")


# --- the imports file ---------------------------------------------------------------------------------------

def imports_json(imports: list[tuple[str, str]]) -> str:
    """Terraform JSON: `{"import": [{"id": ..., "to": ...}]}` (what `synth --imports` reads, and a valid *.tf.json a
    plain Terraform user can drop into the stack's directory)."""
    blocks = [{"to": address, "id": tf_literal(import_id)} for address, import_id in imports]
    return json.dumps({"import": blocks}, indent=2) + "\n"


class ImportsFileError(ValueError):
    """An imports file `synth --imports` cannot read."""


def read_imports(path: str, limit: int = 4 * 1024 * 1024) -> list[tuple[str, str]]:
    """(address, import id) pairs from a Terraform JSON file of import blocks (what `import` writes).

    Ids are read back from Terraform's template syntax (`$${` is a literal `${`); the plan escapes them again
    when it writes them (plan.with_imports, the engines). Raises ImportsFileError naming what is wrong."""
    from ..core.files import read_capped
    raw, why = read_capped(path, limit)
    if raw is None:
        raise ImportsFileError(f"{path}: cannot read the file: {why}")
    if len(raw) > limit:
        raise ImportsFileError(f"{path}: larger than {limit} bytes")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ImportsFileError(f"{path}: not JSON: {exc}") from None
    blocks = data.get("import") if isinstance(data, dict) else None
    if not isinstance(blocks, list) or set(data) != {"import"}:
        raise ImportsFileError(f'{path}: expected {{"import": [{{"to": ADDRESS, "id": ID}}, ...]}}')
    pairs = []
    for i, block in enumerate(blocks):
        if not isinstance(block, dict) or set(block) != {"to", "id"} or not all(
                isinstance(block[k], str) for k in ("to", "id")):
            raise ImportsFileError(f'{path}: import[{i}] must be {{"to": ADDRESS, "id": ID}} (two strings)')
        pairs.append((block["to"], block["id"].replace("$${", "${").replace("%%{", "%{")))
    return pairs
