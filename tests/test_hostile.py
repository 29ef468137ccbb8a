"""Hostile strings reach AWS exactly as written.

Terraform evaluates `${...}` and `%{...}` inside every string of a .tf.json file, so a routes.yaml in a pull
request could read files on the CI runner (`${file("/etc/hostname")}`) when CI plans it. The plan escapes every
literal once (`plan.tf_literal`); these tests prove the escape is right by applying such strings with real
Terraform to the local AWS and reading each value back from its API, byte for byte.
"""

from __future__ import annotations

import json

import pytest

from compiler.terraform.plan import build, terraform_value, tf_literal

from .localaws import DEFAULT_REGION, LocalAccount, LocalStack
from .synthesis import model_of, resources, synth_json

# Every kind of template sequence Terraform knows, escaped forms, and the characters around them.
NASTY = [
    '${file("/etc/hostname")}',
    "%{ if true }yes%{ endif }",
    "$${already} %%{escaped}",
    "$$${triple} %%%{triple}",
    "${",
    "%{",
    "$ % { } \\ \" é",
    "a${b}c%{d}e",
    "trailing $",
    "trailing %",
]

SCOPE = "%{x}${y}$${z}"  # scopes are OAuth tokens: no blanks, quotes or backslashes

# One value per free-text field, so a value read back names the field that broke.
HOSTILE = f"""version: 1
region: {DEFAULT_REGION}
api:
  name: hostile-api
  description: {json.dumps(" ".join(NASTY))}
  tags: {{team: platform}}
  default_authorization: tok
  overrides:
    stage:
      description: {json.dumps(NASTY[4] + " " + NASTY[5])}
      stage_variables: {{v: {json.dumps(NASTY[0])}}}
vpc_link:
  subnet_ids: [subnet-0a1b2c3d4e5f60718]
  security_group_ids: [sg-0c3d4e5f607182930]
namespace: {{type: http, name: hostile-ns, description: {json.dumps(NASTY[8])}}}
services:
  app:
    description: {json.dumps(NASTY[9])}
    health_check: custom
    instances:
      - id: n1
        ipv4: 10.0.1.10
        port: 80
        attributes: {{{json.dumps("k" + NASTY[7])}: {json.dumps(NASTY[0])}, mode: {json.dumps(NASTY[1])}}}
authorizers:
  tok:
    type: jwt
    issuer: {json.dumps("https://issuer.example.com/" + NASTY[7])}
    audiences: [{json.dumps(NASTY[0])}, {json.dumps(NASTY[2])}, {json.dumps(NASTY[3])}]
routes:
  - route: GET /
    service: app
    scopes: [{json.dumps(SCOPE)}]
    overrides:
      route: {{operation_name: {json.dumps(NASTY[7])}}}
      integration:
        description: {json.dumps(NASTY[1])}
        request_parameters: {{"append:header.x-nasty": {json.dumps(NASTY[6])}}}
  - route: GET /picked
    service: app
    filter: {{{json.dumps("k" + NASTY[7])}: {json.dumps(NASTY[0])}}}
"""


@pytest.mark.parametrize("text", NASTY)
def test_tf_literal_escapes_exactly_the_two_template_introducers(text):
    escaped = tf_literal(text)
    assert "${" not in escaped.replace("$${", "") and "%{" not in escaped.replace("%%{", "")
    # Terraform's unescape: each `$${` is `${` and each `%%{` is `%{`, read left to right.
    assert escaped.replace("$${", "${").replace("%%{", "%{") == text


def test_every_user_string_is_written_as_a_terraform_literal():
    model = model_of(HOSTILE)
    doc = resources(synth_json(HOSTILE))
    api = doc["aws_apigatewayv2_api.api"]
    assert api["description"] == tf_literal(model.api.description)
    assert doc["aws_apigatewayv2_authorizer.tok"]["jwt_configuration"]["audience"][1] == "$$${already} %%%{escaped}"
    instance = doc["aws_service_discovery_instance.app__n1"]["attributes"]
    assert instance[tf_literal("k" + NASTY[7])] == tf_literal(NASTY[0])
    stage = doc["aws_apigatewayv2_stage.stage"]  # overrides: the same escaping, arguments and map values alike
    assert stage["description"] == tf_literal(NASTY[4] + " " + NASTY[5])
    assert stage["stage_variables"] == {"v": tf_literal(NASTY[0])}
    root = doc["aws_apigatewayv2_integration.get_root"]
    assert (root["description"], root["request_parameters"]) == (tf_literal(NASTY[1]),
                                                                 {"append:header.x-nasty": tf_literal(NASTY[6])})
    # The plan's own conversion and what the engine wrote agree on every argument.
    for block in build(model).blocks:
        if block.type.startswith("aws_"):
            written = doc[block.address]
            for key, value in block.args.items():
                if isinstance(value, str):
                    assert written[key] == terraform_value(value), (block.address, key)


