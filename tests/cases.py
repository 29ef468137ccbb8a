"""Edits of the bundled routes.yaml, each one kind of change, shared by the tests that check how it is reviewed:
tests/test_review.py (what `diff` says) and tests/test_local_aws.py (what Terraform then plans)."""

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
