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
    synth.add_argument("--stack", default=DEFAULT_STACK, type=_stack_name,
                       help=f"stack name: 1-64 letters, digits, - or _, starting with a letter "
                            f"(default {DEFAULT_STACK})")
    synth.add_argument("--state", metavar="s3://BUCKET/KEY", default=None,
                       help="keep Terraform state in S3 (encrypted, with S3 locking) instead of the local file "
                            "beside routes.yaml; what CI plans need")
    synth.add_argument("--local-aws", metavar="URL", default=None,
                       help=f"opt-in: point every AWS endpoint at a local emulator on loopback (e.g. moto's server) "
                            f"with test credentials; also ${LOCAL_AWS_ENV}")
    synth.add_argument("--engine", choices=("cdktf", "direct"), default="cdktf",
                       help="cdktf (default): CDKTF writes the files; direct: the same bytes from plain Python, "
                            "without Node or jsii (much faster)")
    diff = commands.add_parser("diff", help="route-level summary of the change between two routes.yaml versions")
    diff.add_argument("base", help="a file, or a git revision of one: origin/main:routes.yaml")
    diff.add_argument("head", nargs="?", default=DEFAULT_FILE)
    diff.add_argument("--format", choices=("text", "markdown"), default="text")
    plan = commands.add_parser("summarize-plan", help="route-level summary of `terraform show -json` output")
    plan.add_argument("plan", help="the JSON file written by: terraform show -json PLANFILE > plan.json")
    plan.add_argument("--format", choices=("text", "markdown"), default="text")
    status = commands.add_parser("status", help="what each route reaches in the deployed system now (read-only)")
    status.add_argument("file", nargs="?", default=DEFAULT_FILE)
    status.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    status.add_argument("--api-id", default=None, help="the deployed API's id (default: found by name and the "
                                                       "cloudmap-routes:stack tag)")
    status.add_argument("--stack", default=DEFAULT_STACK, help=f"stack name synth used (default {DEFAULT_STACK})")
    status.add_argument("--local-aws", metavar="URL", default=None,
                        help=f"read a local AWS on loopback instead of AWS (also ${LOCAL_AWS_ENV})")
    status.add_argument("--watch", metavar="SECONDS", type=float, default=None,
                        help="re-read every SECONDS and print what changed, until interrupted")
    serve = commands.add_parser("serve", help="a local gateway on 127.0.0.1 that routes like the deployed HTTP API")
    serve.add_argument("file", nargs="?", default=DEFAULT_FILE)
    serve.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (default 8080; 0 picks one)")
    serve.add_argument("--cloud-map", metavar="URL", default=None,
                       help="instances from Cloud Map's DiscoverInstances: a local AWS on loopback (http://127.0.0.1:"
                            "PORT), or `aws` for real AWS with your credentials (default: routes.yaml's instances)")
    serve.add_argument("--attribute-lag", metavar="SECONDS", type=float, default=0.0,
                       help="after an instance's attributes change, old and new filters both match it this long "
                            "(observed ~30 s in AWS; not a guarantee; default 0)")
    return parser


def _stack_name(value: str) -> str:
    """argparse type for synth's --stack: the name becomes a directory and part of the state file's name."""
    from .synth import stack_problem
    problem = stack_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "check":
            return run_check(args.file, args.format)
        if args.command in (None, "synth"):
            file = getattr(args, "file", DEFAULT_FILE)
            out = getattr(args, "out", None) or os.environ.get("CDKTF_OUTDIR") or DEFAULT_OUT
            local = getattr(args, "local_aws", None) or os.environ.get(LOCAL_AWS_ENV) or None
            source = "--local-aws" if getattr(args, "local_aws", None) else LOCAL_AWS_ENV
            problem = (local and local_endpoint_problem(local, source)) or \
                local_state_problem(local, getattr(args, "state", None))
            if problem:
                print(f"main.py: error: {problem}", file=sys.stderr)
                return 2
            return run_synth(file, out, getattr(args, "stack", DEFAULT_STACK), local, getattr(args, "state", None),
                             getattr(args, "engine", "cdktf"))
        if args.command == "diff":
            return run_diff(args.base, args.head, args.format)
        if args.command == "summarize-plan":
            return run_summarize_plan(args.plan, args.format)
        if args.command == "status":
            local = args.local_aws or os.environ.get(LOCAL_AWS_ENV) or None
            problem = local and local_endpoint_problem(local, "--local-aws" if args.local_aws else LOCAL_AWS_ENV)
            if problem or (args.watch is not None and args.watch <= 0):
                print(f"main.py: error: {problem or '--watch takes a number of seconds > 0'}", file=sys.stderr)
                return 2
            from .status import run_status  # boto3 loads here, never for check
            return run_status(args.file, args.format, args.api_id, args.stack, local, args.watch)
        if args.command == "serve":
            problem = args.cloud_map not in (None, "aws") and local_endpoint_problem(args.cloud_map, "--cloud-map")
            if problem or not 0 <= args.port <= 65535 or args.attribute_lag < 0:
                print(f"main.py: error: {problem or 'expected --port 0-65535 and --attribute-lag >= 0'}",
                      file=sys.stderr)
                return 2
            from .gateway import run_serve  # aiohttp loads here, never for check
            return run_serve(args.file, args.port, args.cloud_map, args.attribute_lag)
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


