"""Property: the fan-out handler's `run()` over generated Cloud Map answers, events and instance behaviour never
raises, never connects outside the allowed address classes, and always answers within Lambda's response limit.

The network is replaced by a recorder: `run(..., connect=recorder)` opens no socket to anywhere; the recorder
notes the address asked for and hands back one end of a local socket pair (no address at all) whose other end
holds a generated answer: a well-formed HTTP response, garbage, a cut-off one, silence, or a refusal.
"""

from __future__ import annotations

import json
import socket
import threading

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.handlers import cloudmap, fanout
from compiler.handlers.settings import Settings


def weighted(*choices):
    """One of the strategies, each drawn with its weight: [(weight, strategy), ...]."""
    table = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(table).flatmap(lambda strategy: strategy)


IPS = st.sampled_from([
    "10.0.1.5", "10.0.1.6", "192.168.0.1", "127.0.0.1", "127.9.9.9", "0.0.0.0", "0.1.2.3", "169.254.169.254",
    "169.254.170.2", "224.0.0.251", "239.1.1.1", "240.0.0.1", "255.255.255.255", "localhost", "10.0.1.5\r\nX: y",
    " 10.0.1.5", "010.0.1.5", "10.0.1", "1.2.3.4.5", "\uff18.\uff18.\uff18.\uff18", "10.0.1.5\n", "1.2.3.256"])
PORTS = st.sampled_from(["80", "8080", "65535", "1", "0", "65536", "\u00b2", "\u0668\u0660", " 80", "+80", "8_0",
                         "80\n", "-1", "1e3", "00080", "123456"])
JUNK = st.one_of(st.text(max_size=20), st.integers(), st.none(), st.booleans(),
                 st.lists(st.text(max_size=3), max_size=2), st.text(min_size=2000, max_size=5000))
ATTRIBUTE_VALUES = st.one_of(IPS, PORTS, JUNK)
ORDINARY = st.fixed_dictionaries({"AWS_INSTANCE_IPV4": st.sampled_from(["10.0.1.5", "10.0.1.6", "172.16.0.9"]),
                                  "AWS_INSTANCE_PORT": st.sampled_from(["80", "8080", "9000"])})
ATTRIBUTES = weighted(
    (5, ORDINARY),
    (4, st.fixed_dictionaries({"AWS_INSTANCE_IPV4": weighted((5, IPS), (1, JUNK)),
                               "AWS_INSTANCE_PORT": weighted((5, PORTS), (1, JUNK))},
                              optional={"leader": ATTRIBUTE_VALUES})),
    (1, st.one_of(st.dictionaries(st.one_of(st.text(max_size=10), st.integers()), ATTRIBUTE_VALUES, max_size=3),
                  st.none(), st.text(max_size=5), st.lists(st.integers(), max_size=2))))
INSTANCE_IDS = st.one_of(st.text(max_size=20), st.text(min_size=500, max_size=3000), st.integers(), st.none(),
                         st.sampled_from(["node-1", "node-1", "\x1b[31mred", "a\r\nb", "\u202eevil"]))
INSTANCES = weighted(
    (8, st.fixed_dictionaries({"InstanceId": INSTANCE_IDS, "Attributes": ATTRIBUTES},
                              optional={"HealthStatus": st.sampled_from(["HEALTHY", "UNHEALTHY", 7])})),
    (1, st.one_of(st.dictionaries(st.text(max_size=10), ATTRIBUTE_VALUES, max_size=3), st.none(), st.integers(),
                  st.text(max_size=5))))


class Boom(Exception):
    def __str__(self) -> str:
        return "\x1b[2J" + "x" * 10_000


ANSWERS = weighted((8, st.lists(INSTANCES, min_size=1, max_size=40)), (1, st.just([])),
                   (1, st.sampled_from(["raise", "raise-odd", "none", "int", "str"])))

