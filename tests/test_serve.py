"""`main.py serve` as a real process on 127.0.0.1, in front of three real backends that answer with their instance id.

The field observations this tool starts from, as assertions, with the instances registered statically in
routes.yaml and through the local AWS's Cloud Map (moto's server on 127.0.0.1): one leader gets every request,
two followers split them 30/30, three instances 30/30/30, a filter that matches nothing answers 500, an unhealthy
instance gets nothing, a deregistered one drops out on the next request, a leader flip moves GET /leader, and with
--attribute-lag both old and new leader match during the window. Nothing here talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest

from compiler.core.deployed import LOG_FORMAT
from compiler.live.gateway import Gateway, Limits

from .backends import Backends, free_port
from .conftest import ROOT
from .helpers import eventually, stop_process
from .localaws import MotoServer

NODES = ("node-1", "node-2", "node-3")
LEADERS = {"node-1": "true", "node-2": "false", "node-3": "false"}
REGION = "us-east-1"  # what --cloud-map on loopback uses when routes.yaml names no region


class Serve:
    """`python main.py serve FILE --port P ...` with its access log (stdout) and diagnostics (stderr) in files."""

    def __init__(self, file: pathlib.Path, *args: str) -> None:
        self.port = free_port()
        self.log, self.errors = file.with_suffix(".access.log"), file.with_suffix(".stderr")
        with open(self.log, "w") as out, open(self.errors, "w") as err:
            self.process = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "serve", str(file), "--port",
                                             str(self.port), *args], stdout=out, stderr=err, cwd=ROOT)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.request("GET", "/__ready__")
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"serve did not start: {self.errors.read_text()}")
                time.sleep(0.1)

    def request(self, method: str, path: str, headers: dict | None = None, body: bytes | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def get(self, path: str, headers: dict | None = None) -> tuple[int, bytes]:
        status, _, body = self.request("GET", path, headers)
        return status, body

    def reached(self, path: str, times: int, headers: dict | None = None) -> Counter:
        out = Counter()
        for _ in range(times):
            status, body = self.get(path, headers)
            assert status == 200, (status, body)
            out[json.loads(body)["instance"]] += 1
        return out

    def access_log(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    def stop(self) -> None:
        stop_process(self.process)


AUTH = {"Authorization": "Bearer not-checked"}
ROUTES = """\
authorizers:
  admins: {type: jwt, issuer: "https://auth.example.com", audiences: [kv-admin]}
routes:
  - {route: GET /, service: kv, public: true}
  - {route: GET /leader, id: leader, service: kv, filter: {leader: "true"}, authorization: admins}
  - {route: GET /follower, id: follower, service: kv, filter: {leader: "false"}, public: true}
  - {route: GET /nobody, id: nobody, service: kv, filter: {leader: maybe}, public: true}
"""


def static_yaml(ports: dict[str, int], extra_routes: str = "", stage: str = "$default", dead_port: int = 0) -> str:
    instances = "\n".join(f'      - {{id: {n}, ipv4: 127.0.0.1, port: {ports[n]}, '
                          f'attributes: {{leader: "{LEADERS[n]}"}}}}' for n in NODES)
    return f"""version: 1
api: {{name: local-api, stage: "{stage}"}}
vpc_link: {{subnet_ids: [subnet-0a1b2c3d4e5f60718], security_group_ids: [sg-0c3d4e5f607182930]}}
namespace: {{type: http, name: serve-ns}}
services:
  kv:
    health_check: custom
    instances:
{instances}
  gone:
    instances:
      - {{id: gone-1, ipv4: 127.0.0.1, port: {dead_port or free_port()}}}
{ROUTES}{extra_routes}"""


CLOUD_MAP_YAML = f"""version: 1
api: {{name: local-api}}
vpc_link: {{subnet_ids: [subnet-0a1b2c3d4e5f60718], security_group_ids: [sg-0c3d4e5f607182930]}}
namespace: {{type: http, name: serve-ns}}
services:
  kv: {{health_check: custom, registered_by: other, app_attributes: [leader]}}
{ROUTES}"""

EXTRA_ROUTES = """\
  - {route: "ANY /echo/{proxy+}", id: echo, service: kv, public: true}
  - {route: GET /slow, id: slow, service: kv, public: true, timeout_ms: 200}
  - {route: GET /dead, id: dead, service: gone, public: true}