# The same document with a fan-out route and an allow-list authorizer, in two environments of one account whose
# overrides carry hostile text too: each stack writes every string literally, and no two give AWS one name where AWS
# keeps names unique (tests/aws_scopes.py).
HOSTILE_ENVIRONMENTS = HOSTILE.replace(
    "  security_group_ids: [sg-0c3d4e5f607182930]\n",
    "  security_group_ids: [sg-0c3d4e5f607182930]\n  vpc_id: vpc-0d4e5f60718293a4b\n  cloud_map_access: nat\n").replace(
    "authorizers:\n", "authorizers:\n  office: {type: allowlist, cidrs: [203.0.113.0/24]}\n") + f"""  - route: POST /reload
    service: app
    authorization: office
    filter: {{{json.dumps("k" + NASTY[7])}: {json.dumps(NASTY[0])}}}
    fan_out: {{forward_headers: [x-trace]}}
environments:
  dev:
    api: {{description: {json.dumps(NASTY[3])}}}
  staging:
    api: {{description: {json.dumps(NASTY[4] + NASTY[5])}}}
    namespace: {{name: hostile-ns-staging, description: {json.dumps(NASTY[6])}}}
"""


def test_environments_write_every_string_literally_and_share_no_name():
    from compiler.language import compile_stacks_text
    from compiler.terraform.direct import document

    from .aws_scopes import ambiguous_namespaces, shared_names
    stacks, diagnostics = compile_stacks_text(HOSTILE_ENVIRONMENTS)
    assert stacks is not None and [name for name, _ in stacks] == ["dev", "staging"], diagnostics
    documents = {name: document(build(model, stack=name), name) for name, model in stacks}
    for (name, model), expected in zip(stacks, (NASTY[3], NASTY[4] + NASTY[5])):
        api = documents[name]["resource"]["aws_apigatewayv2_api"]["api"]
        assert model.api.description == expected and api["description"] == tf_literal(expected)
        function = documents[name]["resource"]["aws_lambda_function"]["fanout_post_reload"]
        assert function["function_name"] == f"hostile-api-{name}-fanout-post_reload"
        assert function["environment"]["variables"]["FILTER"] == tf_literal(
            json.dumps({"k" + NASTY[7]: NASTY[0]}, separators=(",", ":")))
    namespaces = {n: d["resource"]["aws_service_discovery_http_namespace"]["namespace"] for n, d in documents.items()}
    assert namespaces["staging"]["description"] == tf_literal(NASTY[6])
    assert namespaces["dev"]["description"] == tf_literal(NASTY[8])
    assert shared_names(documents) == [] and ambiguous_namespaces(documents) == set()


@pytest.fixture(scope="module")
def applied(tmp_path_factory, moto, tf_env):
    root = tmp_path_factory.mktemp("hostile")
    stack = LocalStack(root, moto, tf_env, DEFAULT_REGION)
    text = LocalAccount.create(moto, DEFAULT_REGION, HOSTILE).localise(HOSTILE)
    stack.synth(text)
    stack.terraform.init()
    stack.terraform.apply()
    yield stack, model_of(text)
    stack.terraform.destroy()


def test_hostile_strings_read_back_byte_for_byte_from_the_local_aws(applied):
    stack, model = applied
    agw, sd = stack.client("apigatewayv2"), stack.client("servicediscovery")
    api = agw.get_api(ApiId=stack.api_id())
    assert api["Description"] == model.api.description
    namespace = sd.list_namespaces()["Namespaces"][0]
    assert sd.get_namespace(Id=namespace["Id"])["Namespace"]["Description"] == model.namespace.description
    service_id = stack.terraform.outputs()["service_app_id"]
    assert sd.get_service(Id=service_id)["Service"]["Description"] == model.service("app").description
    attributes = sd.get_instance(ServiceId=service_id, InstanceId="n1")["Instance"]["Attributes"]
    assert {k: v for k, v in attributes.items() if not k.startswith("AWS_")} == \
        dict(model.service("app").instances[0].attributes)
    routes = {r["RouteKey"]: r for r in agw.get_routes(ApiId=api["ApiId"])["Items"]}
    assert routes["GET /"]["AuthorizationScopes"] == [SCOPE]
    authorizer = agw.get_authorizer(ApiId=api["ApiId"], AuthorizerId=routes["GET /"]["AuthorizerId"])
    assert authorizer["JwtConfiguration"]["Issuer"] == model.authorizers[0].issuer
    # JWT audiences are a set in the provider and the API: compare them as sets.
    assert sorted(authorizer["JwtConfiguration"]["Audience"]) == sorted(model.authorizers[0].audiences)
    assert routes["GET /"]["OperationName"] == NASTY[7]  # overrides, read back as written
    stage = agw.get_stage(ApiId=api["ApiId"], StageName="$default")
    assert (stage["Description"], stage["StageVariables"]) == (NASTY[4] + " " + NASTY[5], {"v": NASTY[0]})
    root = agw.get_integration(ApiId=api["ApiId"], IntegrationId=routes["GET /"]["Target"].split("/")[1])
    assert (root["Description"], root["RequestParameters"]) == (NASTY[1], {"append:header.x-nasty": NASTY[6]})
    picked = agw.get_integration(ApiId=api["ApiId"], IntegrationId=routes["GET /picked"]["Target"].split("/")[1])
    route = next(r for r in model.routes if r.key.text == "GET /picked")
    assert picked["IntegrationUri"].endswith("?" + route.filter.query())
    # and DiscoverInstances, given that filter decoded, finds the instance: the filter means what it says
    found = sd.discover_instances(NamespaceName="hostile-ns", ServiceName="app",
                                  QueryParameters=dict(route.filter.pairs))["Instances"]
    assert [i["InstanceId"] for i in found] == ["n1"]
