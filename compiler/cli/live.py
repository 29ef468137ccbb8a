"""`status` and `serve`: what each route reaches in the deployed system now; a local gateway (compiler.live)."""

from __future__ import annotations

from .common import (
    DEFAULT_FILE,
    DEFAULT_STACK,
    INVALID,
    OK,
    USAGE,
    add_command,
    error,
    local_aws,
    local_endpoint_problem,
)


def add_status(commands) -> None:
    status = add_command(
        commands, "status", "what each route reaches in the deployed system now (read-only)",
        "Read the deployed HTTP API and Cloud Map (never writing to either) and print, per route of FILE, whether "
        "it is deployed as declared, the instances its service and filter reach now with their health, and a "
        "verdict.",
        ((OK, "every route is deployed as declared and reaches an instance"),
         (INVALID, "a route drifted or reaches no instance, or FILE is invalid"),
         (USAGE, "a bad argument, or the deployed system cannot be read")))
    status.add_argument("file", nargs="?", default=DEFAULT_FILE, metavar="FILE",
                        help="the routes.yaml that was deployed (default routes.yaml)")
    status.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                        help="text (default), json (one object; with --watch one JSON line per change), or markdown")
    status.add_argument("--api-id", default=None, help="the deployed API's id (default: found by name and the "
                                                       "cloudmap-routes:stack tag)")
    status.add_argument("--stack", default=None, help=f"stack name synth used (default {DEFAULT_STACK}, or the "
                                                       "environment's name)")
    status.add_argument("--env", metavar="NAME", default=None,
                        help="the environment to read (a file with environments needs one)")
    status.add_argument("--local-aws", metavar="URL", default=None,
                        help="read a local AWS on loopback instead of AWS (also $CLOUDMAP_ROUTES_LOCAL_AWS)")
    status.add_argument("--watch", metavar="SECONDS", type=float, default=None,
                        help="re-read every SECONDS and print what changed, until interrupted")
    status.add_argument("--verbose", action="store_true",
                        help="also print check's warnings and every attribute ECS sets on an instance")
    status.set_defaults(run=status_command)


def status_command(args) -> int:
    local, problem = local_aws(args.local_aws)
    if problem or (args.watch is not None and args.watch <= 0):
        error(problem or "--watch takes a number of seconds > 0")
        return USAGE
    from ..live.status import run_status  # boto3 loads here, never for check
    return run_status(args.file, args.format, args.api_id, args.stack or args.env or DEFAULT_STACK, local,
                      args.watch, environment=args.env, verbose=args.verbose)


def add_serve(commands) -> None:
    serve = add_command(
        commands, "serve", "a local gateway on 127.0.0.1 that routes like the deployed HTTP API",
        "Serve FILE's routes on 127.0.0.1 as API Gateway routes them (route keys, filters, authorizers, fan-out), "
        "forwarding to the instances in FILE or, with --cloud-map, to those Cloud Map discovers. Runs until "
        "interrupted.",
        ((OK, "stopped by Ctrl-C or SIGTERM once listening (it handles both)"), (INVALID, "FILE is invalid"),
         (USAGE, "a bad argument, or the port or Cloud Map cannot be used")))
    serve.add_argument("file", nargs="?", default=DEFAULT_FILE, metavar="FILE",
                       help="the routes.yaml to serve (default routes.yaml)")
    serve.add_argument("--env", metavar="NAME", default=None,
                       help="the environment to serve, for a file with environments")
    serve.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (default 8080; 0 picks one)")
    serve.add_argument("--cloud-map", metavar="URL", default=None,
                       help="instances from Cloud Map's DiscoverInstances: a local AWS on loopback (http://127.0.0.1:"
                            "PORT), or `aws` for real AWS with your credentials (default: routes.yaml's instances)")
    serve.add_argument("--attribute-lag", metavar="SECONDS", type=float, default=0.0,
                       help="after an instance's attributes change, old and new filters both match it this long "
                            "(observed ~30 s in AWS; not a guarantee; default 0)")
    serve.set_defaults(run=serve_command)


def serve_command(args) -> int:
    problem = args.cloud_map not in (None, "aws") and local_endpoint_problem(args.cloud_map, "--cloud-map")
    if problem or not 0 <= args.port <= 65535 or args.attribute_lag < 0:
        error(problem or "expected --port 0-65535 and --attribute-lag >= 0")
        return USAGE
    from ..live.gateway import run_serve  # aiohttp loads here, never for check
    return run_serve(args.file, args.port, args.cloud_map, args.attribute_lag, args.env)