"""


@pytest.fixture(scope="module")
def backends():
    servers = Backends(list(NODES))
    yield servers
    servers.stop()


class CloudMap:
    """The three backends registered in the local AWS's Cloud Map, as an application registers itself."""

    def __init__(self, moto: MotoServer, ports: dict[str, int]) -> None:
        self.sd = moto.client("servicediscovery", REGION)
        self.ports = ports
        self.sd.create_http_namespace(Name="serve-ns")
        namespace = next(n["Id"] for n in self.sd.list_namespaces()["Namespaces"] if n["Name"] == "serve-ns")
        self.service_id = self.sd.create_service(Name="kv", NamespaceId=namespace,
                                                 HealthCheckCustomConfig={})["Service"]["Id"]

    def register(self, node: str, leader: str) -> None:
        self.sd.register_instance(ServiceId=self.service_id, InstanceId=node, Attributes={
            "AWS_INSTANCE_IPV4": "127.0.0.1", "AWS_INSTANCE_PORT": str(self.ports[node]), "leader": leader})

    def reset(self) -> None:
        for node in NODES:
            self.register(node, LEADERS[node])
            self.sd.update_instance_custom_health_status(ServiceId=self.service_id, InstanceId=node, Status="HEALTHY")


@pytest.fixture(scope="module")
def cloud_map(moto, backends):
    registry = CloudMap(moto, backends.ports)
    registry.reset()
    registry.url = moto.url
    return registry


@pytest.fixture(scope="module")
def static_gateway(tmp_path_factory, backends):
    file = tmp_path_factory.mktemp("serve-static") / "routes.yaml"
    file.write_text(static_yaml(backends.ports, EXTRA_ROUTES))
    gateway = Serve(file)
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def cloud_map_gateway(tmp_path_factory, cloud_map):
    file = tmp_path_factory.mktemp("serve-cloud-map") / "routes.yaml"
    file.write_text(CLOUD_MAP_YAML)
    gateway = Serve(file, "--cloud-map", cloud_map.url)
    yield gateway
    gateway.stop()


@pytest.fixture(params=["static", pytest.param("cloud-map", marks=pytest.mark.localaws)])
def gateway(request):
    if request.param == "cloud-map":
        request.getfixturevalue("cloud_map").reset()
        return request.getfixturevalue("cloud_map_gateway")
    return request.getfixturevalue("static_gateway")


# -- the field observations, with static instances and with Cloud Map --------------------------------------


def test_the_leader_gets_every_request(gateway):
    assert gateway.reached("/leader", 60, AUTH) == {"node-1": 60}


def test_the_two_followers_split_the_requests_evenly(gateway):
    assert gateway.reached("/follower", 60) == {"node-2": 30, "node-3": 30}


def test_the_unfiltered_route_spreads_over_all_three(gateway):
    assert gateway.reached("/", 90) == {"node-1": 30, "node-2": 30, "node-3": 30}


def test_a_filter_that_matches_nothing_answers_500_and_logs_why(gateway):
    assert gateway.get("/nobody") == (500, b'{"message":"Internal Server Error"}')
    line = gateway.access_log()[-1]
    assert (line["routeKey"], line["status"], line["integrationStatus"]) == ("GET /nobody", "500", "-")
    assert "leader=maybe" in line["integrationErrorMessage"]


# -- health, registration and attribute changes through Cloud Map -------------------------------------------


@pytest.mark.localaws
def test_an_unhealthy_instance_gets_nothing(cloud_map, cloud_map_gateway):
    cloud_map.reset()
    cloud_map.sd.update_instance_custom_health_status(ServiceId=cloud_map.service_id, InstanceId="node-3",
                                                      Status="UNHEALTHY")
    assert cloud_map_gateway.reached("/", 60) == {"node-1": 30, "node-2": 30}
    assert cloud_map_gateway.reached("/follower", 10) == {"node-2": 10}


