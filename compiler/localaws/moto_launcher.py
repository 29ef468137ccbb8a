"""Start moto's server as a local AWS that answers the way AWS does where our resources depend on it.

    python -m compiler.localaws.moto_launcher -p PORT     (what `cloudmap-routes local up` and the tests run)

It listens on 127.0.0.1 only: `-H` is accepted for moto's own command line, and refused for any other address.

moto (5.2) is more lenient than AWS in ways that would hide real failures of an apply, so each gap our stack
can meet is filled in below, each with the AWS behaviour it copies and where that behaviour is recorded:

- Custom domains: real API Gateway reports each domain configuration's `domainNameStatus` (AVAILABLE once
  ready), with the regional domain name and hosted zone clients alias to; the AWS provider waits for AVAILABLE.
  moto echoes the configuration back without them, so `aws_apigatewayv2_domain_name` would wait forever. moto
  also answers an empty `mutualTlsAuthentication` object where AWS omits the field when mutual TLS is off,
  which the provider reads as a perpetual diff.
- Deleting an integration that routes still target, a VPC link that integrations still use, an authorizer that
  routes still use, a Cloud Map service that still has registered instances, or a namespace that still holds
  services: AWS refuses each; moto deletes.
- Creating a Cloud Map service whose name is already taken in its namespace: AWS refuses; moto creates a twin.
- The other way round: a second private DNS namespace in a VPC under another name: AWS accepts; moto refuses.
- UpdateRoute with an empty scope list: AWS clears the route's scopes; moto keeps them.
- Actions the provider uses to change things in place that moto lacks (it answers 500, which the provider
  retries for minutes): API Gateway v2 UpdateStage and DeleteRouteSettings, CloudWatch Logs AssociateKmsKey and
  DisassociateKmsKey.
- Registering an instance id that is already registered: AWS updates the instance; moto adds a twin.
- A namespace's HttpName: AWS returns `HttpProperties.HttpName` for every namespace type, equal to its Name unless
  the Name is reused, when a generated hash is added; DiscoverInstances takes that HttpName. moto gives DNS
  namespaces no HttpName, never adds the hash, and finds DiscoverInstances' namespace by Name.

Nothing else is changed.
"""

from __future__ import annotations

import json
import random
import string
import sys
from datetime import datetime
from urllib.parse import unquote

from moto.apigatewayv2 import models
from moto.apigatewayv2 import urls as agw_urls
from moto.apigatewayv2.exceptions import APIGatewayV2Error, BadRequestException
from moto.apigatewayv2.responses import ApiGatewayV2Response
from moto.core.exceptions import JsonRESTError
from moto.logs.exceptions import ResourceNotFoundException
from moto.logs.responses import LogsResponse
from moto.server import main
from moto.servicediscovery import exceptions as sd_exceptions
from moto.servicediscovery import models as sd_models

_to_json = models.DomainName.to_json


def _to_json_as_aws(self) -> dict:
    out = _to_json(self)
    out["domainNameConfigurations"] = [
        {"domainNameStatus": "AVAILABLE", "apiGatewayDomainName": f"d-local.execute-api.{self.domain_name_arn.split(':')[3]}.amazonaws.com",
         "hostedZoneId": "Z2FDTNDATAQYW2", **config}
        for config in out["domainNameConfigurations"]]
    if not out.get("mutualTlsAuthentication"):
        out.pop("mutualTlsAuthentication", None)
    return out


models.DomainName.to_json = _to_json_as_aws


class ConflictException(APIGatewayV2Error):
    """API Gateway v2's ConflictException: HTTP 409 (botocore's apigatewayv2 service model, shape
    ConflictException), raised as moto raises its own DomainNameAlreadyExists, so the provider's
    `errs.IsA[*awstypes.ConflictException]` recognises it."""

    code = 409

    def __init__(self, message: str) -> None:
        super().__init__("ConflictException", message)


class NotFoundException(APIGatewayV2Error):
    code = 404

    def __init__(self, message: str) -> None:
        super().__init__("NotFoundException", message)


_delete_integration = models.Api.delete_integration


