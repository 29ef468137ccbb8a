"""What `serve` answers, and what it writes to the access log, for one request: API Gateway's own error bodies.

HTTP APIs answer their own errors as {"message": <the status's reason phrase>}:

    400 {"message":"Bad Request"}            a request target serve refuses (routing.request_path)
    401 {"message":"Unauthorized"}           the route needs authorization and its identity source is missing
                                             ("Troubleshooting issues with HTTP API JWT authorizers":
                                             `401 {"message":"Unauthorized"}`; "Working with AWS Lambda
                                             authorizers for HTTP APIs": "the client receives a 401 error")
    403 {"message":"Forbidden"}              an allow-list authorizer denied the source address (isAuthorized:
                                             false; the body follows the same form, no capture found)
    404 {"message":"Not Found"}              no stage or no route matches ("Working with routes for HTTP APIs":
                                             "If no routes match a request, API Gateway returns
                                             {"message":"Not Found"} to the client.")
    408 {"message":"Request Timeout"}        the request's body did not arrive within BODY_TIMEOUT_S (serve's
                                             own bound; API Gateway's is not documented)
    413 {"message":"Request Entity Too Large"}  a body over the 10 MB payload quota
    500 {"message":"Internal Server Error"}  no instance matched (the field observation), or Cloud Map failed
                                             ("Troubleshooting issues with HTTP API Lambda integrations":
                                             `{"message":"Internal Server Error"}`, capital S)
    503 {"message":"Service Unavailable"}    the instance refused the connection, or did not answer within the
                                             route's timeout_ms (default 30,000). An HTTP API answers an
                                             integration timeout with 503, not REST's 504: a real capture,
                                             `< HTTP/2 503 ... {"message":"Service Unavailable"}` for a request
                                             past the 30 s limit (cortexlabs/cortex#1225, #1226: "this is a
                                             timeout"); serverless/serverless#11222 ("the API gateway timeout
                                             ... must be greater than the lambda timeout to avoid getting a 503");
                                             anomalyco/sst#2232 ("503 Service Unavailable ... originating from
                                             API Gateway itself ... hard limit of 30 seconds")
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

MESSAGES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 408: "Request Timeout",
            413: "Request Entity Too Large", 500: "Internal Server Error", 503: "Service Unavailable"}
JSON = [("Content-Type", "application/json")]


@dataclass
class Outcome:
    """What one request produced, for the response and the access log."""

    status: int
    body: bytes
    headers: Optional[list[tuple[str, str]]] = None
    route_key: str = ""
    integration_status: str = ""
    integration_latency: str = ""
    integration_error: str = ""
    error_message: str = ""
    authorizer_error: str = ""


def error(status: int, **log) -> Outcome:
    """API Gateway's own answer for `status`, with what the access log records about it."""
    message = MESSAGES[status]
    return Outcome(status, json.dumps({"message": message}, separators=(",", ":")).encode(), list(JSON),
                   error_message=log.pop("error_message", message), **log)