HEADER_VALUES = st.one_of(st.text(max_size=30), st.integers(), st.none(), st.sampled_from(["a\r\nb", "x\x00y", "é€"]))
WELL_FORMED = st.fixed_dictionaries({
    "rawPath": st.sampled_from(["/admin/reload", "/prod/admin/x", "/a b/é", "/"]),
    "rawQueryString": st.sampled_from(["", "a=1&b=%2F", "x y"]),
    "headers": st.dictionaries(st.sampled_from(["content-type", "x-a", "cookie", "host", "connection"]),
                               HEADER_VALUES, max_size=3),
    "body": st.one_of(st.none(), st.text(max_size=100)), "isBase64Encoded": st.just(False),
    "requestContext": st.fixed_dictionaries({"http": st.fixed_dictionaries({"method": st.sampled_from(
        ["GET", "POST", "HEAD", "DELETE"])}), "stage": st.sampled_from(["$default", "prod"])})})
EVENTS = weighted((6, WELL_FORMED), (3, st.fixed_dictionaries({}, optional={
        "rawPath": st.one_of(st.text(max_size=40), st.sampled_from(["/a/../b", "/%2e%2e/x", "/prod/x", "/\ud800"]),
                             st.integers()),
        "rawQueryString": st.one_of(st.text(max_size=40), st.none(), st.integers()),
        "headers": st.one_of(st.dictionaries(st.one_of(st.text(max_size=15), st.integers()), HEADER_VALUES,
                                             max_size=5), st.text(max_size=5), st.none()),
        "cookies": st.one_of(st.lists(st.one_of(st.text(max_size=10), st.integers()), max_size=3), st.text()),
        "body": st.one_of(st.text(max_size=200), st.sampled_from(["!!!", "a", "aGVsbG8=", "aGVsbG8"]), st.integers(),
                          st.none(), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)),
        "isBase64Encoded": st.one_of(st.booleans(), st.text(max_size=3), st.none()),
        "requestContext": st.one_of(st.fixed_dictionaries({}, optional={
            "http": st.one_of(st.fixed_dictionaries({}, optional={"method": st.one_of(
                st.sampled_from(["GET", "POST", "HEAD", "PUT", "get", "G ET", "GET\r\n", ""]), st.text(max_size=8),
                st.integers())}), st.text(max_size=3)),
            "stage": st.one_of(st.sampled_from(["$default", "prod"]), st.text(max_size=5), st.integers())}),
            st.none(), st.text(max_size=3))})),
    (1, st.one_of(st.none(), st.integers(), st.text(max_size=10), st.lists(st.integers(), max_size=3))))

# What an instance answers on its end of the pair.
BEHAVIOURS = st.one_of(
    st.sampled_from(["refuse", "timeout", "silence", "close"]),
    st.builds(lambda status, body: b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n" % (status, len(body)) + body,
              st.integers(100, 999), st.binary(max_size=20_000)),
    st.builds(lambda body: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body, st.binary(max_size=200)),
    st.binary(max_size=300))
SETTINGS = st.builds(
    lambda per_instance, concurrency, max_body, tls, strip, stage, headers: Settings(
        "ns", "svc", per_instance_timeout_ms=per_instance, concurrency=concurrency, total_timeout_ms=1_000,
        max_body_bytes=max_body, tls_server_name=tls, strip_stage=strip, stage=stage, forward_headers=headers),
    st.integers(10, 40), st.integers(1, 16), st.sampled_from([0, 10, 4096, 262_144]),
    st.sampled_from(["", "", "", "admin.internal"]), st.booleans(), st.sampled_from(["", "$default", "prod"]),
    st.sampled_from([None, frozenset(), frozenset({"content-type", "cookie", "x-a"})]))


