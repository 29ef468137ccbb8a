"""What `import` writes reads back as exactly the string it means, with a YAML 1.1 reader and a YAML 1.2 reader.

PyYAML is the YAML 1.1 reader (what this tool reads routes.yaml with); ruamel.yaml's pure-Python safe loader,
which defaults to YAML 1.2, is the other. A value any of them would type (a number in any notation, a boolean of
either version, null, a timestamp, a merge key) or read differently (a comment, an indicator, a line break, a
space at an end) must be quoted, in block and in flow context alike.
"""

from __future__ import annotations

import io

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from compiler.adopt.yamltext import Document, number, scalar

YAML_1_2 = YAML(typ="safe", pure=True)

# What the issue lists, and the 1.1 and 1.2 core schema's other forms of numbers, booleans, null and timestamps.
TYPED = ["1e3", "1E3", "1e+3", "0x1F", "0o17", "017", "0b101", ".5", "+1", "-1", "1_000", "1_000.5", "190:20:30",
         "190:20:30.15", ".inf", "-.inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN", "yes", "no", "on", "off", "y", "n",
         "Y", "N", "Yes", "NO", "On", "OFF", "True", "true", "TRUE", "False", "false", "~", "null", "Null", "NULL", "",
         "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "<<", "=", "10.0.1.10", "1.",
         "0.", "0", "12", "1:20"]
AWKWARD = [" leading", "trailing ", "a #b", "#c", "a: b", "a:", ":a", "- x", "? x", "[x]", "{x}", "x, y", "&a", "*a",
           "!x", "|", ">", "'q'", '"q"', "%x", "@x", "`x", "a\tb", "a\nb", "a\rb", "a\u2028b", "a\u0085b",
           "\ufeffx", "a\\b", "é", "\U0001F600", "a\x00b", "a\x7fb", "\ud800", "GET /{proxy+}", "$request.path",
           "arn:aws:lambda:eu-west-1:123456789012:function:f", "https://issuer.example.com/pool"]


def both(text: str) -> list:
    """The document read with PyYAML (1.1) and with ruamel.yaml (1.2)."""
    return [yaml.safe_load(text), YAML_1_2.load(io.StringIO(text))]


def document(value: str) -> str:
    """The value in every place import writes a string: a block value, a flow mapping's key and value, a flow
    list, a list item's key and value."""
    out = Document()
    out.key(0, "block", value)
    out.key(0, "mapping", {value: value, "other": value})
    out.key(0, "list", [value, "x", value])
    out.key(0, "items", None)
    out.item(2, "key", value)
    out.entry(2, {"id": value})
    return out.text()


def expected(value: str) -> dict:
    return {"block": value, "mapping": {value: value, "other": value}, "list": [value, "x", value],
            "items": [{"key": value}, {"id": value}]}


@pytest.mark.parametrize("value", TYPED + AWKWARD)
def test_strings_any_reader_would_type_or_misread_are_quoted_and_read_back(value):
    written = document(value)
    assert both(written) == [expected(value)] * 2, written


@given(st.text(alphabet=st.one_of(st.characters(codec="utf-8", exclude_categories=("Cs",)),
                                  st.sampled_from(list("0123456789.+-_:eExXoObB#&*!|>'\"%@`{}[], \t\n~<=yYnN"))),
               max_size=24)
       | st.sampled_from(TYPED + AWKWARD).flatmap(lambda s: st.tuples(st.just(s), st.text(max_size=3)).map(
           lambda p: p[0] + p[1])))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_generated_string_reads_back_as_itself_with_yaml_1_1_and_1_2(value):
    written = document(value)
    assert both(written) == [expected(value)] * 2, written


@pytest.mark.parametrize("value", TYPED[:20])
def test_plain_is_kept_only_for_what_cannot_be_typed(value):
    assert scalar(value).startswith('"') and scalar(value, flow=True).startswith('"')


@pytest.mark.parametrize("value", ["GET /leader", "$default", "raft-admin", "vpc-0d4e5f60718293a4b", "node-1",
                                   "arn:aws:kms:eu-west-1:123456789012:key/x"])
def test_ordinary_names_stay_readable(value):
    assert scalar(value) == value


@given(st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=False, allow_infinity=False)))
def test_numbers_read_back_as_the_same_number_in_both_versions(value):
    text = f"v: {number(value)}\n"
    assert [d["v"] for d in both(text)] == [value, value]
    assert all(type(d["v"]) is type(value) for d in both(text))


def test_an_attribute_value_from_aws_is_written_quoted_by_describe():
    """The whole path: an instance attribute `1e3` (a float to YAML 1.2) in what import describes."""
    from compiler.adopt.describe import describe
    from compiler.adopt.read import Setup

    service = {"Id": "srv-1", "Arn": "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-1", "Name": "app",
               "NamespaceId": "ns-1"}
    setup = Setup(
        api={"ApiId": "a1", "Name": "app-api", "ProtocolType": "HTTP"},
        stage={"StageName": "$default", "AutoDeploy": True}, stage_names=["$default"],
        routes=[{"RouteId": "r1", "RouteKey": "GET /", "Target": "integrations/i1"}],
        integrations={"i1": {"IntegrationId": "i1", "IntegrationType": "HTTP_PROXY", "ConnectionType": "VPC_LINK",
                             "ConnectionId": "l1", "IntegrationUri": service["Arn"] + "?weight=1e3"}},
        authorizers={}, vpc_link={"VpcLinkId": "l1", "Name": "app", "SubnetIds": ["subnet-0a1b2c3d"],
                                  "SecurityGroupIds": ["sg-0a1b2c3d"]},
        services={"srv-1": service},
        instances={"srv-1": [{"Id": "i-1", "Attributes": {"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INSTANCE_PORT": "80",
                                                          "weight": "1e3", "on": "yes"}}]},
        namespaces={"ns-1": {"Id": "ns-1", "Arn": "arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-1",
                             "Name": "app", "Type": "HTTP"}})
    text = describe(setup, "us-east-1", "routes", True, "routes.yaml").text
    for data in both(text):
        assert data["services"]["app"]["instances"] == [
            {"id": "i-1", "ipv4": "10.0.0.1", "port": 80, "attributes": {"on": "yes", "weight": "1e3"}}]
        assert data["routes"][0]["filter"] == {"weight": "1e3"}
