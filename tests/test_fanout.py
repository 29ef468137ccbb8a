"""The fan-out Lambda handler (compiler/handlers/fanout.py) against the local AWS's Cloud Map (moto's server on
127.0.0.1) and real loopback backends: the three nodes of tests/backends.py, plus servers in this process that
answer slowly, fail, count how many requests they hold at once, or send large or binary bodies.

`fanout.handler` runs as Lambda runs it: configuration from the environment (written by `fanout_settings.environment`),
one DiscoverInstances call through boto3 (pointed at moto by AWS_ENDPOINT_URL_SERVICEDISCOVERY), a payload 2.0
event in, a payload 2.0 response out. Nothing here talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import base64
import datetime
import json
import re
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from compiler.handlers import cloudmap, fanout
from compiler.handlers import settings as fanout_settings

from .backends import Backends, free_port
from .localaws import MotoServer

REGION = "us-east-1"
NAMESPACE = "fan-ns"
NODES = ("node-1", "node-2", "node-3")


# -- loopback servers in this process -----------------------------------------------------------------------


class Programmable:
    """An HTTP server on 127.0.0.1 that answers every request after `delay_ms` with `status` and `body`, and
    records the requests and the most it held at once."""

    def __init__(self, status: int = 200, body: bytes = b'{"ok":true}', delay_ms: int = 0,
                 content_type: str = "application/json", tls: ssl.SSLContext | None = None) -> None:
        self.status, self.body, self.delay_ms, self.content_type = status, body, delay_ms, content_type
        self.lock = threading.Lock()
        self.active = self.peak = 0
        self.seen: list[dict] = []
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _answer(self) -> None:
                with server.lock:
                    server.active += 1
                    server.peak = max(server.peak, server.active)
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                    body = self.rfile.read(length) if length else b""
                    server.seen.append({"method": self.command, "path": self.path, "body": body,
                                        "headers": {k.lower(): v for k, v in self.headers.items()}})
                    server.release.wait(server.delay_ms / 1000)
                    self.send_response(server.status)
                    self.send_header("Content-Type", server.content_type)
                    self.send_header("Content-Length", str(len(server.body)))
                    self.end_headers()
                    self.wfile.write(server.body)
                except OSError:  # the caller gave up first
                    pass
                finally:
                    with server.lock:
                        server.active -= 1

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def servers():
    started: list[Programmable] = []

    def make(**kwargs) -> Programmable:
        started.append(Programmable(**kwargs))
        return started[-1]
    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def nodes():
    servers = Backends(list(NODES))
    yield servers
    servers.stop()


# -- the local AWS's Cloud Map ------------------------------------------------------------------------------


class Registry:
    """Services in one HTTP namespace of the local AWS, registered as applications register themselves."""

    def __init__(self, moto: MotoServer) -> None:
        self.url = moto.url
        self.sd = moto.client("servicediscovery", REGION)
        self.sd.create_http_namespace(Name=NAMESPACE)
        self.namespace_id = next(n["Id"] for n in self.sd.list_namespaces()["Namespaces"] if n["Name"] == NAMESPACE)
        self.count = 0

    def service(self, instances: dict[str, dict[str, str]], health_check: bool = False,
                unhealthy: tuple[str, ...] = ()) -> str:
        self.count += 1
        name = f"svc-{self.count}"
        extra = {"HealthCheckCustomConfig": {}} if health_check else {}
        service_id = self.sd.create_service(Name=name, NamespaceId=self.namespace_id, **extra)["Service"]["Id"]
        for instance_id, attributes in instances.items():
            self.sd.register_instance(ServiceId=service_id, InstanceId=instance_id, Attributes=attributes)
            if health_check:
                self.sd.update_instance_custom_health_status(
                    ServiceId=service_id, InstanceId=instance_id,
                    Status="UNHEALTHY" if instance_id in unhealthy else "HEALTHY")
        return name


@pytest.fixture(scope="module")
def registry(moto):
    return Registry(moto)


def at(port: int, **attributes: str) -> dict[str, str]:
    return {"AWS_INSTANCE_IPV4": "127.0.0.1", "AWS_INSTANCE_PORT": str(port), **attributes}


@pytest.fixture
def invoke(registry, monkeypatch):
    """Configure the function's environment as the stack does, then call `fanout.handler` as Lambda does."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SERVICEDISCOVERY", registry.url)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    # The backends here listen on loopback (the only network the tests use), which the deployed function never
    # calls: the handler is let call loopback as serve does. test_the_handler_never_calls_loopback_as_deployed
    # proves the deployed value.
    monkeypatch.setattr(fanout, "HANDLER_CALLS", cloudmap.LOCAL)
    monkeypatch.setattr(fanout, "_http_names", {})  # a cold start for each test

    def call(event: dict, service: str, context=None, namespace: str = NAMESPACE, **settings) -> tuple[int, dict, float]:
        for key, value in fanout_settings.environment(fanout_settings.Settings(namespace, service, **settings)).items():
            monkeypatch.setenv(key, value)
        started = time.monotonic()
        response = fanout.handler(event, context)
        elapsed = time.monotonic() - started
        assert response["headers"] == {"content-type": "application/json"} and not response["isBase64Encoded"]
        return response["statusCode"], json.loads(response["body"]), elapsed
    return call


