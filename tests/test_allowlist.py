"""The source-address allow-list authorizer (compiler/handlers/allowlist.py): payload 2.0 events in,
{"isAuthorized": bool} out. Admits only addresses inside ALLOWED_CIDRS; everything else, including a missing or
malformed address and a malformed list, is denied."""

from __future__ import annotations

import json

import pytest

from compiler.handlers import allowlist
from compiler.language.model import ALLOWLIST_IDENTITY, Authorization, Authorizer
from compiler.live.gateway import authorization

CIDRS = "10.0.0.0/8, 203.0.113.7/32, 2001:db8::/32, 198.51.100.0/24"


def event(source_ip=None, omit: str = "") -> dict:
    """A payload 2.0 authorizer event, optionally without sourceIp, requestContext.http or requestContext."""
    http = {"method": "GET", "path": "/admin", "sourceIp": source_ip}
    if omit == "sourceIp":
        del http["sourceIp"]
    context = {"http": http, "stage": "$default"} if omit != "http" else {"stage": "$default"}
    out = {"version": "2.0", "type": "REQUEST",
           "routeArn": "arn:aws:execute-api:us-east-1:123456789012:a/$default/GET/admin",
           "identitySource": [source_ip], "rawPath": "/admin", "headers": {}}
    if omit != "requestContext":
        out["requestContext"] = context
    return out


@pytest.fixture
def cidrs(monkeypatch):
    monkeypatch.setenv("ALLOWED_CIDRS", CIDRS)


@pytest.mark.parametrize("address", ["10.0.0.1", "10.255.255.255", "203.0.113.7", "198.51.100.200",
                                     "2001:db8::1", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:DB8::A",
                                     "::ffff:10.1.2.3", "::ffff:203.0.113.7", "::ffff:c633:64c8"])
def test_addresses_inside_the_list_are_admitted(cidrs, address):
    assert allowlist.handler(event(address), None) == {"isAuthorized": True}


@pytest.mark.parametrize("address", ["11.0.0.1", "9.255.255.255", "203.0.113.8", "198.51.101.1", "127.0.0.1",
                                     "2001:db9::1", "2001:db7:ffff::1", "::1", "fe80::1", "::ffff:11.0.0.1",
                                     "::10.0.0.1",  # IPv4-compatible (deprecated), not mapped: not 10.0.0.1
                                     "64:ff9b::a00:1"])  # NAT64 of 10.0.0.1: another address
def test_addresses_outside_the_list_are_denied(cidrs, address, capsys):
    assert allowlist.handler(event(address), None) == {"isAuthorized": False}
    line = json.loads(capsys.readouterr().out)
    assert line == {"allowlist": "deny", "sourceIp": address, "reason": line["reason"]}
    assert "outside ALLOWED_CIDRS" in line["reason"]


@pytest.mark.parametrize("address", ["", " 10.0.0.1", "10.0.0.1 ", "10.0.0.1, 10.0.0.2", "10.0.0", "10.0.0.256",
                                     "010.0.0.1", "10.0.0.1/32", "10.0.0.0/8", "fe80::1%eth0", "2001:db8::1%1",
                                     "2001:db8:::1", "example.com", "0x0a000001", "unknown", None, 167772161,
                                     ["10.0.0.1"], {"ip": "10.0.0.1"}])
def test_malformed_addresses_are_denied(cidrs, address):
    assert allowlist.handler(event(address), None) == {"isAuthorized": False}


@pytest.mark.parametrize("omit", ["sourceIp", "http", "requestContext"])
def test_a_missing_address_is_denied(cidrs, omit):
    assert allowlist.handler(event("10.0.0.1", omit=omit), None) == {"isAuthorized": False}


@pytest.mark.parametrize("bad_event", [None, {}, [], "10.0.0.1", {"requestContext": "10.0.0.1"},
                                       {"requestContext": {"http": "10.0.0.1"}}, {"requestContext": {"http": None}}])
def test_malformed_events_are_denied_without_raising(cidrs, bad_event):
    assert allowlist.handler(bad_event, None) == {"isAuthorized": False}


def test_the_identity_source_header_cannot_stand_in_for_the_source_address(cidrs):
    forged = event("192.0.2.1")
    forged["identitySource"] = ["10.0.0.1"]
    forged["headers"] = {"x-forwarded-for": "10.0.0.1"}
    assert allowlist.handler(forged, None) == {"isAuthorized": False}


