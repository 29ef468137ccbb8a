"""What Cloud Map returns, read once (compiler/handlers/cloudmap.py): the fan-out function and serve/status agree
on which instances have a callable address, and differ only in that serve also calls loopback."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler.handlers import cloudmap, fanout
from compiler.live.discovery import Found, found

VALID = [("10.0.1.5", "8080"), ("192.168.255.255", "1"), ("172.31.0.1", "65535"), ("100.64.0.1", "00080"),
         ("1.2.3.4", "443")]
MALFORMED = [("10.0.1.5", "²"), ("10.0.1.5", "٨٠"), ("10.0.1.5", " 80"), ("10.0.1.5", "+80"), ("10.0.1.5", "8_0"),
             ("10.0.1.5", "80 "), ("10.0.1.5", "80\n"), ("10.0.1.5", "0"), ("10.0.1.5", "65536"), ("10.0.1.5", ""),
             ("10.0.1.5", "123456"), ("localhost", "80"), ("010.0.1.5", "80"), ("10.0.1.05", "80"),
             ("10.0.1", "80"), ("10.0.1.5.6", "80"), ("10.0.1.256", "80"), (" 10.0.1.5", "80"), ("10.0.1.5\n", "80"),
             ("127.0.0.1\r\nX: y", "80"), ("８.８.８.８", "80"), ("::1", "80"), ("", "80")]
SPECIAL = {"127.0.0.1": "loopback", "127.255.0.9": "loopback", "0.0.0.0": "this-network", "0.1.2.3": "this-network",
           "169.254.169.254": "link-local", "169.254.170.2": "link-local", "224.0.0.251": "multicast",
           "239.255.255.250": "multicast", "240.0.0.1": "reserved", "255.255.255.255": "reserved"}


def both(ip: str, port: str, allowed=cloudmap.LOCAL):
    """(the fan-out function's reading, serve's reading) of one instance."""
    attributes = {cloudmap.IPV4: ip, cloudmap.PORT: port}
    handler, _ = fanout.address_of({"InstanceId": "i", "Attributes": attributes}, allowed)
    return (handler.ipv4, handler.port) if handler else None, found({"InstanceId": "i", "Attributes": attributes}).address


@pytest.mark.parametrize("ip, port", VALID)
def test_well_formed_ordinary_addresses_are_called_by_both(ip, port):
    assert both(ip, port) == ((ip, int(port)), (ip, int(port)))
    assert both(ip, port, cloudmap.DEPLOYED)[0] == (ip, int(port))


@pytest.mark.parametrize("ip, port", MALFORMED)
def test_malformed_addresses_are_called_by_neither(ip, port):
    assert both(ip, port) == (None, None)
    assert found({"InstanceId": "i", "Attributes": {cloudmap.IPV4: ip, cloudmap.PORT: port}}).unreachable


@pytest.mark.parametrize("ip, kind", SPECIAL.items())
def test_special_addresses_are_never_called_by_the_function_and_serve_calls_only_loopback(ip, kind):
    assert cloudmap.address_class(ip) == kind
    deployed, _ = both(ip, "80", cloudmap.DEPLOYED)
    local, served = both(ip, "80")
    assert deployed is None
    assert local == served == ((ip, 80) if kind == "loopback" else None)
    _, why = cloudmap.instance_address({cloudmap.IPV4: ip, cloudmap.PORT: "80"})
    assert why == f"AWS_INSTANCE_IPV4 {ip} is a {kind} address, never called"


@given(st.one_of(st.text(max_size=20), st.integers(), st.none()), st.one_of(st.text(max_size=8), st.integers()))
def test_the_two_readers_agree_on_anything(ip, port):
    attributes = {cloudmap.IPV4: ip, cloudmap.PORT: port}
    handler, why = cloudmap.instance_address(attributes, cloudmap.LOCAL)
    served = found({"InstanceId": "x", "Attributes": attributes})
    # serve keeps string attributes only (DiscoverInstances' are strings); the function reads whatever came
    assert (handler is None) == (served.address is None) or not (isinstance(ip, str) and isinstance(port, str))
    assert (handler is None) == bool(why)


def test_odd_discover_instances_entries_become_empty_instances():
    assert found(None) == Found("", (), "UNKNOWN")
    assert found({"InstanceId": 7, "Attributes": {"a": 1, 2: "b", "c": "d"}, "HealthStatus": None}) == Found(
        "", (("c", "d"),), "UNKNOWN")


def test_docstring_examples():
    assert doctest.testmod(cloudmap).failed == 0