@pytest.mark.localaws
def test_a_deregistered_instance_drops_out_on_the_next_request(cloud_map, cloud_map_gateway):
    cloud_map.reset()
    assert set(cloud_map_gateway.reached("/follower", 2)) == {"node-2", "node-3"}
    cloud_map.sd.deregister_instance(ServiceId=cloud_map.service_id, InstanceId="node-2")
    assert cloud_map_gateway.reached("/follower", 10) == {"node-3": 10}
    cloud_map.sd.deregister_instance(ServiceId=cloud_map.service_id, InstanceId="node-1")
    assert cloud_map_gateway.get("/leader", AUTH) == (500, b'{"message":"Internal Server Error"}')


@pytest.mark.localaws
def test_flipping_the_leader_moves_get_leader_at_once_without_lag(cloud_map, cloud_map_gateway):
    cloud_map.reset()
    assert cloud_map_gateway.reached("/leader", 5, AUTH) == {"node-1": 5}
    cloud_map.register("node-1", "false")  # a Raft node steps down and re-registers, another takes over
    cloud_map.register("node-2", "true")
    assert cloud_map_gateway.reached("/leader", 10, AUTH) == {"node-2": 10}
    assert cloud_map_gateway.reached("/follower", 10) == {"node-1": 5, "node-3": 5}


@pytest.mark.localaws
def test_with_attribute_lag_old_and_new_leader_both_match_during_the_window(cloud_map, tmp_path):
    cloud_map.reset()
    file = tmp_path / "routes.yaml"
    file.write_text(CLOUD_MAP_YAML)
    lag = 2.0
    gateway = Serve(file, "--cloud-map", cloud_map.url, "--attribute-lag", str(lag))
    try:
        assert gateway.reached("/leader", 4, AUTH) == {"node-1": 4}
        cloud_map.register("node-1", "false")
        cloud_map.register("node-2", "true")
        flipped = time.monotonic()
        during = gateway.reached("/leader", 10, AUTH)
        followers = gateway.reached("/follower", 9)
        assert time.monotonic() - flipped < lag, "the requests took longer than the window; the test proves nothing"
        assert during == {"node-1": 5, "node-2": 5}  # both match, round-robin
        assert followers == {"node-1": 3, "node-2": 3, "node-3": 3}
        time.sleep(max(0.0, lag - (time.monotonic() - flipped)) + 0.2)
        assert gateway.reached("/leader", 6, AUTH) == {"node-2": 6}
        assert gateway.reached("/follower", 6) == {"node-1": 3, "node-3": 3}
    finally:
        gateway.stop()


# -- integration behaviour ----------------------------------------------------------------------------------


def test_method_path_query_headers_and_body_are_forwarded_and_hop_by_hop_headers_dropped(static_gateway):
    status, headers, body = static_gateway.request("POST", "/echo/a/b%20c?x=1&y=%2F&y=2", body=b"payload", headers={
        "X-Custom": "kept", "Content-Type": "text/plain", "Connection": "keep-alive, X-Hop", "X-Hop": "dropped",
        "Keep-Alive": "timeout=5", "TE": "trailers", "Trailer": "X-Checksum", "Proxy-Authorization": "Basic eA==",
        "X-Forwarded-For": "203.0.113.7"})
    assert status == 200
    seen = json.loads(body)
    assert (seen["method"], seen["path"], seen["query"], seen["body"]) == ("POST", "/echo/a/b%20c", "x=1&y=%2F&y=2",
                                                                           "payload")
    assert seen["headers"]["x-custom"] == "kept" and seen["headers"]["content-type"] == "text/plain"
    assert not {"x-hop", "keep-alive", "te", "trailer", "proxy-authorization"} & set(seen["headers"])
    assert seen["headers"]["x-forwarded-for"] == "203.0.113.7, 127.0.0.1"
    names = [name.lower() for name, _ in headers]
    assert "x-instance" in names and "set-cookie" in names and "apigw-requestid" in names
    assert "keep-alive" not in names  # the backend's hop-by-hop header stops at the gateway


def test_a_route_that_needs_authorization_answers_401_without_the_header(static_gateway):
    assert static_gateway.get("/leader") == (401, b'{"message":"Unauthorized"}')
    assert static_gateway.access_log()[-1]["authorizerError"] != "-"
    assert static_gateway.get("/leader", AUTH)[0] == 200


