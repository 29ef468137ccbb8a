"""What `check` now refuses because AWS would (issue 18, items 2-5 and 7), through the commands a user runs.

The diagnostics corpus pins every message (tests/diagnostics: route-conflicts, static-addresses, environments-state,
arns, arns-no-region); these tests hold the cases the issue names, and what must stay accepted.
"""

from __future__ import annotations

import pytest

from compiler.language import compile_stacks_text, compile_text

from .conftest import ROOT
from .helpers import run_main

MTLS = (ROOT / "examples" / "admin-mtls.yaml").read_text()


def test_a_certificate_of_another_region_than_the_api_fails_check_at_the_certificate(tmp_path):
    assert "region: us-east-1\n" in MTLS and ":acm:us-east-1:" in MTLS
    routes = tmp_path / "admin-mtls.yaml"
    routes.write_text(MTLS.replace("region: us-east-1\n", "region: eu-west-1\n"))
    result = run_main("check", str(routes))
    assert result.returncode == 1
    line = MTLS.splitlines().index(next(t for t in MTLS.splitlines() if "certificate_arn:" in t)) + 1
    assert f"{routes}:{line}:22: error E319: api.custom_domain.certificate_arn is in us-east-1, and the API is in " \
           "eu-west-1" in result.stderr


def test_the_region_an_arn_needs_is_said_when_routes_yaml_names_none():
    _, diagnostics = compile_text(MTLS.replace("region: us-east-1\n", ""))
    assert [(d.code, d.hint) for d in diagnostics] == [("W410", "set region: us-east-1")]


BASE = """version: 1
api: {name: t, default_authorization: iam}
vpc_link: {subnet_ids: [subnet-0a1b2c3d4e5f60718], security_group_ids: [sg-0c3d4e5f607182930]}
namespace: {type: http, name: t-ns}
services:
  app: {health_check: custom}
routes:
"""


def route_codes(*keys: str) -> list[str]:
    text = BASE + "".join(f"  - {{route: '{key}', service: app}}\n" for key in keys)
    return [d.code for d in compile_text(text)[1]]


@pytest.mark.parametrize("keys", [
    ("ANY /{proxy+}", "GET /admin/{proxy+}"),  # greedy variables at two levels
    ("GET /{id}", "ANY /{proxy+}"),  # a variable and a greedy one at one level
    ("GET /{id}", "DELETE /{id}", "GET /{id}/items/{item}"),  # one name per level
    ("GET /v1:batch", "GET /.well-known/jwks.json", "GET /a_b-c.d"),  # CreateRoute's characters
])
def test_route_keys_aws_accepts_stay_valid(keys):
    assert route_codes(*keys) == []


@pytest.mark.parametrize("keys", [
    ("GET /{a}", "GET /{b}"), ("GET /{a}", "POST /{b}/x"), ("GET /x/{a+}", "PUT /x/{b+}"),
])
def test_two_variable_names_at_one_level_are_refused(keys):
    assert route_codes(*keys) == ["E316"]


@pytest.mark.parametrize("key", ["GET /a/./b", "GET /a/..", "GET /a~b", "GET /a@b", "GET /a=b", "GET /a+b"])
def test_path_parts_aws_refuses_are_refused(key):
    assert route_codes(key) == ["E300"]


STATIC = BASE.replace("  app: {health_check: custom}\n", "  app:\n    health_check: custom\n    instances: [{id: n1, "
                      "ipv4: IP, port: 80}]\n") + "  - {route: 'GET /', service: app}\n"


@pytest.mark.parametrize("address", ["169.254.169.254", "169.254.0.1", "0.0.0.0", "0.1.2.3", "224.0.0.251",
                                     "239.255.255.250", "240.0.0.1", "255.255.255.255", "10.0.0.010", "1.2.3"])
def test_static_instances_no_vpc_link_reaches_are_refused(address):
    assert [d.code for d in compile_text(STATIC.replace("IP", address))[1]] == ["E308"]


def test_a_loopback_instance_is_warned_about_by_check_and_synth(tmp_path):
    routes = tmp_path / "routes.yaml"
    routes.write_text(STATIC.replace("IP", "127.0.0.1"))
    check = run_main("check", str(routes))
    synth = run_main("synth", str(routes), "--out", str(tmp_path / "out"), "--engine", "direct")
    assert check.returncode == synth.returncode == 0, check.stderr + synth.stderr
    for result in (check, synth):
        assert "warning W409: 127.0.0.1 is a loopback address" in result.stdout + result.stderr


ENVIRONMENTS = BASE + "  - {route: 'GET /', service: app}\nenvironments:\n"


def test_two_environments_with_one_state_object_are_refused_at_the_second():
    text = ENVIRONMENTS + "  dev: {state: s3://b-state/same.tfstate}\n  prod: {state: s3://b-state/same.tfstate}\n"
    stacks, diagnostics = compile_stacks_text(text)
    assert stacks is None
    assert [(d.line, d.col, d.code, d.loc) for d in diagnostics] == [(11, 17, "E318", "environments.prod.state")]


def test_environment_names_differing_only_in_case_are_refused_at_the_second():
    stacks, diagnostics = compile_stacks_text(ENVIRONMENTS + "  prod: {}\n  Prod: {}\n")
    assert stacks is None and [(d.line, d.col, d.code) for d in diagnostics] == [(11, 3, "E318")]