def request(method: str = "POST", raw_path: str = "/admin/reload", query: str = "", headers: dict | None = None,
            body: str | None = None, stage: str = "$default", b64: bool = False, cookies: list | None = None) -> dict:
    """A payload format 2.0 event as API Gateway sends it to a Lambda proxy integration."""
    event = {"version": "2.0", "routeKey": f"{method} /admin/reload", "rawPath": raw_path, "rawQueryString": query,
             "headers": headers or {}, "isBase64Encoded": b64,
             "requestContext": {"http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1",
                                         "sourceIp": "203.0.113.9", "userAgent": "test"},
                                "stage": stage, "requestId": "r1", "routeKey": f"{method} /admin/reload"}}
    if body is not None:
        event["body"] = body
    if cookies:
        event["cookies"] = cookies
    return event


def by_id(answer: dict) -> dict[str, dict]:
    return {entry["id"]: entry for entry in answer["instances"]}


# -- the cases --------------------------------------------------------------------------------------


def test_all_three_matching_instances_answer_200(invoke, registry, nodes):
    service = registry.service({**{n: at(nodes.ports[n], role="raft") for n in NODES},
                                "web-1": at(nodes.ports["node-1"], role="web")})
    status, answer, _ = invoke(request(query="level=debug&x=%2F", body="reload!", headers={
        "content-type": "text/plain", "x-trace": "t-1", "authorization": "Bearer secret", "connection": "close"}),
        service, filter=(("role", "raft"),), forward_headers=frozenset({"content-type", "x-trace", "connection"}))
    assert status == 200
    assert (answer["matched"], answer["succeeded"], answer["failed"]) == (3, 3, 0)
    assert [e["id"] for e in answer["instances"]] == list(NODES)  # the filter: web-1 is not called
    for node, entry in by_id(answer).items():
        assert (entry["status"], entry["ok"], entry["truncated"], entry["address"]) == (
            200, True, False, f"127.0.0.1:{nodes.ports[node]}")
        assert isinstance(entry["latency_ms"], int) and "error" not in entry
        seen = json.loads(entry["body"])
        assert (seen["instance"], seen["method"], seen["path"], seen["query"], seen["body"]) == (
            node, "POST", "/admin/reload", "level=debug&x=%2F", "reload!")
        assert seen["headers"]["content-type"] == "text/plain" and seen["headers"]["x-trace"] == "t-1"
        assert "authorization" not in seen["headers"]  # not in the allow-list
        assert seen["headers"].get("connection") != "close"  # hop-by-hop: never passed on