def _delete_integration_as_aws(self, integration_id: str) -> None:
    """AWS refuses to delete an integration while routes target it: `ConflictException: Cannot delete Integration
    because it is referenced by the following Routes with Ids: [qtfgl2b]` (HTTP 409; quoted from
    terraform-provider-aws#12195). Terraform meets this when it replaces an integration without
    `create_before_destroy`: the old one is deleted before its routes are pointed at the new one."""
    routes = sorted(r.route_id for r in self.routes.values() if r.target == f"integrations/{integration_id}")
    if routes:
        raise ConflictException("Cannot delete Integration because it is referenced by the following Routes with "
                                f"Ids: [{', '.join(routes)}]")
    _delete_integration(self, integration_id)


models.Api.delete_integration = _delete_integration_as_aws

_delete_authorizer = models.Api.delete_authorizer


def _delete_authorizer_as_aws(self, authorizer_id: str) -> None:
    """AWS refuses to delete an authorizer while a route uses it: `ConflictException: Cannot delete authorizer
    '<name>', is referenced in route: POST /pdf/generate` (HTTP 409; quoted from anomalyco/sst#5586, provider
    6.66). The AWS provider's aws_apigatewayv2_authorizer delete retries on ConflictException until its delete
    timeout (terraform-provider-aws#37732, for #14812), so a refused delete shows as a slow apply, then an error.
    A route whose authorizer was removed holds an empty authorizer id (the provider sends AuthorizerId "")."""
    authorizer = self.authorizers.get(authorizer_id)
    routes = sorted(r.route_key for r in self.routes.values() if authorizer_id and r.authorizer_id == authorizer_id)
    if authorizer is not None and routes:
        raise ConflictException(f"Cannot delete authorizer '{authorizer.name}', is referenced in route: {', '.join(routes)}")
    _delete_authorizer(self, authorizer_id)


models.Api.delete_authorizer = _delete_authorizer_as_aws

_delete_vpc_link = models.ApiGatewayV2Backend.delete_vpc_link


def _delete_vpc_link_as_aws(self, vpc_link_id: str) -> None:
    """AWS refuses to delete a VPC link while integrations (of any API in the region) use it as their
    connection_id: `BadRequestException: Cannot delete vpc link. Vpc link 'l4er5c', is referenced in [ANY:qtfgl2b]
    in format of [Method:Resource].` (HTTP 400; quoted from terraform-provider-aws#12195, API Gateway v2; the REST
    API's VPC link answers the same with status code 400, hashicorp/terraform#18392). Which id AWS puts after the
    method is not documented; here it is the integration's. Whether an integration that no route targets still
    holds the link is not verified; here it does (the stricter reading)."""
    users = sorted(f"{i.integration_method}:{i.id}" for api in self.apis.values() for i in api.integrations.values()
                   if i.connection_id == vpc_link_id)
    if users:
        raise BadRequestException(f"Cannot delete vpc link. Vpc link '{vpc_link_id}', is referenced in "
                                  f"[{', '.join(users)}] in format of [Method:Resource].")
    _delete_vpc_link(self, vpc_link_id)


models.ApiGatewayV2Backend.delete_vpc_link = _delete_vpc_link_as_aws


class ResourceInUse(JsonRESTError):
    """Cloud Map's ResourceInUse: HTTP 409 (botocore's servicediscovery service model, shape ResourceInUse)."""

    code = 409

    def __init__(self, message: str) -> None:
        super().__init__("ResourceInUse", message)


class ServiceAlreadyExists(JsonRESTError):
    """Cloud Map's ServiceAlreadyExists: HTTP 400 (botocore's servicediscovery service model)."""

    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("ServiceAlreadyExists", message)


_delete_service = sd_models.ServiceDiscoveryBackend.delete_service


