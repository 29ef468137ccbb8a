"""routes.yaml files of any size for the benchmarks: the bundled scenario, scaled.

Routes spread over a few services, one in three with an attribute filter, as in real files (each route has its
own integration).
"""

from __future__ import annotations

HEADER = """version: 1
region: eu-west-1
api:
  name: bench-api
  default_authorization: operators
  throttling: {burst_limit: 100, rate_limit: 50}
vpc_link:
  subnet_ids: [subnet-0a1b2c3d4e5f60718, subnet-0b2c3d4e5f6071829]
  security_group_ids: [sg-0c3d4e5f607182930]
namespace: {type: private_dns, name: bench.internal, vpc_id: vpc-0d4e5f60718293a4b}
services:
"""
SERVICES = ("raft", "orders", "billing", "search")


def routes_yaml(count: int, warnings: int = 0) -> str:
    """`count` routes; the first `warnings` unfiltered ones without authorization (W404 each: a filtered route
    without authorization is an error, E313)."""
    lines = [HEADER]
    for service in SERVICES:
        lines.append(f"  {service}: {{registered_by: ecs, dns_records: [{{type: SRV, ttl: 10}}], "
                     f"health_check: custom, app_attributes: [leader, shard]}}\n")
    lines.append("authorizers:\n  operators: {type: jwt, issuer: 'https://auth.example.com', audiences: [ops]}\n")
    lines.append("routes:\n")
    for i in range(count):
        service = SERVICES[i % len(SERVICES)]
        lines.append(f"  - route: GET /{service}/r{i}\n    service: {service}\n")
        if i % 3 and (i - i // 3 - 1) < warnings:  # the (i - i // 3 - 1)th unfiltered route
            lines.append("    authorization: none\n")
        if i % 3 == 0:
            lines.append(f"    filter: {{shard: '{i % 50}'}}\n")
    return "".join(lines)