def test_a_slow_and_a_failing_instance_give_207_with_the_right_entries(invoke, registry, nodes, servers):
    slow, failing = servers(delay_ms=5_000), servers(status=500, body=b'{"error":"disk full"}')
    refused = free_port()
    service = registry.service({"node-1": at(nodes.ports["node-1"]), "slow": at(slow.port),
                                "failing": at(failing.port), "refused": at(refused),
                                "no-address": {"role": "raft"}})
    status, answer, elapsed = invoke(request(), service, per_instance_timeout_ms=300)
    assert status == 207
    assert (answer["matched"], answer["succeeded"], answer["failed"]) == (5, 1, 4)
    entries = by_id(answer)
    assert entries["node-1"]["ok"] and entries["node-1"]["status"] == 200
    assert json.loads(entries["node-1"]["body"])["instance"] == "node-1"
    assert (entries["slow"]["status"], entries["slow"]["ok"]) == (None, False)
    assert entries["slow"]["error"].startswith("timed out after") and "body" not in entries["slow"]
    assert 250 <= entries["slow"]["latency_ms"] < 2_000
    assert (entries["failing"]["status"], entries["failing"]["error"]) == (500, "HTTP 500")
    assert json.loads(entries["failing"]["body"]) == {"error": "disk full"}
    assert (entries["refused"]["status"], entries["refused"]["error"]) == (None, "connection refused")
    assert entries["no-address"] == {"id": "no-address", "address": "", "status": None, "latency_ms": 0, "ok": False,
                                     "error": "not reachable: registered without AWS_INSTANCE_IPV4/AWS_INSTANCE_PORT"}
    assert elapsed < 2.5  # the per-instance timeout, not the slow instance's 5 s


def test_all_failing_is_502(invoke, registry, servers):
    failing = servers(status=503, body=b"busy")
    service = registry.service({"a": at(failing.port), "b": at(free_port())})
    status, answer, _ = invoke(request(), service)
    assert status == 502 and (answer["matched"], answer["succeeded"], answer["failed"]) == (2, 0, 2)
    assert by_id(answer)["a"]["body"] == "busy"


def test_zero_matches_is_502_with_a_message(invoke, registry, nodes):
    service = registry.service({"node-1": at(nodes.ports["node-1"], role="raft")})
    status, answer, _ = invoke(request(), service, filter=(("role", "nobody"),))
    assert status == 502
    assert answer == {"matched": 0, "succeeded": 0, "failed": 0, "instances": [], "message": (
        f"no instance matched: DiscoverInstances(NamespaceName='{NAMESPACE}', ServiceName='{service}', "
        "QueryParameters={'role': 'nobody'}, HealthStatus=HEALTHY) returned none")}


def test_a_cloud_map_failure_is_502_with_the_error(invoke):
    status, answer, _ = invoke(request(), "no-such-service")
    assert status == 502 and answer["matched"] == 0
    assert answer["message"].startswith("DiscoverInstances failed: ")


def test_unhealthy_instances_only_with_include_unhealthy(invoke, registry, nodes):
    service = registry.service({n: at(nodes.ports[n]) for n in NODES}, health_check=True, unhealthy=("node-3",))
    assert [e["id"] for e in invoke(request(), service)[1]["instances"]] == ["node-1", "node-2"]
    assert [e["id"] for e in invoke(request(), service, include_unhealthy=True)[1]["instances"]] == list(NODES)


# -- stage, request forwarding ------------------------------------------------------------------------------


def test_a_named_stage_is_stripped_from_raw_path_unless_forwarded(invoke, registry, nodes):
    service = registry.service({"node-1": at(nodes.ports["node-1"])})

    def path(raw_path: str, **settings) -> str:
        status, answer, _ = invoke(request(raw_path=raw_path, stage="prod"), service, **settings)
        assert status == 200
        return json.loads(answer["instances"][0]["body"])["path"]
    assert path("/prod/admin/reload", stage="prod") == "/admin/reload"
    assert path("/prod", stage="prod") == "/"
    assert path("/prod/admin/reload", stage="") == "/admin/reload"  # STAGE unset: the event's stage
    assert path("/production/x", stage="prod") == "/production/x"  # not the stage segment
    assert path("/prod/admin/reload", stage="prod", strip_stage=False) == "/prod/admin/reload"
    assert path("/admin/a%20b/c d", stage="$default") == "/admin/a%20b/c%20d"  # encoded kept, raw encoded


