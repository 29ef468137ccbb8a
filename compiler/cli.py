"""The command line: a thin shell over the pipeline. Diagnostics go to stderr, data to stdout.

Exit codes: 0 valid (warnings allowed), 1 invalid input, 2 usage error. `check`, `diff` and `summarize-plan`
never import cdktf/jsii; only `synth` (and the bare `python main.py` that `cdktf synth` runs) does.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from . import compile_file
from .diagnostics import has_errors, render_json, render_text

DEFAULT_FILE = "routes.yaml"
DEFAULT_OUT = "cdktf.out"
DEFAULT_STACK = "routes"
LOCAL_AWS_ENV = "CLOUDMAP_ROUTES_LOCAL_AWS"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description="Compile routes.yaml into Terraform JSON "
                                     "(API Gateway HTTP API -> VPC link -> Cloud Map).")
    commands = parser.add_subparsers(dest="command")
    check = commands.add_parser("check", help="validate routes.yaml without synthesizing (fast, no jsii)")
    check.add_argument("file", nargs="?", default=DEFAULT_FILE)
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="json prints the diagnostics on stdout for editors and CI annotations")
    synth = commands.add_parser("synth", help="write cdktf.out/stacks/<stack>/cdk.tf.json")
    synth.add_argument("file", nargs="?", default=DEFAULT_FILE)
    synth.add_argument("--out", default=None, help=f"output directory (default $CDKTF_OUTDIR or {DEFAULT_OUT})")
    synth.add_argument("--stack", default=DEFAULT_STACK, help=f"stack name (default {DEFAULT_STACK})")
    synth.add_argument("--state", metavar="s3://BUCKET/KEY", default=None,
                       help="keep Terraform state in S3 (encrypted, with S3 locking) instead of the local file "
                            "beside routes.yaml; what CI plans need")
    synth.add_argument("--local-aws", metavar="URL", default=None,
                       help=f"opt-in: point every AWS endpoint at a local emulator on loopback (e.g. moto's server) "
                            f"with test credentials; also ${LOCAL_AWS_ENV}")
    diff = commands.add_parser("diff", help="route-level summary of the change between two routes.yaml versions")
    diff.add_argument("base", help="a file, or a git revision of one: origin/main:routes.yaml")
    diff.add_argument("head", nargs="?", default=DEFAULT_FILE)
    diff.add_argument("--format", choices=("text", "markdown"), default="text")
    plan = commands.add_parser("summarize-plan", help="route-level summary of `terraform show -json` output")
    plan.add_argument("plan", help="the JSON file written by: terraform show -json PLANFILE > plan.json")
    plan.add_argument("--format", choices=("text", "markdown"), default="text")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "check":
            return run_check(args.file, args.format)
        if args.command in (None, "synth"):
            file = getattr(args, "file", DEFAULT_FILE)
            out = getattr(args, "out", None) or os.environ.get("CDKTF_OUTDIR") or DEFAULT_OUT
            local = getattr(args, "local_aws", None) or os.environ.get(LOCAL_AWS_ENV) or None
            return run_synth(file, out, getattr(args, "stack", DEFAULT_STACK), local, getattr(args, "state", None))
        if args.command == "diff":
            from .review import run_diff
            return run_diff(args.base, args.head, args.format)
        if args.command == "summarize-plan":
            from .review import run_summarize_plan
            return run_summarize_plan(args.plan, args.format)
    except KeyboardInterrupt:
        return 130
    return 2


def run_check(file: str, fmt: str) -> int:
    model, diagnostics = compile_file(file)
    if fmt == "json":
        print(render_json(diagnostics))
    elif diagnostics:
        print(render_text(diagnostics), file=sys.stderr)
    if has_errors(diagnostics):
        return 1
    if fmt == "text":
        print(f"{file}: ok ({len(model.routes)} route(s), {len(model.services)} service(s))", file=sys.stderr)
    return 0


def local_endpoint_problem(url: str) -> str:
    """Local mode exists for an emulator on this machine; refuse anything that would leave it."""
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return f"--local-aws {url!r}: only http(s) URLs on loopback (127.0.0.1, localhost, ::1) are allowed"
    return ""


def state_problem(state: str) -> str:
    from urllib.parse import urlsplit
    parts = urlsplit(state)
    if parts.scheme != "s3" or not parts.netloc or not parts.path.strip("/"):
        return f"--state {state!r}: expected s3://BUCKET/KEY, e.g. s3://my-tf-state/routes/raft-api.tfstate"
    return ""


def run_synth(file: str, out: str, stack: str, local_endpoint: str | None = None, state: str | None = None) -> int:
    problem = (local_endpoint and local_endpoint_problem(local_endpoint)) or (state and state_problem(state))
    if problem:
        print(f"main.py: error: {problem}", file=sys.stderr)
        return 2
    model, diagnostics = compile_file(file)
    if diagnostics:
        print(render_text(diagnostics), file=sys.stderr)
    if model is None:
        print(f"{file}: not synthesized; {out} left as it was", file=sys.stderr)
        return 1
    from .bindings import BindingsError
    from .synth import synthesize  # the expensive import: jsii and the provider bindings
    try:
        path = synthesize(model, out, stack, local_endpoint, state)
    except BindingsError as exc:
        print(f"main.py: error: {exc}; {out} left as it was", file=sys.stderr)
        return 1
    print(f"wrote {path}", file=sys.stderr)
    return 0