@pytest.mark.parametrize("value", ["", " , ", "10.0.0.1/8", "10.0.0.0/33", "not-a-network", "10.0.0.0/8;192.0.2.0/24",
                                   "2001:db8::1/32"])
def test_an_empty_or_malformed_list_admits_nobody(monkeypatch, capsys, value):
    monkeypatch.setenv("ALLOWED_CIDRS", value)
    assert allowlist.handler(event("10.0.0.1"), None) == {"isAuthorized": False}
    assert "ALLOWED_CIDRS" in json.loads(capsys.readouterr().out)["reason"]


def test_an_unset_list_admits_nobody(monkeypatch):
    monkeypatch.delenv("ALLOWED_CIDRS", raising=False)
    assert allowlist.handler(event("10.0.0.1"), None) == {"isAuthorized": False}


def test_mapped_ipv6_networks_and_single_hosts():
    assert allowlist.decide(event("::ffff:10.0.0.1"), "::ffff:0:0/96")[0]  # a v6 network of mapped addresses
    assert allowlist.decide(event("10.0.0.1"), "10.0.0.1")[0]  # a bare address is one host
    assert not allowlist.decide(event("10.0.0.2"), "10.0.0.1")[0]
    assert allowlist.decide(event("2001:db8::5"), "2001:db8::5")[0]
    assert allowlist.decide(event("192.0.2.9"), "0.0.0.0/0")[0] and not allowlist.decide(event("::1"), "0.0.0.0/0")[0]


def test_parse_cidrs_names_the_bad_entry():
    with pytest.raises(ValueError, match="'10.0.0.1/8'"):
        allowlist.parse_cidrs("192.0.2.0/24, 10.0.0.1/8")
    assert allowlist.IDENTITY_SOURCE == "$context.identity.sourceIp"


# -- serve's authorization decision (compiler/live/gateway/authorization.py): the same handler, on the peer ---

OFFICE = Authorizer("office", "allowlist", ALLOWLIST_IDENTITY, cidrs=("10.0.0.0/8", "2001:db8::/32"))
TOKEN = {"authorization": "Bearer x"}


@pytest.mark.parametrize("peer, admitted", [("10.1.2.3", True), ("2001:db8::9", True), ("::ffff:10.0.0.1", True),
                                            ("127.0.0.1", False), ("203.0.113.9", False), ("", False)])
@pytest.mark.parametrize("headers", [{}, TOKEN, {"x-forwarded-for": "10.1.2.3"}])
def test_serve_runs_the_allow_list_on_the_source_address_whatever_the_headers(peer, admitted, headers):
    decision = authorization.authorize(Authorization("allowlist", "office"), OFFICE,
                                       authorization.Caller(headers, {}, peer))
    assert decision.admitted == admitted
    assert decision.status == (0 if admitted else 403)


def test_serve_checks_jwt_lambda_and_iam_for_presence_only():
    jwt = Authorizer("admins", "jwt", "$request.header.Authorization", issuer="https://a", audiences=("x",))
    custom = Authorizer("custom", "lambda", "$request.querystring.token", function_arn="arn:aws:lambda:x")
    caller = authorization.caller_of
    cases = [(Authorization("jwt", "admins"), jwt, caller([("Authorization", "Bearer x")], [], "203.0.113.9"), 0),
             (Authorization("jwt", "admins"), jwt, caller([("Authorization", "")], [], ""), 401),
             (Authorization("lambda", "custom"), custom, caller([], [("token", "t")], ""), 0),
             (Authorization("lambda", "custom"), custom, caller([("token", "t")], [], ""), 401),
             (Authorization("iam"), None, caller([("AUTHORIZATION", "AWS4-HMAC-SHA256 ...")], [], ""), 0),
             (Authorization("iam"), None, caller([], [("X-Amz-Signature", "abc")], ""), 0),
             (Authorization("iam"), None, caller([], [], ""), 401),
             (Authorization("none"), None, caller([], [], ""), 0),
             (Authorization("jwt", "gone"), None, caller([("Authorization", "x")], [], ""), 500)]
    for authz, authorizer, who, status in cases:
        assert authorization.authorize(authz, authorizer, who).status == status, (authz, who)
    assert [a.kind for a in (Authorization("jwt", "a"), Authorization("lambda", "b"), Authorization("iam"))
            if authorization.presence_only(a)] == ["jwt", "lambda", "iam"]
    assert not authorization.presence_only(Authorization("allowlist", "office"))