class Recorder:
    """The network, replaced: every connection the handler opens is recorded and answered from `behaviours`."""

    def __init__(self, behaviours: list) -> None:
        self.behaviours = behaviours
        self.asked: list[tuple[str, int]] = []
        self.lock = threading.Lock()
        self.peers: list[socket.socket] = []

    def __call__(self, address, timeout):
        with self.lock:
            behaviour = self.behaviours[len(self.asked) % len(self.behaviours)]
            self.asked.append(address)
        if behaviour == "refuse":
            raise ConnectionRefusedError(111, "Connection refused")
        if behaviour == "timeout":
            raise socket.timeout("timed out")
        mine, theirs = socket.socketpair()
        self.peers.append(theirs)
        if behaviour == "close":
            theirs.close()
        elif isinstance(behaviour, bytes):
            theirs.sendall(behaviour)  # under the pair's buffer: never blocks
            theirs.shutdown(socket.SHUT_WR)
        return mine  # "silence": the peer stays open and says nothing

    def close(self) -> None:
        for peer in self.peers:
            peer.close()


def _discover(answer):
    def discover():
        if answer == "raise":
            raise ConnectionError("no route to Cloud Map")
        if answer == "raise-odd":
            raise Boom()
        return {"none": None, "int": 5, "str": "abc"}.get(answer, answer) if isinstance(answer, str) else answer
    return discover


def _port(value) -> int | None:
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 5 and 1 <= int(value) <= 65535:
        return int(value)
    return None


def _ipv4(value) -> str | None:
    octets = value.split(".") if isinstance(value, str) else []
    if len(octets) == 4 and all(o.isascii() and o.isdigit() and str(int(o)) == o and int(o) < 256 for o in octets):
        return value
    return None


def _special(ip: str) -> str:
    first, second = (int(o) for o in ip.split(".")[:2])
    return {0: "this-network", 127: "loopback"}.get(first) or (
        "link-local" if (first, second) == (169, 254) else "multicast" if 224 <= first < 240 else
        "reserved" if first >= 240 else "")


def _called(instances, allowed) -> set[tuple[str, int]]:
    """The addresses the instances may be called at, parsed here independently of the handler's parser."""
    out = set()
    for instance in instances if isinstance(instances, list) else []:
        attributes = instance.get("Attributes") if isinstance(instance, dict) else None
        if not isinstance(attributes, dict):
            continue
        ip, port = _ipv4(attributes.get("AWS_INSTANCE_IPV4")), _port(attributes.get("AWS_INSTANCE_PORT"))
        if ip is not None and port is not None and (not _special(ip) or _special(ip) in allowed):
            out.add((ip, port))
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(event=EVENTS, answer=ANSWERS, behaviours=st.lists(BEHAVIOURS, min_size=1, max_size=5), config=SETTINGS,
       allowed=st.sampled_from([cloudmap.DEPLOYED, cloudmap.LOCAL]))
def test_run_never_raises_never_calls_outside_the_allowed_classes_and_fits_lambdas_limit(event, answer, behaviours,
                                                                                       config, allowed):
    recorder = Recorder(behaviours)
    try:
        response = fanout.run(event, _discover(answer), config, allowed=allowed, connect=recorder)
    finally:
        recorder.close()
    assert set(recorder.asked) <= _called(answer, allowed)
    assert response["statusCode"] in (200, 207, 400, 502)
    assert len(json.dumps(response)) <= fanout.RESPONSE_BUDGET < fanout.LAMBDA_RESPONSE_LIMIT
    body = json.loads(response["body"])
    assert body["matched"] == len(body["instances"]) or body["instances"] == []
    assert [t.name for t in threading.enumerate() if t.name == "fanout"] == []


def test_a_thousand_instances_with_the_longest_ids_and_errors_still_fit():
    """The size bound by construction: 1,000 instances (DiscoverInstances' most), each with an id far over
    RegisterInstance's 64 characters, escaped on every character, and an unreachable address's error text."""
    instances = [{"InstanceId": f"{i:04d}" + "\u2028\x01" * 5_000,
                  "Attributes": {"AWS_INSTANCE_IPV4": "\x01\u2028" * 500, "AWS_INSTANCE_PORT": "80"}}
                 for i in range(1_500)]
    response = fanout.run({}, lambda: instances, Settings("ns", "svc"))
    body = json.loads(response["body"])
    assert len(json.dumps(response)) <= fanout.RESPONSE_BUDGET and body["matched"] == fanout.MAX_RESULTS