def _delete_service_as_aws(self, service_id: str) -> None:
    """AWS refuses to delete a Cloud Map service that still has registered instances: `ResourceInUse: Service
    contains registered instances; delete the instances before deleting the service` (terraform-provider-aws#4853;
    DeleteService API reference: "If the service still contains one or more registered instances, the request
    fails"). The provider's `force_destroy = true` deregisters every instance (ListInstances, DeregisterInstance)
    before DeleteService, which still succeeds here."""
    service = self.services.get(service_id)
    if service is not None and service.instances:
        raise ResourceInUse("Service contains registered instances; delete the instances before deleting the service")
    _delete_service(self, service_id)


sd_models.ServiceDiscoveryBackend.delete_service = _delete_service_as_aws

_create_service = sd_models.ServiceDiscoveryBackend.create_service


def _namespace_of(service) -> str | None:
    return service.namespace_id or (service.dns_config or {}).get("NamespaceId")  # older callers: DnsConfig only


def _create_service_as_aws(self, name: str, namespace_id: str, *args, **kwargs):
    """AWS refuses a second service of the same name in a namespace: `ServiceAlreadyExists: The service can't be
    created because a service with the same name already exists` (CreateService API reference; botocore's
    servicediscovery model). Terraform meets this when it replaces a service create-before-destroy (explicitly, or
    because a resource that depends on the service has `create_before_destroy`, which Terraform propagates to the
    resource's dependencies) without changing its name. Compared exactly here; AWS may also fold case."""
    namespace = namespace_id or (kwargs.get("dns_config") or {}).get("NamespaceId")
    for service in self.services.values():
        if service.name == name and _namespace_of(service) == namespace:
            raise ServiceAlreadyExists(f"Service already exists: {service.id}")
    return _create_service(self, name, namespace_id, *args, **kwargs)


sd_models.ServiceDiscoveryBackend.create_service = _create_service_as_aws

_delete_namespace = sd_models.ServiceDiscoveryBackend.delete_namespace


def _delete_namespace_as_aws(self, namespace_id: str) -> str:
    """AWS refuses to delete a namespace that still holds services: ResourceInUse (DeleteNamespace API reference:
    "If the namespace still contains one or more services, the request fails"; terraform-provider-aws#7607)."""
    if any(_namespace_of(s) == namespace_id for s in self.services.values()):
        raise ResourceInUse(f"Namespace {namespace_id} contains services; delete the services before deleting the namespace")
    return _delete_namespace(self, namespace_id)


sd_models.ServiceDiscoveryBackend.delete_namespace = _delete_namespace_as_aws


def _create_private_dns_namespace_as_aws(self, name: str, creator_request_id: str, description: str, vpc: str,
                                         tags: list[dict[str, str]], properties: dict) -> str:
    """Here moto is stricter than AWS: it refuses any second private DNS namespace in a VPC. Route 53 refuses only
    a private hosted zone whose name is already associated with the VPC (Route 53 API reference,
    ConflictingDomainExists: "A hosted zone with the specified name already exists and is already associated with
    the Amazon VPC that you specified"), and Cloud Map creates one such zone per namespace. A replacement that
    renames the namespace creates the new one before deleting the old one (create_before_destroy propagated from
    the integrations), which AWS accepts. The error for the same name in the same VPC is moto's (unverified)."""
    if any(n.vpc == vpc and n.name == name for n in self.namespaces.values()):
        raise sd_exceptions.ConflictingDomainExists(vpc)
    dns_properties = (properties or {}).get("DnsProperties", {})
    hosted_zone = sd_models.route53_backends[self.account_id][sd_models.get_partition(self.region_name)].create_hosted_zone(
        f"{name}-hz", private_zone=True, comment=f"hosted zone for private dns namespace {name}")
    dns_properties["HostedZoneId"] = hosted_zone.id
    namespace = sd_models.Namespace(account_id=self.account_id, region=self.region_name, name=name,
                                    ns_type="DNS_PRIVATE", creator_request_id=creator_request_id,
                                    description=description, dns_properties=dns_properties, http_properties={},
                                    vpc=vpc)
    self.namespaces[namespace.id] = namespace
    if tags:
        self.tagger.tag_resource(namespace.arn, tags)
    return self._create_operation("CREATE_NAMESPACE", targets={"NAMESPACE": namespace.id})