def test_binary_request_bodies_cookies_and_every_header(invoke, registry, servers):
    echo = servers()
    service = registry.service({"a": at(echo.port)})
    payload = bytes(range(256))
    status, _, _ = invoke(request("PUT", body=base64.b64encode(payload).decode(), b64=True, cookies=["a=1", "b=2"],
                                  headers={"x-one": "1", "keep-alive": "5", "host": "api.example.com"}),
                          service, forward_headers=None)
    assert status == 200
    seen = echo.seen[-1]
    assert (seen["method"], seen["body"]) == ("PUT", payload)
    assert seen["headers"]["cookie"] == "a=1; b=2" and seen["headers"]["x-one"] == "1"
    assert "keep-alive" not in seen["headers"] and seen["headers"]["host"] == f"127.0.0.1:{echo.port}"
    invoke(request("GET", cookies=["a=1"], headers={"x-one": "1"}), service, forward_headers=frozenset())
    assert not {"cookie", "x-one", "content-type"} & set(echo.seen[-1]["headers"])
    assert echo.seen[-1]["body"] == b"" and echo.seen[-1]["method"] == "GET"


# -- size, time and concurrency limits ----------------------------------------------------------------------


def test_bodies_past_the_limit_are_truncated_and_binary_ones_base64(invoke, registry, nodes, servers):
    binary = servers(body=b"\xff\xfe\x00binary" * 10, content_type="application/octet-stream")
    text = servers(body="é".encode() * 30)  # 60 bytes of two-byte characters
    service = registry.service({"node-1": at(nodes.ports["node-1"]), "binary": at(binary.port),
                                "text": at(text.port)})
    status, answer, _ = invoke(request(), service, max_body_bytes=41)
    assert status == 200
    entries = by_id(answer)
    assert entries["node-1"]["truncated"] and len(entries["node-1"]["body"].encode()) == 41
    assert entries["binary"]["base64"] is True and entries["binary"]["truncated"]
    assert base64.b64decode(entries["binary"]["body"]) == (b"\xff\xfe\x00binary" * 10)[:41]
    assert entries["text"]["body"] == "é" * 20 and entries["text"]["truncated"]  # never half a character
    assert "base64" not in entries["text"]
    status, answer, _ = invoke(request(), service, max_body_bytes=100_000)
    assert not any(e["truncated"] for e in answer["instances"])
    assert base64.b64decode(by_id(answer)["binary"]["body"]) == b"\xff\xfe\x00binary" * 10


def test_the_response_stays_under_lambdas_payload_limit_however_many_answer(invoke, registry, servers):
    # 12 instances with 1 MB bodies of quotes, which JSON escapes twice (aggregate, then the Lambda response).
    big = servers(body=b'"' * 1_000_000, content_type="text/plain")
    service = registry.service({f"n-{i:02d}": at(big.port) for i in range(12)})
    status, answer, _ = invoke(request(), service, max_body_bytes=1_000_000)
    response = fanout.handler(request(), None)
    assert status == 200 and all(e["truncated"] for e in answer["instances"])
    assert len(json.dumps(response)) <= fanout.RESPONSE_BUDGET < fanout.LAMBDA_RESPONSE_LIMIT
    assert min(len(e["body"]) for e in answer["instances"]) > 10_000  # cut to share the budget, not emptied


def test_the_total_timeout_stops_the_fan_out_and_reports_what_is_pending(invoke, registry, servers):
    slow = servers(delay_ms=5_000)
    service = registry.service({"a": at(slow.port), "b": at(slow.port)})
    status, answer, elapsed = invoke(request(), service, per_instance_timeout_ms=4_000, total_timeout_ms=400,
                                     concurrency=1)
    assert status == 502 and elapsed < 1.5
    a, b = by_id(answer)["a"], by_id(answer)["b"]
    assert a["error"] == "timed out: no answer within the fan-out's total timeout of 400 ms"
    assert 300 <= a["latency_ms"] < 1_500
    assert b["error"].startswith("timed out: not called") and b["latency_ms"] == 0


