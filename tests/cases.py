"""Edits of the bundled routes.yaml, each one kind of change, shared by the tests that check how it is reviewed:
tests/test_review.py (what `diff` says) and tests/test_local_aws.py (what Terraform then plans); and the reach
corpus below (every option of a route and of an authorizer, and instance sets), for tests/test_reach.py and
tests/test_agreement.py."""

from __future__ import annotations

from .conftest import ROOT

BUNDLED = (ROOT / "routes.yaml").read_text()


def edit(old: str, new: str):
    def apply(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)
    return apply


def append(extra: str):
    return lambda text: text + extra


# A replaced Cloud Map service changes what every route reaches: the fan-out route (reload) included.
EVERY_ROUTE = [("follower", True), ("get_root", True), ("leader", True), ("reload", True)]

# name -> (edit, replaced addresses, (route id, reach changed) pairs that must be listed)
CASES = {
    "route-added": (append('\n  - route: DELETE /leader\n    id: drop_leader\n    service: raft\n    filter: {leader: "true"}\n'
                           "    authorization: operators\n    scopes: [raft/admin]\n"),
                    [], [("drop_leader", True)]),
    "route-removed": (edit('  - route: GET /follower\n    id: follower\n    service: raft\n    filter:\n      leader: "false"\n'
                           '    authorization: operators\n    scopes: [raft/admin]\n', ""), [], [("follower", True)]),
    "route-key-renamed": (edit("route: GET /leader", "route: GET /raft/leader"), [], [("leader", False)]),
    "filter-changed": (edit('leader: "false"', 'leader: "no"'), [], [("follower", True)]),
    "authorization-changed": (edit("    scopes: [raft/admin]\n    timeout_ms: 5000", "    timeout_ms: 5000"), [],
                              [("leader", False)]),
    "throttling-changed": (edit("    timeout_ms: 5000\n", "    timeout_ms: 5000\n    throttling: {burst_limit: 5, rate_limit: 1}\n"),
                           [], [("leader", False)]),
    "timeout-changed": (edit("timeout_ms: 5000", "timeout_ms: 2000"), [], [("leader", False)]),
    "service-name": (edit("  raft:\n    registered_by", "  raft:\n    name: raft-v2\n    registered_by"),
                     ["aws_service_discovery_service.raft"], EVERY_ROUTE),
    "dns-record-type": (edit("- type: SRV", "- type: A\n        ttl: 10\n      - type: SRV"),
                        ["aws_service_discovery_service.raft"], EVERY_ROUTE),
    "routing-policy": (edit("    health_check: custom", "    routing_policy: WEIGHTED\n    health_check: custom"),
                       ["aws_service_discovery_service.raft"], EVERY_ROUTE),
    "health-check": (edit("health_check: custom # ECS", "health_check: none # ECS"),
                     ["aws_service_discovery_service.raft"], EVERY_ROUTE),
    "namespace-name": (edit("name: raft.internal", "name: raft.cluster"),
                       ["aws_service_discovery_private_dns_namespace.namespace", "aws_service_discovery_service.raft"],
                       EVERY_ROUTE),
    "namespace-vpc": (edit("name: raft.internal\n  vpc_id: vpc-0d4e5f60718293a4b", "name: raft.internal\n  vpc_id: vpc-0d4e5f60718293a4c"),
                      ["aws_service_discovery_private_dns_namespace.namespace", "aws_service_discovery_service.raft"],
                      EVERY_ROUTE),
    "vpc-link-subnets": (edit("subnet-0b2c3d4e5f6071829", "subnet-0b2c3d4e5f6071830"),
                         ["aws_apigatewayv2_vpc_link.vpc_link"], []),
    "vpc-link-security-groups": (edit("security_group_ids: [sg-0c3d4e5f607182930]", "security_group_ids: [sg-0c3d4e5f607182931]"),
                                 ["aws_apigatewayv2_vpc_link.vpc_link"], []),
    "stage-name": (edit("stage: $default", "stage: prod"), ["aws_apigatewayv2_stage.stage"],
                   [("follower", False), ("get_root", False), ("leader", False), ("reload", False)]),
    # The provider associates a new key in place (AssociateKmsKey): no replacement, the access logs stay.
    "log-group-kms-key": (edit("key/0f1e2d3c-4b5a-6978-8091-a2b3c4d5e6f7", "key/1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809"),
                          [], []),
    "no-change": (lambda text: text, [], []),
}


