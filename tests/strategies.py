"""Hypothesis strategies shared by test files (which never import each other): valid routes.yaml documents.

`documents()` builds documents the language accepts (valid by construction, so a rejection is a failure, not a
skipped example), with hostile text in every free-text field: Terraform's `${`/`%{` sequences, their escaped
forms, quotes, backslashes and non-ASCII. Used by tests/test_properties.py and tests/test_engine_parity.py.
"""

from __future__ import annotations

import string

from hypothesis import strategies as st

TEMPLATE_BITS = ["${", "%{", "}", "$${", "%%{", "$", "%", '${file("/etc/hostname")}', "%{ if true }x%{ endif }",
                 '"', "\\", "é", "→", "'", "#", ": ", "- "]
# What every free-text field accepts: printable text (AWS refuses control characters), hostile bits mixed in.
free_text = st.lists(st.one_of(st.sampled_from(TEMPLATE_BITS),
                               st.text(alphabet=string.ascii_letters + string.digits + " ./-_", min_size=1,
                                       max_size=8)), min_size=1, max_size=6).map("".join).map(str.strip) \
    .filter(bool)
# Cloud Map attribute text: printable ASCII, no leading blank (AttrValue); keys have no blanks (AttrKey).
attribute_value = st.lists(st.sampled_from(["${", "%{", "}", "$${x}", '${file("/etc/passwd")}', "a", "b", "1", "=",
                                            "&", "?", "/", " "]), min_size=1, max_size=6).map("".join).map(str.strip) \
    .filter(bool)
attribute_key = st.lists(st.sampled_from(["${", "%{", "}", "k", "leader", "zone", "=", "&", "-", "."]), min_size=1,
                         max_size=4).map("".join).filter(lambda k: not k.startswith("AWS_"))
scope = st.lists(st.sampled_from(["${", "%{", "}", "$${", "a", "/", ":", "#"]), min_size=1, max_size=8).map("".join)
header = st.from_regex(r"\A[a-z][a-z0-9-]{0,10}\Z")
# A literal path part as CreateRoute accepts it ([a-zA-Z0-9._:-]), never `.` or `..` (clients remove those).
segment = st.text(alphabet=string.ascii_lowercase + string.digits + "-._:", min_size=1, max_size=6) \
    .filter(lambda s: s not in (".", ".."))


@st.composite
def documents(draw) -> dict:
    stage = draw(st.sampled_from(["$default", "v1"]))
    attributes_pool = draw(st.dictionaries(attribute_key, attribute_value, min_size=1, max_size=3))
    instances = [{"id": f"node-{i}", "ipv4": f"10.0.1.{10 + i}", "port": 8080,
                  "attributes": draw(st.dictionaries(st.sampled_from(sorted(attributes_pool)), attribute_value,
                                                     max_size=3))}
                 for i in range(draw(st.integers(0, 3)))]
    paths = draw(st.lists(st.lists(segment, min_size=0, max_size=3).map(lambda s: "/" + "/".join(s)),
                          min_size=1, max_size=5, unique=True))
    routes = []
    for i, path in enumerate(paths):
        route: dict = {"route": f"{draw(st.sampled_from(['GET', 'POST', 'ANY']))} {path}", "service": "app",
                       "id": f"r{i}"}
        if draw(st.booleans()):
            route["filter"] = {k: attributes_pool[k] for k in draw(st.sets(st.sampled_from(sorted(attributes_pool)),
                                                                            min_size=1))}
        if draw(st.booleans()):
            route["scopes"] = draw(st.lists(scope, min_size=1, max_size=2, unique=True))
            route["authorization"] = "tokens"
        if draw(st.booleans()):
            route["tls_server_name"] = "backend.internal"
        if draw(st.booleans()):  # raw Terraform arguments: hostile text in an argument, a map value and a map key
            route["overrides"] = {"integration": {"description": draw(free_text), "request_parameters": {
                "append:header.x-" + draw(header): draw(free_text)}}}
        if draw(st.integers(0, 3)) == 0:  # a fan-out: the filter (hostile text too) travels in its environment
            route["fan_out"] = {"forward_headers": draw(st.lists(header, max_size=3, unique=True)),
                                "include_unhealthy": draw(st.booleans())}
        routes.append(route)
    doc = {
        "version": 1,
        "region": "eu-west-1",
        "api": {"name": draw(st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,20}\Z")),
                "description": draw(free_text), "stage": stage, "default_authorization": "iam",
                "cors": {"allow_origins": ["https://a.example.com"],
                         "allow_headers": draw(st.lists(header, min_size=1, max_size=3, unique=True))}},
        "vpc_link": {"subnet_ids": ["subnet-0a1b2c3d4e5f60718"], "security_group_ids": ["sg-0c3d4e5f607182930"]},
        "namespace": {"type": "http", "name": "props-ns", "description": draw(free_text)},
        "services": {"app": {"description": draw(free_text), "health_check": "custom", "app_attributes": [],
                             **({"instances": instances} if instances else {})}},
        "authorizers": {"tokens": {"type": "jwt", "issuer": "https://issuer.example.com/" + draw(segment),
                                   "audiences": draw(st.lists(free_text, min_size=1, max_size=3, unique=True))}},
        "routes": routes,
    }
    if draw(st.booleans()):
        doc["api"]["overrides"] = {"stage": {"description": draw(free_text),
                                             "stage_variables": {"v" + draw(segment).replace("-", "_").replace(
                                                 ".", "_").replace("~", "_"): draw(free_text)}}}
    if not instances:
        doc["services"]["app"]["registered_by"] = "other"
    if any("fan_out" in r for r in routes):
        doc["vpc_link"].update(vpc_id="vpc-0d4e5f60718293a4b",
                               cloud_map_access=draw(st.sampled_from(["create_endpoint", "existing_endpoint", "nat"])))
    if draw(st.booleans()):  # an allow-list on one route (never with scopes: one authorizer per route)
        doc["authorizers"]["office"] = {"type": "allowlist", "cidrs": ["203.0.113.0/24", "2001:db8::/32"]}
        unscoped = [r for r in routes if "scopes" not in r]
        if unscoped:
            unscoped[0]["authorization"] = "office"
    if draw(st.booleans()):  # mutual TLS: the truststore version is free text
        doc["api"]["custom_domain"] = {
            "domain_name": "api.example.com",
            "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9",
            "mutual_tls": {"truststore_uri": "s3://truststore-bucket/ca.pem", "truststore_version": draw(free_text)}}
        doc["api"]["disable_execute_api_endpoint"] = True
    return doc


