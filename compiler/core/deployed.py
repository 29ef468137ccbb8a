"""What the deployed API carries that the runtime tools rely on: the stack tag and the access log format.

One definition, two sides: `plan` writes both into the Terraform JSON, and the runtime tools read them back
(`status` finds the API by the tag; `serve` writes access log lines with the stage's keys, so a query written
against the local gateway's log works against the deployed stage's log and back). Neither side imports the other.
"""

from __future__ import annotations

STACK_TAG = "cloudmap-routes:stack"  # on the HTTP API: lets `status` find the API a routes.yaml describes
DEFAULT_STACK = "routes"

LOG_FORMAT = {  # what an operator needs when a filter matched nothing: integration status and error message
    "requestId": "$context.requestId",
    "sourceIp": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "integrationStatus": "$context.integrationStatus",
    "integrationLatency": "$context.integrationLatency",
    "integrationErrorMessage": "$context.integrationErrorMessage",
    "errorMessage": "$context.error.message",
    "authorizerError": "$context.authorizer.error",
}

MISSING = "-"  # what API Gateway writes for a variable that has no value in this request


def render(context: dict[str, str], log_format: dict[str, str] = LOG_FORMAT) -> dict[str, str]:
    """One access log record: each key of the format with its `$context` variable's value, or "-".

    >>> render({"status": "404", "routeKey": "-"}, {"status": "$context.status", "ip": "$context.identity.sourceIp"})
    {'status': '404', 'ip': '-'}
    """
    out = {}
    for key, variable in log_format.items():
        name = variable[len("$context."):] if variable.startswith("$context.") else variable
        value = context.get(name)
        out[key] = MISSING if value is None or value == "" else str(value)
    return out
