"""Start moto's server with the one gap that blocks our resources filled in, so it behaves as AWS does.

Real API Gateway reports each custom domain configuration's `domainNameStatus` (AVAILABLE once ready), with the
regional domain name and hosted zone clients alias to; the AWS provider waits for AVAILABLE. moto 5.2 echoes the
configuration back without them, so `aws_apigatewayv2_domain_name` would wait forever. moto also answers an empty
`mutualTlsAuthentication` object where AWS omits the field when mutual TLS is off, which the provider reads as a
perpetual diff. Nothing else is changed.
"""

from __future__ import annotations

import sys

from moto.apigatewayv2 import models
from moto.server import main

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

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