def test_no_route_is_404_not_found(static_gateway):
    assert static_gateway.get("/nowhere") == (404, b'{"message":"Not Found"}')
    assert static_gateway.request("POST", "/leader")[0] == 404  # GET /leader does not take POST
    line = static_gateway.access_log()[-1]
    assert (line["routeKey"], line["status"], line["path"]) == ("-", "404", "/leader")


def test_a_timeout_and_a_refused_connection_are_503_as_http_apis_answer(static_gateway):
    """An HTTP API answers an integration timeout 503 {"message":"Service Unavailable"} (cortexlabs/cortex#1225's
    capture; REST APIs answer 504): answers.py has the sources."""
    start = time.monotonic()
    assert static_gateway.get("/slow", {"X-Sleep-Ms": "2000"}) == (503, b'{"message":"Service Unavailable"}')
    assert time.monotonic() - start < 1.5  # the route's timeout_ms (200), not the backend's 2 s
    assert "within 200 ms" in static_gateway.access_log()[-1]["integrationErrorMessage"]
    assert static_gateway.get("/dead") == (503, b'{"message":"Service Unavailable"}')
    assert "gone-1" in static_gateway.access_log()[-1]["integrationErrorMessage"]


def test_access_log_lines_carry_the_stages_keys(static_gateway):
    static_gateway.get("/", {"X-Anything": "1"})
    lines = static_gateway.access_log()
    assert lines and all(list(line) == list(LOG_FORMAT) for line in lines)
    last = lines[-1]
    assert (last["httpMethod"], last["path"], last["routeKey"], last["status"], last["integrationStatus"],
            last["sourceIp"]) == ("GET", "/", "GET /", "200", "200", "127.0.0.1")
    assert last["integrationErrorMessage"] == "-" and int(last["responseLength"]) > 0


# -- stage and reload ---------------------------------------------------------------------------------------


def test_a_named_stage_is_required_and_stripped_unless_the_route_forwards_it(backends, tmp_path):
    file = tmp_path / "routes.yaml"
    file.write_text(static_yaml(backends.ports, "  - {route: 'GET /raw/{proxy+}', id: raw, service: kv, public: true, "
                                                "forward_stage_in_path: true}\n", stage="prod"))
    gateway = Serve(file)
    try:
        assert json.loads(gateway.get("/prod/leader", AUTH)[1])["path"] == "/leader"
        assert json.loads(gateway.get("/prod/raw/x/y")[1])["path"] == "/prod/raw/x/y"
        assert gateway.get("/prod")[0] == 200  # GET / under the stage
        lines = len(gateway.access_log())
        assert gateway.get("/leader", AUTH) == (404, b'{"message":"Not Found"}')  # no stage matched
        assert len(gateway.access_log()) == lines  # ... and, as in AWS, no access log line
    finally:
        gateway.stop()


def test_routes_yaml_is_reloaded_and_an_invalid_edit_keeps_the_previous_config(backends, tmp_path):
    file = tmp_path / "routes.yaml"
    text = static_yaml(backends.ports)
    file.write_text(text)
    gateway = Serve(file)
    try:
        assert gateway.get("/new")[0] == 404
        file.write_text(text + '  - {route: GET /new, id: new, service: kv, filter: {leader: "true"}, public: true}\n')
        assert _eventually(lambda: gateway.get("/new")[0] == 200)
        assert json.loads(gateway.get("/new")[1])["instance"] == "node-1"
        file.write_text(text + "  - {route: GET /broken, service: nowhere, public: true}\n")
        assert _eventually(lambda: "still serving the previous configuration" in gateway.errors.read_text())
        assert "nowhere" in gateway.errors.read_text()  # the diagnostics, with their location
        assert gateway.get("/new")[0] == 200 and gateway.get("/broken")[0] == 404
    finally:
        gateway.stop()


_eventually = eventually


