"""What the shipped fan-out function is configured with: its settings and their environment variables.

The one description both sides read: the fan-out handler (fanout.py) parses its environment with
`Settings.from_environ`, and the compiler writes it with `environment(Settings(...))` (the stack's
`aws_lambda_function.environment`, the size check of routes.yaml) without importing the handler's runtime
(http.client, ssl, sockets). The variables are documented in fanout.py's docstring. Standard library only: the
fan-out deployment zip holds this module beside fanout.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Mapping, Optional

DEFAULT_FORWARD_HEADERS = ("content-type",)
ALLOWED_CIDRS = "ALLOWED_CIDRS"  # the allow-list authorizer's one variable: comma-separated networks


@dataclass(frozen=True)
class Settings:
    """One fan-out route's configuration (the environment variables above, parsed)."""

    namespace: str = ""
    service: str = ""
    filter: tuple[tuple[str, str], ...] = ()  # sorted pairs
    include_unhealthy: bool = False
    per_instance_timeout_ms: int = 2_000
    concurrency: int = 8
    total_timeout_ms: int = 29_500
    strip_stage: bool = True
    stage: str = ""
    forward_headers: Optional[frozenset[str]] = frozenset(DEFAULT_FORWARD_HEADERS)  # None: all but hop-by-hop
    max_body_bytes: int = 4_096
    tls_server_name: str = ""
    namespace_id: str = ""  # what identifies the namespace: its HttpName is read from GetNamespace (fanout.py)

    @property
    def health_status(self) -> str:
        return "ALL" if self.include_unhealthy else "HEALTHY"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "Settings":
        """Parse the environment; ValueError names the variable that is wrong."""
        try:
            pairs = json.loads(environ.get("FILTER") or "{}")
        except ValueError as exc:
            raise ValueError(f"FILTER is not JSON: {exc}") from None
        if not isinstance(pairs, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in pairs.items()):
            raise ValueError("FILTER must be a JSON object of strings")
        headers = environ.get("FORWARD_HEADERS")
        if headers is None:
            allowed: Optional[frozenset[str]] = frozenset(DEFAULT_FORWARD_HEADERS)
        elif headers.strip() == "*":
            allowed = None
        else:
            allowed = frozenset(h.strip().lower() for h in headers.split(",") if h.strip())
        settings = cls(namespace=environ.get("CLOUD_MAP_NAMESPACE", ""), service=environ.get("CLOUD_MAP_SERVICE", ""),
                       filter=tuple(sorted(pairs.items())),
                       include_unhealthy=_flag(environ, "INCLUDE_UNHEALTHY", False),
                       per_instance_timeout_ms=_number(environ, "PER_INSTANCE_TIMEOUT_MS", 2_000),
                       concurrency=_number(environ, "CONCURRENCY", 8),
                       total_timeout_ms=_number(environ, "TOTAL_TIMEOUT_MS", 29_500),
                       strip_stage=_flag(environ, "STRIP_STAGE", True), stage=environ.get("STAGE", ""),
                       forward_headers=allowed, max_body_bytes=_number(environ, "MAX_BODY_BYTES", 4_096, least=0),
                       tls_server_name=environ.get("TLS_SERVER_NAME", ""),
                       namespace_id=environ.get("CLOUD_MAP_NAMESPACE_ID", "").strip())
        if not settings.namespace or not settings.service:
            raise ValueError("CLOUD_MAP_NAMESPACE and CLOUD_MAP_SERVICE are required")
        return settings


def environment(settings: Settings) -> dict[str, str]:
    """The Lambda function's environment variables for these settings (what the stack emits; sorted keys).

    >>> environment(Settings("ns", "kv", (("leader", "true"),)))["FILTER"]
    '{"leader":"true"}'
    """
    headers = "*" if settings.forward_headers is None else ",".join(sorted(settings.forward_headers))
    out = {"CLOUD_MAP_NAMESPACE": settings.namespace, "CLOUD_MAP_NAMESPACE_ID": settings.namespace_id,
           "CLOUD_MAP_SERVICE": settings.service,
           "FILTER": json.dumps(dict(settings.filter), separators=(",", ":"), sort_keys=True),
           "INCLUDE_UNHEALTHY": _text(settings.include_unhealthy),
           "PER_INSTANCE_TIMEOUT_MS": str(settings.per_instance_timeout_ms),
           "CONCURRENCY": str(settings.concurrency), "TOTAL_TIMEOUT_MS": str(settings.total_timeout_ms),
           "STRIP_STAGE": _text(settings.strip_stage), "STAGE": settings.stage, "FORWARD_HEADERS": headers,
           "MAX_BODY_BYTES": str(settings.max_body_bytes)}
    if settings.tls_server_name:
        out["TLS_SERVER_NAME"] = settings.tls_server_name
    return dict(sorted(out.items()))


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    value = environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise ValueError(f"{name} must be true or false, not {value!r}")


def _number(environ: Mapping[str, str], name: str, default: int, least: int = 1) -> int:
    value = environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < least:
        raise ValueError(f"{name} must be an integer of at least {least}, not {value!r}")
    return int(value)


def _text(flag: bool) -> str:
    return "true" if flag else "false"
