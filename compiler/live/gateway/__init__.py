"""`main.py serve`: a local HTTP gateway on 127.0.0.1 that routes like the deployed HTTP API for a routes.yaml.

Per request, in API Gateway's order: the request path (decoded, as HTTP APIs decode it, then used both to route
and to reach the backend: routing.request_path), stage, then route (routing, after the developer guide's "Routing
API requests"), then authorization (authorization.authorize: the allow-list runs the shipped handler on the
source address; JWT, Lambda and IAM are checked for the presence of their identity source only), then the
route's integration (upstream: static instances or Cloud Map's DiscoverInstances, filtered, healthy, one picked
round-robin; a fan-out route runs the deployed function's own code over all of them). Errors answer with API
Gateway's bodies (answers.py, with their sources). One access log line per request on stdout, with the stage's
access log keys (`deployed.LOG_FORMAT`), including `integrationErrorMessage` when no instance matched; a request
that matches no stage gets no line (AWS writes no log for it either). Diagnostics go to stderr. routes.yaml is
re-read when it changes, off the event loop and with `check`'s limits (config.py); an invalid edit keeps the
previous configuration and prints the diagnostics. The server's bounds (header timeout, connection cap, body
timeout) are in server.py.

    server.py         the listening socket and its bounds, the request pipeline, the access log, reloads
    authorization.py  who may call a route (one function over plain model values)
    upstream.py       which instances a route reaches, the proxied call, the fan-out
    answers.py        API Gateway's error bodies, cited, and what a request produced (Outcome)
    config.py         reading and compiling routes.yaml in a worker thread

Library: aiohttp (3.14). `serve` is a reverse proxy, so it needs an HTTP server and an HTTP client in the same
event loop: aiohttp is both, mature, and fully asynchronous, so one process holds hundreds of concurrent requests,
slow backends and timeouts without a thread per request; its client pools keep-alive connections per backend
(what keeps the added latency small) and takes a per-request total timeout (the route's `timeout_ms`); its server
hands over the raw path and headers unchanged. `http.server` has no client, one thread per connection and no
timeouts of its own; the alternatives pair two libraries (uvicorn/starlette + httpx) for what aiohttp does alone.
boto3, for `--cloud-map`, is synchronous: its calls run in the loop's thread pool.
"""

from __future__ import annotations

from .server import Gateway, Limits, not_emulated, run_serve

__all__ = ["Gateway", "Limits", "not_emulated", "run_serve"]