def test_check_loads_neither_aiohttp_nor_boto3():
    probe = ("import sys, compiler.cli; code = compiler.cli.main(['check', 'routes.yaml']); "
             "print(code, sorted(m for m in ('aiohttp', 'boto3', 'botocore') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.split("\n")[0] == "0 []", result.stderr


def test_an_invalid_file_is_not_served_and_cloud_map_must_be_local_or_aws(tmp_path):
    file = tmp_path / "routes.yaml"
    file.write_text("version: 1\nroutes: []\n")
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "serve", str(file), "--port", "0"],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 1 and "error E" in result.stderr and "not served" in result.stderr
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "serve", str(file), "--cloud-map",
                             "http://192.0.2.1:4566"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 2 and "--cloud-map" in result.stderr


# -- fan-out routes: the deployed function's own code (compiler/handlers/fanout.py) ------------------------

FAN_OUT_ROUTES = """\
  - {route: "POST /admin/{proxy+}", id: admin, service: kv, public: true, timeout_ms: 5000,
     fan_out: {per_instance_timeout_ms: 1000, concurrency: 2, forward_headers: [content-type, x-trace]}}
  - {route: POST /followers/reload, id: followers, service: kv, filter: {leader: "false"}, public: true, fan_out: {}}
  - {route: POST /nobody/reload, id: nobody_reload, service: kv, filter: {leader: maybe}, public: true, fan_out: {}}
  - {route: POST /all/reload, id: all_reload, service: kv, public: true, fan_out: {include_unhealthy: true}}
"""


def _with_fan_out(text: str) -> str:
    """A fan-out route's function runs in the VPC link's VPC and needs a way to Cloud Map (rules E202, W406)."""
    link = "security_group_ids: [sg-0c3d4e5f607182930]}"
    assert link in text
    return text.replace(link, "security_group_ids: [sg-0c3d4e5f607182930], vpc_id: vpc-0d4e5f60718293a4b, "
                              "cloud_map_access: nat}") + FAN_OUT_ROUTES


@pytest.mark.parametrize("source", ["static", pytest.param("cloud-map", marks=pytest.mark.localaws)])
def test_a_fan_out_route_calls_every_matching_instance_with_the_handlers_code(request, backends, tmp_path, source):
    file = tmp_path / "routes.yaml"
    if source == "static":
        file.write_text(_with_fan_out(static_yaml(backends.ports, stage="prod")))
        gateway, prefix, namespace = Serve(file), "/prod", "serve-ns"
    else:
        cloud_map = request.getfixturevalue("cloud_map")
        cloud_map.reset()
        file.write_text(_with_fan_out(CLOUD_MAP_YAML))
        gateway, prefix, namespace = Serve(file, "--cloud-map", cloud_map.url), "", "serve-ns"
    try:
        status, headers, body = gateway.request("POST", f"{prefix}/admin/reload?level=debug", body=b"now", headers={
            "Content-Type": "text/plain", "X-Trace": "t-7", "X-Other": "dropped"})
        answer = json.loads(body)
        assert status == 200 and {k.lower(): v for k, v in headers}["content-type"] == "application/json", body
        assert (answer["matched"], answer["succeeded"], answer["failed"]) == (3, 3, 0)
        assert [e["id"] for e in answer["instances"]] == list(NODES)
        for entry in answer["instances"]:
            seen = json.loads(entry["body"])
            assert (seen["instance"], seen["method"], seen["path"], seen["query"], seen["body"]) == (
                entry["id"], "POST", "/admin/reload", "level=debug", "now")  # the stage stripped, as proxied
            assert seen["headers"]["x-trace"] == "t-7" and "x-other" not in seen["headers"]
            assert entry["address"] == f"127.0.0.1:{backends.ports[entry['id']]}" and entry["ok"]
        followers = json.loads(gateway.request("POST", f"{prefix}/followers/reload")[2])
        assert [e["id"] for e in followers["instances"]] == ["node-2", "node-3"]
        status, _, body = gateway.request("POST", f"{prefix}/nobody/reload")
        assert status == 502 and json.loads(body)["message"] == (
            f"no instance matched: DiscoverInstances(NamespaceName='{namespace}', ServiceName='kv', "
            "QueryParameters={'leader': 'maybe'}, HealthStatus=HEALTHY) returned none")
        line = gateway.access_log()[-1]
        assert (line["routeKey"], line["status"], line["integrationStatus"]) == ("POST /nobody/reload", "502", "200")
        if source == "cloud-map":  # HealthStatus HEALTHY by default, ALL with include_unhealthy
            cloud_map.sd.update_instance_custom_health_status(ServiceId=cloud_map.service_id, InstanceId="node-3",
                                                              Status="UNHEALTHY")
            healthy = json.loads(gateway.request("POST", "/followers/reload")[2])
            assert [e["id"] for e in healthy["instances"]] == ["node-2"]
            every = json.loads(gateway.request("POST", "/all/reload")[2])
            assert [e["id"] for e in every["instances"]] == list(NODES)
    finally:
        gateway.stop()
        if source == "cloud-map":
            cloud_map.reset()


