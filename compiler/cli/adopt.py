"""`import`: write routes.yaml and Terraform import blocks for an HTTP API built by hand (compiler.adopt)."""

from __future__ import annotations

from .common import DEFAULT_STACK, USAGE, error, local_aws
from .synth import stack_name


def add_import(commands) -> None:
    adopt = commands.add_parser("import", help="write routes.yaml and Terraform import blocks for an HTTP API built "
                                               "by hand (reads AWS; writes nothing there unless --tag-api)")
    adopt.add_argument("--api-id", required=True, help="the HTTP API's id (API Gateway v2)")
    adopt.add_argument("--output", required=True, metavar="FILE",
                       help="the routes.yaml to write; the import blocks go beside it, in <name>.imports.tf.json")
    adopt.add_argument("--region", default=None, help="the API's region (default: the AWS environment's)")
    adopt.add_argument("--local-aws", metavar="URL", default=None,
                       help="read a local AWS on loopback instead of AWS (also $CLOUDMAP_ROUTES_LOCAL_AWS)")
    adopt.add_argument("--stack", default=DEFAULT_STACK, type=stack_name,
                       help=f"the stack synth will write (default {DEFAULT_STACK}): the API's tag names it")
    adopt.add_argument("--tag-api", action="store_true",
                       help="tag the API with cloudmap-routes:stack=<stack> now (the one write to AWS), so that the "
                            "first plan is imports only")
    adopt.add_argument("--force", action="store_true", help="replace the output files if they exist")
    adopt.set_defaults(run=import_command)


def import_command(args) -> int:
    local, problem = local_aws(args.local_aws)
    if problem:
        error(problem)
        return USAGE
    from ..adopt import run_import  # boto3 loads here, never for check
    return run_import(args.api_id, args.output, args.region, local, args.stack, args.tag_api, args.force)