# --- the reach corpus: every option of a route and of an authorizer, one edit each -----------------------------
# tests/review/corpus.yaml is a routes.yaml with every kind of route (proxy with and without filter, JWT, Lambda
# and allow-list authorization, a fan-out, an ECS service); each case below edits it one way. tests/test_reach.py
# checks that the cases cover every declared option (compiler/reach/options.py) and pins what `diff` says;
# tests/test_agreement.py applies them on the local AWS and checks that diff, summarize-plan, status and serve agree.

CORPUS = (ROOT / "tests" / "review" / "corpus.yaml").read_text()


def route_edit(route_id: str, old: str, new: str):
    """Replace `old` by `new` in one route's block of the corpus (the lines from its `id:` to the next route)."""
    def apply(text: str) -> str:
        start = text.index(f"    id: {route_id}\n")
        end = text.find("\n  - route:", start)
        end = len(text) if end < 0 else end
        block = text[start:end]
        assert old in block, (route_id, old)
        return text[:start] + block.replace(old, new, 1) + text[end:]
    return apply


def both(*edits):
    def apply(text: str) -> str:
        for one in edits:
            text = one(text)
        return text
    return apply


class Case:
    """One edit of the corpus: the options it changes (reach/options.py keys; `authorizers.<key>` for an
    authorizer option), the routes `diff` must list with whether their reach changes, and the warning codes the
    edit introduces on a route."""

    def __init__(self, edit, options: tuple[str, ...], routes: list[tuple[str, bool]],
                 warnings: tuple[tuple[str, str], ...] = ()) -> None:
        self.edit, self.options, self.routes, self.warnings = edit, options, routes, warnings