sd_models.ServiceDiscoveryBackend.create_private_dns_namespace = _create_private_dns_namespace_as_aws

def _with_http_name(create):
    """AWS gives every namespace an HttpName, DNS ones included (the AWS CLI's list-namespaces example shows a
    DNS_PRIVATE namespace with `"HttpProperties": {"HttpName": "local"}`), and "In most cases, Name and HttpName
    match. However, if you reuse Name for namespace creation, a generated hash is added to HttpName to distinguish
    the two." (DiscoverInstances API reference, NamespaceName; botocore's servicediscovery model). The hash's form
    is not documented; the one observed (aws/aws-cdk#25616: `passmate.private-fm7n2lxfyexstqq5`) is a hyphen and 16
    lower-case letters and digits, which is what a reused Name gets here. Which of two same-named namespaces gets it
    is not documented either; here it is the later one."""
    def create_as_aws(self, name: str, *args, **kwargs) -> str:
        taken = {n.name for n in self.namespaces.values()}
        operation = create(self, name, *args, **kwargs)
        namespace = self.namespaces[self.operations[operation].targets["NAMESPACE"]]
        suffix = "-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=16)) if name in taken else ""
        namespace.http_properties = {**(namespace.http_properties or {}), "HttpName": name + suffix}
        return operation
    return create_as_aws


for _create in ("create_http_namespace", "create_private_dns_namespace", "create_public_dns_namespace"):
    setattr(sd_models.ServiceDiscoveryBackend, _create,
            _with_http_name(getattr(sd_models.ServiceDiscoveryBackend, _create)))


def _discover_instances_as_aws(self, namespace_name: str, service_name: str, query_parameters=None,
                               optional_parameters=None, health_status=None):
    """DiscoverInstances' NamespaceName is "The HttpName name of the namespace" (API reference); moto compares it
    with the Name, so of two namespaces that share a Name it would always answer from the first. The rest is
    moto's own discover_instances (filters, health, revisions), unchanged."""
    health_status = health_status or "ALL"
    if health_status not in ("HEALTHY", "UNHEALTHY", "ALL", "HEALTHY_OR_ELSE_ALL"):
        raise sd_exceptions.InvalidInput("Invalid health status")
    namespace = next((n for n in self.list_namespaces() if (n.http_properties or {}).get("HttpName") == namespace_name),
                     None)
    if namespace is None:
        raise sd_exceptions.NamespaceNotFound(namespace_name)
    service = next((s for s in self.list_services() if s.name == service_name and s.namespace_id == namespace.id), None)
    if service is None:
        raise sd_exceptions.ServiceNotFound(service_name)
    instances = self._filter_instances(self.list_instances(service.id), query_parameters or {},
                                       optional_parameters or {}, health_status)
    return instances, {i.instance_id: service.instances_revision.get(i.instance_id, 0) for i in instances}


sd_models.ServiceDiscoveryBackend.discover_instances = _discover_instances_as_aws

_register_instance = sd_models.ServiceDiscoveryBackend.register_instance


def _register_instance_as_aws(self, service_id: str, instance_id: str, *args, **kwargs):
    """RegisterInstance with an existing InstanceId updates that instance, replacing its whole attribute set
    (RegisterInstance API reference, InstanceId: "You can use this value to update an existing instance"; botocore's
    servicediscovery model). moto appends a second instance with the same id, so DiscoverInstances would return both
    the old and the new attributes; an application flipping its own `leader` attribute meets exactly this."""
    service = self.get_service(service_id)
    service.instances[:] = [i for i in service.instances if i.instance_id != instance_id]
    return _register_instance(self, service_id, instance_id, *args, **kwargs)


sd_models.ServiceDiscoveryBackend.register_instance = _register_instance_as_aws


_update_route = models.Route.update


def _update_route_as_aws(self, api_key_required, authorization_scopes, *args, **kwargs) -> None:
    """UpdateRoute with an empty `authorizationScopes` list clears the route's scopes (the provider sends [] when a
    route's scopes are removed); moto keeps the old ones, so the next plan would show the change again."""
    _update_route(self, api_key_required, authorization_scopes, *args, **kwargs)
    if authorization_scopes == []:
        self.authorization_scopes = []