def test_the_functions_remaining_time_caps_the_total_timeout(invoke, registry, servers):
    slow = servers(delay_ms=5_000)
    service = registry.service({"a": at(slow.port)})

    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 700
    status, answer, elapsed = invoke(request(), service, Context(), per_instance_timeout_ms=4_000)
    assert status == 502 and elapsed < 1.5
    assert answer["instances"][0]["error"].startswith("timed out: no answer within the fan-out's total timeout of 400")


def test_the_concurrency_limit_is_honoured(invoke, registry, servers):
    gauge = servers(delay_ms=200)
    service = registry.service({f"n-{i}": at(gauge.port) for i in range(6)})
    status, answer, elapsed = invoke(request(), service, concurrency=2)
    assert status == 200 and answer["succeeded"] == 6
    assert gauge.peak == 2 and len(gauge.seen) == 6
    assert elapsed >= 0.6  # three rounds of two
    gauge.peak = 0
    status, _, elapsed = invoke(request(), service, concurrency=6)
    assert status == 200 and gauge.peak == 6 and elapsed < 0.6


# -- TLS and configuration ----------------------------------------------------------------------------------


@pytest.fixture
def tls_files(tmp_path):
    """A self-signed certificate for admin.internal (and its CA file), made with `cryptography`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "admin.internal")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("admin.internal")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_tls_server_name_calls_over_https_and_verifies_that_name(invoke, registry, servers, tls_files, monkeypatch):
    cert_file, key_file = tls_files
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    secure = servers(tls=context)
    service = registry.service({"a": at(secure.port)})
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # the CA the default context trusts
    status, answer, _ = invoke(request(), service, tls_server_name="admin.internal")
    assert status == 200 and answer["instances"][0]["body"] == '{"ok":true}'
    status, answer, _ = invoke(request(), service, tls_server_name="other.internal")
    assert status == 502 and answer["instances"][0]["error"].startswith("TLS: ")
    status, answer, _ = invoke(request(), service)  # plain HTTP to a TLS listener: a failure, not a crash
    assert status == 502 and answer["instances"][0]["status"] is None


def test_a_misconfigured_function_answers_500_and_says_why(invoke, monkeypatch):
    monkeypatch.setenv("CONCURRENCY", "zero")
    monkeypatch.setenv("CLOUD_MAP_NAMESPACE", NAMESPACE)
    monkeypatch.setenv("CLOUD_MAP_SERVICE", "x")
    response = fanout.handler(request(), None)
    assert response["statusCode"] == 500
    assert "CONCURRENCY" in json.loads(response["body"])["message"]


def test_run_takes_any_discovery_and_never_raises_for_instances():
    settings = fanout_settings.Settings("ns", "svc", per_instance_timeout_ms=200)
    with socket.socket() as listener:  # accepts the connection (the backlog) and never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        instances = [{"InstanceId": "mute", "Attributes": {"AWS_INSTANCE_IPV4": "127.0.0.1",
                                                            "AWS_INSTANCE_PORT": str(port)}},
                     {"InstanceId": "bad-port", "Attributes": {"AWS_INSTANCE_IPV4": "127.0.0.1",
                                                                "AWS_INSTANCE_PORT": "70000"}}]
        response = fanout.run(request(), lambda: instances, settings, allowed=cloudmap.LOCAL)
    answer = json.loads(response["body"])
    assert response["statusCode"] == 502
    assert by_id(answer)["mute"]["error"].startswith("timed out after")
    assert by_id(answer)["bad-port"]["error"] == (
        "not reachable: AWS_INSTANCE_PORT '70000' is not a port (ASCII digits, 1-65535)")


# -- what Cloud Map returns is untrusted (issue 18, item 6) -------------------------------------------------

AS_DEPLOYED = fanout.HANDLER_CALLS  # read before any fixture widens it for the loopback backends


@pytest.mark.parametrize("ipv4, port", [
    ("127.0.0.1", None), ("127.1.2.3", None), ("localhost", None), ("0.0.0.0", None), ("169.254.169.254", 80),
    ("224.0.0.1", None), ("255.255.255.255", None), ("127.0.0.1\r\nX: y", None), ("0127.0.0.1", None),
    ("10.0.0.1", "²"), ("10.0.0.1", "٨٠"), ("10.0.0.1", " 80"), ("10.0.0.1", "+80"), ("10.0.0.1", "8_0"),
    ("10.0.0.1", "0"), ("10.0.0.1", "65536")])
def test_the_handler_as_deployed_never_calls_a_special_address_or_a_malformed_one(invoke, registry, servers,
                                                                                 monkeypatch, ipv4, port):
    assert AS_DEPLOYED == cloudmap.DEPLOYED == frozenset()
    monkeypatch.setattr(fanout, "HANDLER_CALLS", AS_DEPLOYED)
    listening = servers()
    attempts = []
    monkeypatch.setattr(fanout.socket, "create_connection", lambda *a, **k: attempts.append(a) or 1 / 0)
    service = registry.service({"odd": {"AWS_INSTANCE_IPV4": ipv4, "AWS_INSTANCE_PORT": str(port or listening.port)},
                                "fine": at(listening.port)})
    status, answer, _ = invoke(request(), service)
    assert status == 502 and answer["matched"] == 2 and answer["succeeded"] == 0
    odd = by_id(answer)["odd"]
    assert odd["error"].startswith("not reachable: ") and odd["status"] is None and odd["address"] == ""
    assert by_id(answer)["fine"]["error"].startswith("not reachable: AWS_INSTANCE_IPV4 127.0.0.1 is a loopback")
    assert attempts == [] and listening.seen == []


def test_a_backend_that_drips_its_answer_is_cut_at_the_per_instance_timeout_and_no_thread_stays(invoke, registry):
    """One byte every 100 ms renewed a per-read timeout for ever; the whole call now has one deadline. And the
    workers of each run are gone when it answers (they used to pile up: 8, 16, 24 after three runs)."""
    drips = [Drip(head) for head in (b"", b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n")]
    try:
        service = registry.service({f"drip-{i}": at(d.port) for i, d in enumerate(drips)})
        for _ in range(3):
            status, answer, elapsed = invoke(request(), service, per_instance_timeout_ms=400, total_timeout_ms=5_000)
            assert status == 502 and elapsed < 1.5, answer
            for entry in answer["instances"]:
                assert entry["error"].startswith("timed out after") and 400 <= entry["latency_ms"] < 1_000, entry
            assert [t.name for t in threading.enumerate() if t.name.startswith("fanout")] == []
        assert all(d.sent > 0 for d in drips)  # they did drip
    finally:
        for d in drips:
            d.stop()


class Drip:
    """A loopback server that sends `head`, then one byte every 100 ms, for as long as the caller listens."""

    def __init__(self, head: bytes) -> None:
        self.head, self.sent, self.stopped = head, 0, threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(connection,), daemon=True).start()

    def _drip(self, connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(65536)
                connection.sendall(self.head)
                while not self.stopped.wait(0.1):
                    connection.sendall(b"x" if self.head.endswith(b"\r\n\r\n") else b"X")
                    self.sent += 1
            except OSError:  # the caller hung up: what the deadline is for
                pass

    def stop(self) -> None:
        self.stopped.set()
        self.listener.close()


@pytest.mark.parametrize("event, why", [
    ({**request(body="!!not base64!!", b64=True)}, "not valid base64"),
    ({**request(body="a", b64=True)}, "not valid base64"),
    ({**request(raw_path="/admin/../secret")}, "'.' or '..' segment"),
    ({**request(raw_path="/admin/%2e%2e/secret")}, "'.' or '..' segment"),
    ({**request(), "requestContext": {"http": {"method": "GE T"}}}, "not an HTTP method"),
    ({**request(), "body": {"not": "a string"}}, "body is not a string"),
    (["not", "an", "event"], "not a JSON object"),
])
def test_an_event_that_cannot_be_forwarded_is_400_and_nobody_is_called(invoke, registry, servers, event, why):
    listening = servers()
    status, answer, _ = invoke(event, registry.service({"a": at(listening.port)}))
    assert status == 400 and why in answer["message"] and answer["instances"] == []
    assert listening.seen == []


def test_headers_that_would_split_the_request_are_not_passed_on(invoke, registry, servers):
    listening = servers()
    event = request(headers={"x-ok": "fine", "x-bad": "a\r\nX-Injected: 1", "bad name": "v", "x-nul": "a\x00b",
                             "x-utf8": "é€"}, cookies=["a=1", "b=2\r\nX-Injected: 2"])
    status, answer, _ = invoke(event, registry.service({"a": at(listening.port)}), forward_headers=None)
    assert status == 200, answer
    seen = listening.seen[0]["headers"]
    assert seen["x-ok"] == "fine" and seen["cookie"] == "a=1" and "x-injected" not in seen
    assert not {"x-bad", "x-nul", "bad name"} & set(seen)
    assert seen["x-utf8"].encode("latin-1").decode("utf-8") == "é€"  # sent as UTF-8 bytes, not an error


# -- the namespace is named by its id, its HttpName read from Cloud Map (issue 18, item 5) -----------------


def test_a_reused_namespace_name_is_told_apart_by_its_id(invoke, registry, servers, monkeypatch):
    """Two private DNS namespaces named alike (two environments' VPCs in one account): the second gets a hashed
    HttpName, and a function given the second's id reaches the second's instances, never the first's."""
    first, second = servers(body=b'"first"'), servers(body=b'"second"')
    ids = {}
    for name, vpc, server in (("dev", "vpc-0aaaaaaaaaaaaaaa1", first), ("staging", "vpc-0bbbbbbbbbbbbbbb2", second)):
        operation = registry.sd.create_private_dns_namespace(Name="twice.internal", Vpc=vpc)["OperationId"]
        ids[name] = registry.sd.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
        service = registry.sd.create_service(Name="kv", NamespaceId=ids[name], DnsConfig={
            "NamespaceId": ids[name], "DnsRecords": [{"Type": "A", "TTL": 10}]})["Service"]["Id"]
        registry.sd.register_instance(ServiceId=service, InstanceId="node", Attributes=at(server.port))
    http_names = {k: registry.sd.get_namespace(Id=v)["Namespace"]["Properties"]["HttpProperties"]["HttpName"]
                  for k, v in ids.items()}
    assert http_names["dev"] == "twice.internal" and re.fullmatch(r"twice\.internal-[a-z0-9]{16}",
                                                                   http_names["staging"])

    status, answer, _ = invoke(request(), "kv", namespace="twice.internal", namespace_id=ids["staging"])
    assert status == 200 and by_id(answer)["node"]["body"] == '"second"', answer
    assert len(first.seen) == 0 and len(second.seen) == 1
    status, answer, _ = invoke(request(), "kv", namespace="twice.internal")  # the plain name: the other one
    assert status == 200 and by_id(answer)["node"]["body"] == '"first"'

    # Read once per container: a warm one answers without asking again ...
    client = fanout._client()
    monkeypatch.setattr(client, "get_namespace", lambda **kwargs: 1 / 0)
    status, answer, _ = invoke(request(), "kv", namespace="twice.internal", namespace_id=ids["staging"])
    assert status == 200 and by_id(answer)["node"]["body"] == '"second"'
    # ... and a cold one that cannot read it calls nobody rather than guess the plain name.
    monkeypatch.setattr(fanout, "_http_names", {})
    status, answer, _ = invoke(request(), "kv", namespace="twice.internal", namespace_id=ids["staging"])
    assert status == 502 and answer["instances"] == [] and len(second.seen) == 2 and len(first.seen) == 1
    assert answer["message"].startswith(f"GetNamespace(Id={ids['staging']!r}) failed: ZeroDivisionError")


def test_an_unknown_namespace_id_is_502_with_cloud_maps_error(invoke, registry, servers):
    listening = servers()
    service = registry.service({"a": at(listening.port)})
    status, answer, _ = invoke(request(), service, namespace_id="ns-0000000000000000")
    assert status == 502 and "NamespaceNotFound" in answer["message"] and listening.seen == []