# -- authorization as the deployed API decides it (issue 17) ------------------------------------------------


def guarded_yaml(port: int) -> str:
    return f"""version: 1
api: {{name: local-api}}
vpc_link: {{subnet_ids: [subnet-0a1b2c3d4e5f60718], security_group_ids: [sg-0c3d4e5f607182930]}}
namespace: {{type: http, name: serve-ns}}
services:
  kv:
    health_check: custom
    instances:
      - {{id: node-1, ipv4: 127.0.0.1, port: {port}}}
authorizers:
  loopback: {{type: allowlist, cidrs: [127.0.0.0/8]}}
  office: {{type: allowlist, cidrs: [10.0.0.0/8, "2001:db8::/32"]}}
  admins: {{type: jwt, issuer: "https://auth.example.com", audiences: [kv-admin]}}
  custom: {{type: lambda, function_arn: "arn:aws:lambda:us-east-1:123456789012:function:auth",
           identity_source: "$request.querystring.token"}}
routes:
  - {{route: GET /inside, id: inside, service: kv, authorization: loopback}}
  - {{route: GET /outside, id: outside, service: kv, authorization: office}}
  - {{route: "GET /admin/{{proxy+}}", id: admin, service: kv, authorization: admins}}
  - {{route: "ANY /{{proxy+}}", id: public, service: kv, public: true}}
  - {{route: GET /custom, id: custom, service: kv, authorization: custom}}
  - {{route: GET /iam, id: iam, service: kv, authorization: iam}}
"""


@pytest.fixture(scope="module")
def guarded(tmp_path_factory, backends):
    file = tmp_path_factory.mktemp("serve-guarded") / "routes.yaml"
    file.write_text(guarded_yaml(backends.ports["node-1"]))
    gateway = Serve(file)
    yield gateway
    gateway.stop()


@pytest.mark.parametrize("headers", [{}, AUTH, {"X-Forwarded-For": "10.1.2.3"}, {**AUTH, "X-Forwarded-For": "10.0.0.1"}])
def test_the_allow_list_decides_on_the_source_address_whatever_the_headers_say(guarded, headers):
    """The shipped allow-list handler runs on the TCP peer (127.0.0.1 here, the only network a test may use):
    inside 127.0.0.0/8 admitted with or without an Authorization header, outside 10.0.0.0/8 forbidden even with
    one, and X-Forwarded-For does not move the caller into the list."""
    status, body = guarded.get("/inside", headers)
    assert status == 200 and json.loads(body)["path"] == "/inside"
    assert guarded.get("/outside", headers) == (403, b'{"message":"Forbidden"}')
    line = guarded.access_log()[-1]
    assert (line["routeKey"], line["status"]) == ("GET /outside", "403")
    assert line["authorizerError"] == "127.0.0.1 is outside ALLOWED_CIDRS"


def test_jwt_lambda_and_iam_routes_are_checked_for_presence_only_and_serve_says_so(guarded):
    assert guarded.get("/admin/x") == (401, b'{"message":"Unauthorized"}')
    assert guarded.get("/admin/x", AUTH)[0] == 200  # any token: not verified
    assert guarded.get("/custom")[0] == 401 and guarded.get("/custom?token=anything")[0] == 200
    assert guarded.get("/custom", AUTH)[0] == 401  # its identity source is the query string, not the header
    assert guarded.get("/iam")[0] == 401 and guarded.get("/iam", AUTH)[0] == 200
    notes = guarded.errors.read_text()
    assert "note: authorization admins, custom, iam: only the presence of the identity source is checked" in notes
    assert "note: allow-list authorizer loopback, office: enforced with the shipped handler" in notes