OPTION_CASES = {
    "route-key": Case(edit("route: GET /follower", "route: GET /followers"),
                      ("route",), [("follower", False)]),
    "route-id": Case(edit("id: follower", "id: followers"), ("id",), [("follower", True), ("followers", True)]),
    "service": Case(route_edit("follower", "service: kv", "service: tasks"), ("service",), [("follower", True)]),
    "filter-value": Case(route_edit("follower", 'leader: "false"', 'leader: "no"'), ("filter",), [("follower", True)]),
    # ECS sets no `zone`: check warns (W403), and so must the review, on the route, before the merge.
    "filter-unsettable": Case(route_edit("task_leader", 'filter: {leader: "true"}',
                                         'filter: {leader: "true", zone: a}'),
                              ("filter",), [("task_leader", True)], (("task_leader", "W403"),)),
    "timeout": Case(route_edit("leader", "timeout_ms: 5000", "timeout_ms: 2000"), ("timeout_ms",), [("leader", False)]),
    "authorization-added": Case(route_edit("follower", "public: true", "authorization: operators"),
                                ("authorization",), [("follower", False)]),
    "authorizer-swap": Case(route_edit("leader", "authorization: operators", "authorization: admins"),
                            ("authorization",), [("leader", False)]),
    "scopes": Case(route_edit("leader", "scopes: [kv/admin]", "scopes: [kv/ops]"), ("scopes",), [("leader", False)]),
    # Nothing changes in AWS; check now warns that anyone may call the route (W404).
    "public": Case(route_edit("root", "\n    public: true", ""), ("public",), [("root", False)], (("root", "W404"),)),
    "stage-in-path": Case(route_edit("follower", "public: true", "public: true\n    forward_stage_in_path: true"),
                          ("forward_stage_in_path",), [("follower", False)]),
    "tls-server-name": Case(route_edit("follower", "public: true", "public: true\n    tls_server_name: kv.internal"),
                            ("tls_server_name",), [("follower", False)]),
    "throttling": Case(route_edit("follower", "public: true",
                                  "public: true\n    throttling: {burst_limit: 5, rate_limit: 1}"),
                       ("throttling",), [("follower", False)]),
    "fan-out-on": Case(route_edit("follower", "public: true", "public: true\n    fan_out: {}"), ("fan_out",),
                       [("follower", True)]),
    "per-instance-timeout": Case(route_edit("reload", "per_instance_timeout_ms: 2000", "per_instance_timeout_ms: 1000"),
                                 ("fan_out.per_instance_timeout_ms",), [("reload", False)]),
    "concurrency": Case(route_edit("reload", "per_instance_timeout_ms: 2000",
                                   "per_instance_timeout_ms: 2000\n      concurrency: 2"),
                        ("fan_out.concurrency",), [("reload", False)]),
    # The first defect: this once gave "No route changes".
    "include-unhealthy": Case(route_edit("reload", "per_instance_timeout_ms: 2000",
                                         "per_instance_timeout_ms: 2000\n      include_unhealthy: true"),
                              ("fan_out.include_unhealthy",), [("reload", True)]),
    "forward-headers": Case(route_edit("reload", "per_instance_timeout_ms: 2000",
                                       "per_instance_timeout_ms: 2000\n      forward_headers: [content-type, x-trace]"),
                            ("fan_out.forward_headers",), [("reload", False)]),
    "max-body-bytes": Case(route_edit("reload", "per_instance_timeout_ms: 2000",
                                      "per_instance_timeout_ms: 2000\n      max_body_bytes: 1024"),
                           ("fan_out.max_body_bytes",), [("reload", False)]),
    "authorizer-type": Case(edit("  admins:\n    type: jwt\n    issuer: https://admin.example.com\n"
                                 "    audiences: [kv-admin]\n",
                                 "  admins:\n    type: lambda\n"
                                 "    function_arn: arn:aws:lambda:eu-west-1:123456789012:function:admins\n"),
                            ("authorizers.type",), [("admin", False)]),
    "jwt-issuer": Case(edit("issuer: https://auth.example.com", "issuer: https://login.example.com"),
                       ("authorizers.issuer",), [("leader", False)]),
    "jwt-audiences": Case(edit("audiences: [kv]", "audiences: [kv, kv-ops]"), ("authorizers.audiences",),
                          [("leader", False)]),
    "identity-source": Case(edit("    audiences: [kv]\n",
                                 "    audiences: [kv]\n    identity_source: $request.header.X-Token\n"),
                            ("authorizers.identity_source",), [("leader", False)]),
    "authorizer-function": Case(edit("function:gatekeeper", "function:gatekeeper-v2"), ("authorizers.function_arn",),
                                [("gated", False)]),
    "authorizer-cache": Case(edit("function:gatekeeper\n", "function:gatekeeper\n    result_ttl_seconds: 0\n"),
                             ("authorizers.result_ttl_seconds",), [("gated", False)]),
    "simple-responses": Case(edit("function:gatekeeper\n", "function:gatekeeper\n    simple_responses: false\n"),
                             ("authorizers.simple_responses",), [("gated", False)]),
    # Raw arguments: the route's row lists each changed one; an authorizer's get a row of their own (no route row).
    "route-overrides": Case(route_edit("follower", "public: true",
                                       "public: true\n    overrides: {route: {operation_name: GetFollower}}"),
                            ("overrides",), [("follower", False)]),
    "authorizer-overrides": Case(edit("function:gatekeeper\n", "function:gatekeeper\n    overrides: "
                                      "{authorizer_credentials_arn: 'arn:aws:iam::123456789012:role/gatekeeper'}\n"),
                                 ("authorizers.overrides",), []),
    "allowlist-cidrs": Case(edit("cidrs: [127.0.0.1/32, 10.0.0.0/8]",
                                 "cidrs: [127.0.0.1/32, 10.0.0.0/8, 192.168.0.0/16]"),
                            ("authorizers.cidrs",), [("office_only", False)]),
}

# What Cloud Map holds for the corpus's `kv` service in each scenario: instance -> (custom attributes, health,
# whether it registered a port). The agreement test registers them with the loopback backends' ports.
INSTANCE_SETS = {
    "healthy": {"node-1": ({"leader": "true"}, "HEALTHY", True), "node-2": ({"leader": "false"}, "HEALTHY", True),
                "node-3": ({"leader": "false"}, "HEALTHY", True)},
    "unhealthy-and-portless": {"node-1": ({"leader": "true"}, "HEALTHY", True),
                               "node-2": ({"leader": "false"}, "UNHEALTHY", True),
                               "node-3": ({"leader": "false"}, "HEALTHY", True),
                               "node-4": ({"leader": "false"}, "HEALTHY", False)},
    "two-leaders": {"node-1": ({"leader": "true"}, "HEALTHY", True), "node-2": ({"leader": "true"}, "HEALTHY", True),
                    "node-3": ({"leader": "false"}, "HEALTHY", True)},
}


def reviewed(base: str, head: str, title: str):
    """`diff` as the CLI runs it: both versions compiled, with what check says of each (the warnings a change
    introduces)."""
    from compiler.language import compile_text
    from compiler.review.diff import diff_models
    from compiler.review.versions import findings
    versions = []
    for text in (base, head):
        model, diagnostics = compile_text(text)
        assert model is not None, diagnostics
        versions.append((model, findings(diagnostics, text)))
    return diff_models(versions[0][0], versions[1][0], title, (versions[0][1], versions[1][1]))