def run_diff(base_spec: str, head_spec: str, fmt: str) -> int:
    from .review import UsageError, compile_version, diff_models, render, visible
    models = []
    for spec in (base_spec, head_spec):
        try:
            model, diagnostics = compile_version(spec)
        except UsageError as exc:
            print(f"main.py: error: diff: {visible(str(exc))}", file=sys.stderr)
            return 2
        if model is None or has_errors(diagnostics):
            print(render_text(diagnostics), file=sys.stderr)
            print(f"{visible(spec)}: invalid; no summary", file=sys.stderr)
            return 1
        models.append(model)
    sys.stdout.write(render(diff_models(models[0], models[1], f"{base_spec} -> {head_spec}"), fmt))
    return 0


def run_summarize_plan(path: str, fmt: str) -> int:
    from .review import PlanError, load_plan, render, summarize_plan, visible
    try:
        plan, problems = load_plan(path)
        if problems:
            print(render_text(problems), file=sys.stderr)
            return 1
        summary = summarize_plan(plan, f"terraform plan ({os.path.basename(path)})")
    except PlanError as exc:
        print(f"main.py: error: {visible(path)}: not terraform show -json output: {exc}", file=sys.stderr)
        return 1
    if summary.unmanaged:
        listed = ", ".join(f"{visible(c.address)} ({c.action})" for c in summary.unmanaged)
        print(f"main.py: warning: {visible(path)}: {len(summary.unmanaged)} resource(s) in the plan are not of a "
              f"type cloudmap-routes manages; the summary does not describe them: {listed}", file=sys.stderr)
    sys.stdout.write(render(summary, fmt))
    return 0


def local_endpoint_problem(url: str, source: str = "--local-aws") -> str:
    """Local mode exists for an emulator on this machine; refuse anything that could reach elsewhere.

    The URL goes verbatim into the provider's endpoints (Terraform JSON), so it must be exactly
    http(s)://HOST:PORT or http(s)://HOST:PORT/ with HOST 127.0.0.1, localhost or [::1] and a port 1-65535:
    no userinfo, path, query, fragment, Terraform interpolation (`${`, `%{`), whitespace or control characters.
    """
    import re
    allowed = "only http(s)://HOST:PORT with HOST 127.0.0.1, localhost or [::1] and a port 1-65535 is allowed"
    if not url.isascii() or not url.isprintable() or " " in url:
        return f"{source} {url!r}: whitespace, control and non-ASCII characters are not allowed; {allowed}"
    if "${" in url or "%{" in url:
        return f"{source} {url!r}: Terraform interpolation (${{ or %{{) is not allowed; {allowed}"
    match = re.fullmatch(r"https?://(?:127\.0\.0\.1|localhost|\[::1\]):([1-9][0-9]{0,4})/?", url)
    if not match or int(match.group(1)) > 65535:
        return f"{source} {url!r}: {allowed}"
    return ""


def local_state_problem(local_endpoint: str | None, state: str | None) -> str:
    """Local mode keeps local state: an S3 backend would still talk to the real AWS (with whatever credentials)."""
    if local_endpoint and state:
        return (f"--state {state!r} cannot be combined with local mode ({local_endpoint!r}): the S3 backend would "
                "use the real AWS; local mode keeps its state in the local file")
    return ""


_RESERVED_BUCKET_AFFIXES = (("xn--", "sthree-", "amzn-s3-demo-"),  # prefixes, then suffixes, S3 reserves
                            ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"))


def state_problem(state: str) -> str:
    """--state s3://BUCKET/KEY: a bucket name S3 accepts and a key of S3's safe characters.

    Both go verbatim into the Terraform JSON backend block, so nothing in them may read as an interpolation.
    """
    import re
    usage = f"--state {state!r}: expected s3://BUCKET/KEY, e.g. s3://my-tf-state/routes/raft-api.tfstate"
    bucket, slash, key = state.removeprefix("s3://").partition("/")
    if not state.startswith("s3://") or not slash or not key:
        return usage
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket) or ".." in bucket \
            or re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+", bucket) \
            or bucket.startswith(_RESERVED_BUCKET_AFFIXES[0]) or bucket.endswith(_RESERVED_BUCKET_AFFIXES[1]):
        return (f"{usage}; the bucket name must be 3-63 lowercase letters, digits, dots and hyphens, start and end "
                "with a letter or digit, have no two adjacent dots, not look like an IP address and not use a "
                "prefix or suffix S3 reserves")
    if len(key.encode()) > 1024:
        return f"{usage}; the key is longer than 1024 bytes"
    if not re.fullmatch(r"[A-Za-z0-9!_.*'()/-]+", key):
        return f"{usage}; the key may hold only letters, digits, / and !-_.*'() (S3's safe characters)"
    if any(segment in ("", ".", "..") for segment in key.split("/")):
        return f"{usage}; the key must not start or end with /, or have empty, . or .. segments"
    return ""


def run_synth(file: str, out: str, stack: str, local_endpoint: str | None = None, state: str | None = None,
              engine: str = "cdktf") -> int:
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
    from .synth import OutputError, Terminated, synthesize  # jsii loads only when the cdktf engine runs
    try:
        path = synthesize(model, out, stack, local_endpoint, state, engine)
    except BindingsError as exc:
        print(f"main.py: error: {exc}; {out} left as it was", file=sys.stderr)
        return 1
    except OutputError as exc:  # --out is not synth's to replace, or a bad stack name: nothing was touched
        print(f"main.py: error: {exc}", file=sys.stderr)
        return 2
    except Terminated as exc:
        print(f"main.py: error: {exc}", file=sys.stderr)
        return 143  # 128 + SIGTERM, as a shell reports a process SIGTERM ended
    except OSError as exc:
        print(f"main.py: error: cannot write {out}: {exc}; {out} left as it was", file=sys.stderr)
        return 1
    print(f"wrote {path}", file=sys.stderr)
    return 0