# -- the path routed is the path forwarded (issue 18, item 9) ----------------------------------------------


@pytest.mark.parametrize("target, status", [
    ("//admin/x", 401), ("/admin%2Fx", 401), ("///admin//x", 401),  # decoded, slashes merged: the admin route
    ("/x/../admin/x", 400), ("/x/%2e%2e/admin/x", 400), ("/x/%2E%2e/admin", 400), ("/x/./y", 400),  # not guessed
    ("/a%00b", 400), ("/a%3Fb", 400)])
def test_no_path_reaches_the_protected_routes_backend_through_the_public_route(guarded, target, status):
    answer = guarded.get(target)
    assert answer == (status, b'{"message":"Unauthorized"}' if status == 401 else b'{"message":"Bad Request"}')
    line = guarded.access_log()[-1]
    assert line["routeKey"] == ("GET /admin/{proxy+}" if status == 401 else "-") and line["status"] == str(status)


def test_the_backend_gets_the_decoded_path_the_route_was_chosen_by(guarded):
    status, body = guarded.get("//admin%2Fa%20b//c", AUTH)
    assert status == 200 and json.loads(body)["path"] == "/admin/a%20b/c"  # = /admin/a b/c decoded
    status, body = guarded.get("/files/100%25%20done?q=%2F")
    assert status == 200 and (json.loads(body)["path"], json.loads(body)["query"]) == ("/files/100%25%20done", "q=%2F")


def _raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out


def test_malformed_requests_get_400_and_no_traceback(guarded):
    absolute = _raw(guarded.port, b"GET http://127.0.0.1/inside HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert re.match(rb"HTTP/1\.[01] 400 ", absolute) and absolute.endswith(b'{"message":"Bad Request"}')
    for garbage in (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
                    b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\n\r\n", b"G\x00T / HTTP/1.1\r\n\r\n"):
        assert re.match(rb"HTTP/1\.[01] 400 ", _raw(guarded.port, garbage)), garbage
    assert guarded.get("/inside")[0] == 200
    errors = guarded.errors.read_text()
    assert "Traceback" not in errors and "serve: ValueError" not in guarded.log.read_text()


# -- bounded against slow and odd peers (issue 18, item 8) --------------------------------------------------


def _vm_hwm_kb(pid: int) -> int:
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


def test_a_fifo_or_a_huge_file_in_place_of_routes_yaml_is_refused_and_serving_goes_on(backends, tmp_path):
    file = tmp_path / "routes.yaml"
    file.write_text(static_yaml(backends.ports))
    gateway = Serve(file)
    try:
        before = _vm_hwm_kb(gateway.process.pid)
        file.unlink()
        os.mkfifo(file)  # a blocking open() on the event loop hung serve for good
        assert _eventually(lambda: "not a regular file" in gateway.errors.read_text())
        assert gateway.get("/")[0] == 200
        file.unlink()
        with open(file, "wb") as sparse:  # 300 MB that take no disk: only the first MiB + 1 byte may be read
            sparse.truncate(300 * 1024 * 1024)
        assert _eventually(lambda: "larger than the limit of 1,048,576 bytes" in gateway.errors.read_text())
        assert gateway.get("/")[0] == 200
        assert _vm_hwm_kb(gateway.process.pid) - before < 64 * 1024  # KB: far from the 300 MB read whole
    finally:
        gateway.stop()


class InProcess:
    """A Gateway in this process, on its own event loop in a thread (for bounds too small to wait for in a
    subprocess: a one-second header timeout, a cap of a few connections)."""

    def __init__(self, file: pathlib.Path, limits: Limits) -> None:
        self.err = io.StringIO()
        self.gateway = Gateway(str(file), 0, out=io.StringIO(), err=self.err, limits=limits)
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),), daemon=True)
        self.thread.start()
        assert self.ready.wait(30), self.err.getvalue()
        self.port = self.gateway.port

    async def _main(self) -> int:
        self.stop, started = asyncio.Event(), asyncio.Event()
        task = asyncio.ensure_future(self.gateway.serve(started, self.stop))
        await asyncio.wait([task, asyncio.ensure_future(started.wait())], return_when=asyncio.FIRST_COMPLETED)
        self.ready.set()
        return await task

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)


