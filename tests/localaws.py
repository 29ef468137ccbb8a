"""The local AWS for the tests: the product's own (compiler.localaws: moto's server on 127.0.0.1, strict where
AWS is, and the network fixtures an example needs), plus a stack driven by real Terraform and what its routes reach.

Only loopback: the server binds 127.0.0.1 and every client here is pointed at it explicitly.
"""

from __future__ import annotations

import json
import pathlib
from urllib.parse import parse_qsl, urlsplit

from compiler.localaws import server
from compiler.localaws.account import DEFAULT_REGION, LocalAccount  # noqa: F401 (re-exported for the tests)

from .synthesis import model_of
from .terraform import Terraform


class MotoServer(server.MotoServer):
    """The product's local AWS, as users run it (`local up`), refused to tests that are not marked localaws: the
    tiers (tests/conftest.py) pick tests by that marker, which the `moto` fixture sets."""

    def __init__(self, log: pathlib.Path) -> None:
        from . import conftest  # under pytest: the test being set up or run, when it is not marked localaws
        if conftest.UNMARKED_TEST is not None:
            raise RuntimeError(f"{conftest.UNMARKED_TEST} starts a local AWS but is not marked localaws: use the "
                               "`moto` fixture (tests/conftest.py), which marks the tests that use it")
        super().__init__(log)


class LocalStack:
    """One example synthesized in local mode into its own directory, driven by real Terraform."""

    def __init__(self, root: pathlib.Path, moto: MotoServer, env: dict[str, str], region: str) -> None:
        self.root = root
        self.moto = moto
        self.region = region  # moto keeps state per region: clients must ask where the provider applied
        self.terraform = Terraform(root / "cdktf.out" / "stacks" / "routes", env)

    def client(self, service: str):
        return self.moto.client(service, self.region)

    def api_id(self) -> str:
        return self.terraform.outputs()["api_endpoint"].split("//")[1].split(".")[0]

    def synth(self, text: str) -> None:
        from compiler.terraform.synth import synthesize
        # The direct engine: the same bytes as CDKTF (tests/test_engine_parity.py), without starting jsii.
        synthesize(model_of(text), str(self.root / "cdktf.out"), "routes", local_endpoint=self.moto.url,
                   engine="direct")


def applied(root: pathlib.Path, moto: MotoServer, env: dict[str, str], source: str) -> tuple[LocalStack, str]:
    """The example `source` (a path under the checkout) synthesized in local mode in root, its account made, then
    `terraform init` and `apply`; returns the stack and the localised text."""
    from .conftest import ROOT
    root.mkdir(parents=True, exist_ok=True)
    text = (ROOT / source).read_text()
    region = model_of(text).region or DEFAULT_REGION
    stack = LocalStack(root, moto, env, region)
    stack.account = LocalAccount.create(moto, region, text)
    stack.localise = stack.account.localise
    text = stack.localise(text)
    stack.synth(text)
    stack.terraform.init()
    stack.terraform.apply()
    return stack, text


def reach(stack: LocalStack, health: str = "HEALTHY") -> dict[str, set[str]]:
    """route key -> the instance ids DiscoverInstances returns for the filter in that route's integration URI."""
    agw, sd = stack.client("apigatewayv2"), stack.client("servicediscovery")
    api_id = stack.api_id()
    out = {}
    for route in agw.get_routes(ApiId=api_id)["Items"]:
        integration = agw.get_integration(ApiId=api_id, IntegrationId=route["Target"].split("/", 1)[1])
        if integration["IntegrationType"] == "AWS_PROXY":  # a fan-out function: what it asks DiscoverInstances
            function = integration["IntegrationUri"].split("/functions/", 1)[1].removesuffix("/invocations")
            env = stack.client("lambda").get_function_configuration(FunctionName=function)["Environment"]["Variables"]
            namespace = env["CLOUD_MAP_NAMESPACE"]  # the function asks by id, as it does (fanout.with_http_name)
            if env.get("CLOUD_MAP_NAMESPACE_ID"):
                namespace = sd.get_namespace(Id=env["CLOUD_MAP_NAMESPACE_ID"])["Namespace"]["Properties"][
                    "HttpProperties"]["HttpName"]
            found = sd.discover_instances(NamespaceName=namespace, ServiceName=env["CLOUD_MAP_SERVICE"],
                                          QueryParameters=json.loads(env["FILTER"]),
                                          HealthStatus="ALL" if env["INCLUDE_UNHEALTHY"] == "true" else health)
            out[route["RouteKey"]] = {i["InstanceId"] for i in found["Instances"]}
            continue
        uri = urlsplit(integration["IntegrationUri"])
        service_id = uri.path.rsplit("/", 1)[1]
        service = sd.get_service(Id=service_id)["Service"]
        namespace = sd.get_namespace(Id=service["NamespaceId"])["Namespace"]
        # DiscoverInstances takes the namespace's HTTP name (the namespace name unless set otherwise).
        http_name = namespace.get("Properties", {}).get("HttpProperties", {}).get("HttpName") or namespace["Name"]
        found = sd.discover_instances(NamespaceName=http_name, ServiceName=service["Name"], QueryParameters=dict(parse_qsl(uri.query)),
                                      HealthStatus=health)
        out[route["RouteKey"]] = {i["InstanceId"] for i in found["Instances"]}
    return out