models.Route.update = _update_route_as_aws


def _update_stage(self):
    """API Gateway v2 UpdateStage, which moto does not implement (500; the provider retries for minutes): the
    provider changes a stage's throttling, route settings and access logs in place with it. Fields present in the
    request replace the stage's; route settings and stage variables merge by key, as the provider expects (it
    deletes route settings with DeleteRouteSettings, stage variables by sending "")."""
    parts = self.path.split("/")
    stage = self.apigatewayv2_backend.get_stage(parts[-3], unquote(parts[-1]))
    body = json.loads(self.body or "{}")
    for field, attribute in (("accessLogSettings", "access_log_settings"), ("autoDeploy", "auto_deploy"),
                             ("clientCertificateId", "client_certificate_id"), ("description", "description"),
                             ("defaultRouteSettings", "default_route_settings")):
        if field in body:
            setattr(stage, attribute, body[field])
    stage.route_settings = {**stage.route_settings, **body.get("routeSettings", {})}
    stage.stage_variables = {k: v for k, v in {**stage.stage_variables, **body.get("stageVariables", {})}.items() if v != ""}
    stage.updated = datetime.now()
    return 200, {}, json.dumps(stage.to_json())


def _delete_route_settings(self):
    """API Gateway v2 DeleteRouteSettings, likewise missing (and without a URL in moto): the provider removes one
    route's throttling with it. Unknown route key: NotFoundException, which the provider skips."""
    path = self.path.split("/stages/", 1)[1]
    stage_name, route_key = (unquote(part) for part in path.split("/routesettings/", 1))
    stage = self.apigatewayv2_backend.get_stage(self.path.split("/")[3], stage_name)
    if stage.route_settings.pop(route_key, None) is None:
        raise NotFoundException(f"Unable to find Route Settings for route key {route_key}")
    return 204, {}, ""


ApiGatewayV2Response.update_stage = _update_stage
ApiGatewayV2Response.delete_route_settings = _delete_route_settings
# A route key holds '/', which arrives percent-encoded; the route matches the decoded path.
agw_urls.url_paths["{0}/v2/apis/(?P<api_id>[^/]+)/stages/(?P<stage_name>[^/]+)/routesettings/(?P<route_key>.+)$"] = \
    ApiGatewayV2Response.dispatch


def _associate_kms_key(self) -> str:
    """CloudWatch Logs AssociateKmsKey, which moto does not implement (it answers 500, and the provider retries
    for minutes): the provider changes a log group's `kms_key_id` in place with it. Sets the key; whether the key
    exists and its policy lets CloudWatch Logs use it, which AWS checks, is not checked here."""
    group = self.logs_backend.groups.get(self._get_param("logGroupName"))
    if group is None:
        raise ResourceNotFoundException()
    group.kms_key_id = self._get_param("kmsKeyId")
    return ""


def _disassociate_kms_key(self) -> str:
    """CloudWatch Logs DisassociateKmsKey (likewise missing): the provider's way to drop `kms_key_id`."""
    group = self.logs_backend.groups.get(self._get_param("logGroupName"))
    if group is None:
        raise ResourceNotFoundException()
    group.kms_key_id = None
    return ""


LogsResponse.associate_kms_key = _associate_kms_key
LogsResponse.disassociate_kms_key = _disassociate_kms_key

def launch(argv: list[str]) -> None:
    """moto's server on 127.0.0.1:PORT (`-p PORT`); any other host is refused: nothing here is for a network."""
    import argparse

    parser = argparse.ArgumentParser(prog="moto_launcher", description="moto's server, strict as AWS, on loopback")
    parser.add_argument("-H", "--host", default="127.0.0.1", choices=("127.0.0.1",), help="always 127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True, help="the port to listen on")
    args = parser.parse_args(argv)
    main(["-H", "127.0.0.1", "-p", str(args.port)])


if __name__ == "__main__":
    sys.exit(launch(sys.argv[1:]))