ENVIRONMENT_NAMES = ["dev", "staging", "prod", "qa", "Blue", "green2", "Test_env"]  # no '-': see below
REGIONS = ["eu-west-1", "eu-central-1", "us-east-1"]


@st.composite
def environment_documents(draw) -> dict:
    """A valid document with 2-4 environments, each overriding some of what it may (region, account, API name and
    description, namespace, VPC, custom domain, state), hostile text included.

    Valid by construction: what AWS keeps unique and the user writes (a custom domain, an endpoint's VPC) differs
    per environment, as a user must write it. Environment names have no '-', so <api.name>-<environment> never reads
    the same for two environments (tests/test_scopes.py covers the case that does).
    """
    doc = draw(documents())
    names = draw(st.lists(st.sampled_from(ENVIRONMENT_NAMES), min_size=2, max_size=4, unique_by=str.lower))
    environments = {}
    for i, name in enumerate(names):
        environments[name] = _overrides(draw, doc, name, i)
    doc["environments"] = environments
    return doc


def _overrides(draw, doc: dict, name: str, i: int) -> dict:
    overrides: dict = {}
    region = draw(st.sampled_from([None, *REGIONS]))
    if region:
        overrides["region"] = region
    if draw(st.booleans()):
        overrides["provider"] = {"allowed_account_ids": [draw(st.sampled_from(["111111111111", "222222222222"]))]}
    api: dict = {}
    if draw(st.booleans()):
        api["name"] = draw(st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._]{0,20}\Z"))
    if draw(st.booleans()):
        api["description"] = draw(free_text)
    if "custom_domain" in doc["api"]:  # unique in a region across every account: each environment its own
        api["custom_domain"] = {"domain_name": f"{name.lower().replace('_', '-')}.api.example.com", "certificate_arn":
                                f"arn:aws:acm:{region or doc['region']}:123456789012:certificate/"
                                "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"}
    if api:
        overrides["api"] = api
    if draw(st.booleans()):
        overrides["namespace"] = {"name": f"props-ns-{name.lower()}"}
    if doc["vpc_link"].get("cloud_map_access") == "create_endpoint":  # one endpoint with private DNS per VPC
        overrides["vpc_link"] = {"vpc_id": f"vpc-0d4e5f60718293a{i:02x}"}
    if draw(st.booleans()):
        overrides["state"] = f"s3://props-state/{name.lower()}.tfstate"
    return overrides
