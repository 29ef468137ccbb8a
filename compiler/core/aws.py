"""Talking to AWS from the live tools (status, serve --cloud-map, import): one client factory, one pager.

boto3 is imported only when a client is made, so `check`, `synth` and a static `serve` never load it.
"""

from __future__ import annotations

import os
from typing import Optional
from urllib.parse import urlsplit

LOCAL_REGION = "us-east-1"  # what local mode gives the provider when routes.yaml names no region (terraform.plan)
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.hostname in LOOPBACK


def aws_client(service: str, region: Optional[str], endpoint_url: Optional[str] = None):
    """A boto3 client for real AWS (the usual credential chain), or for a local endpoint.

    A loopback endpoint is a local AWS (moto, LocalStack): it gets test credentials unless the environment has
    some, and no host prefix: DiscoverInstances is served from `data-servicediscovery.<region>.amazonaws.com` in
    AWS, and botocore would prepend `data-` to the local host name.
    """
    import boto3
    from botocore.config import Config
    kwargs: dict = {}
    config = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=20)
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
        config = config.merge(Config(inject_host_prefix=False))
        if is_loopback(endpoint_url):
            region = region or LOCAL_REGION
            if not os.environ.get("AWS_ACCESS_KEY_ID"):
                kwargs.update(aws_access_key_id="test", aws_secret_access_key="test")
    return boto3.client(service, region_name=region, config=config, **kwargs)


def pages(call, key: str, **kwargs) -> list[dict]:
    """Every item of a paginated AWS list call (`NextToken`), e.g. pages(agw.get_routes, "Items", ApiId=...)."""
    items, token = [], None
    while True:
        answer = call(**kwargs, **({"NextToken": token} if token else {}))
        items += answer.get(key, [])
        token = answer.get("NextToken")
        if not token:
            return items