def test_connections_that_never_finish_their_headers_are_capped_and_closed(backends, tmp_path):
    """1,500 such connections used to stay open for good. Now each has the header timeout to send its request
    head, and past the connection cap a new one is answered 503 at once."""
    file = tmp_path / "routes.yaml"
    file.write_text(static_yaml(backends.ports, EXTRA_ROUTES))
    served = InProcess(file, Limits(header_timeout_s=1.0, max_connections=20, body_timeout_s=1.0))
    sockets = []
    try:
        for _ in range(25):
            s = socket.create_connection(("127.0.0.1", served.port), timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # and never the rest
            sockets.append(s)
        started = time.monotonic()
        over = [s.recv(65536) for s in sockets[20:]]
        assert all(a.startswith(b"HTTP/1.1 503 ") and a.endswith(b'{"message":"Service Unavailable"}') for a in over)
        assert all(s.recv(65536) == b"" for s in sockets[:20])  # closed by the server ...
        assert 0.5 < time.monotonic() - started < 4  # ... at the header timeout
        with socket.create_connection(("127.0.0.1", served.port), timeout=5) as slow_body:
            slow_body.sendall(b"POST /echo/x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12")  # 8 short
            started = time.monotonic()
            assert slow_body.recv(65536).startswith(b"HTTP/1.1 408 ") and time.monotonic() - started < 4
        status = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
        status.request("GET", "/")
        assert status.getresponse().status == 200  # what was held is released
        status.close()
    finally:
        for s in sockets:
            s.close()
        served.close()
    assert "Traceback" not in served.err.getvalue()


# -- --cloud-map names the namespace by its HttpName (issue 18, item 5) ------------------------------------


@pytest.mark.localaws
def test_cloud_map_finds_the_stacks_own_namespace_when_its_name_is_reused(cloud_map, backends, tmp_path):
    """Two environments in one account: the same namespace name twice, the second with a hashed HttpName. The
    stack's own namespace is the one tagged as routes.yaml tags it; its instances are reached, the other's not,
    through a proxied route and through a fan-out route alike."""
    sd = cloud_map.sd
    for tags, node in (([], "node-1"), ([{"Key": "stage", "Value": "staging"}], "node-2")):
        operation = sd.create_http_namespace(Name="twice-ns", Tags=tags)["OperationId"]
        namespace = sd.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
        service = sd.create_service(Name="kv", NamespaceId=namespace, HealthCheckCustomConfig={})["Service"]["Id"]
        sd.register_instance(ServiceId=service, InstanceId=node, Attributes={
            "AWS_INSTANCE_IPV4": "127.0.0.1", "AWS_INSTANCE_PORT": str(backends.ports[node]), "leader": "true"})
        sd.update_instance_custom_health_status(ServiceId=service, InstanceId=node, Status="HEALTHY")
    staging_name = next(n["Properties"]["HttpProperties"]["HttpName"] for n in sd.list_namespaces()["Namespaces"]
                        if n["Name"] == "twice-ns" and n["Properties"]["HttpProperties"]["HttpName"] != "twice-ns")
    for api, reached, http_name in (("{name: local-api}", "node-1", "twice-ns"),
                                    ("{name: local-api, tags: {stage: staging}}", "node-2", staging_name)):
        file = tmp_path / f"{reached}.yaml"
        file.write_text(_with_fan_out(CLOUD_MAP_YAML.replace("name: serve-ns", "name: twice-ns").replace(
            "api: {name: local-api}", f"api: {api}")))
        gateway = Serve(file, "--cloud-map", cloud_map.url)
        try:
            assert gateway.reached("/", 3) == {reached: 3}
            answer = json.loads(gateway.request("POST", "/admin/reload")[2])
            assert [e["id"] for e in answer["instances"]] == [reached], answer
            status, _, body = gateway.request("POST", "/nobody/reload")
            assert status == 502 and f"NamespaceName='{http_name}'" in json.loads(body)["message"]
        finally:
            gateway.stop()
