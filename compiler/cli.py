"""The command line: a thin shell over the pipeline. Diagnostics go to stderr, data to stdout.

Exit codes: 0 valid (warnings allowed), 1 invalid input, 2 usage error. `check`, `diff` and `summarize-plan`
never import cdktf/jsii; only `synth` (and the bare `python main.py` that `cdktf synth` runs) does.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from .core.diagnostics import has_errors, render_json, render_text
from .language import compile_stacks

DEFAULT_FILE = "routes.yaml"
DEFAULT_OUT = "cdktf.out"
DEFAULT_STACK = "routes"
LOCAL_AWS_ENV = "CLOUDMAP_ROUTES_LOCAL_AWS"
CDKTF_CONTEXT_ENV = "CDKTF_CONTEXT_JSON"  # set by the cdktf CLI for the app it runs (cdktf.json's `app`)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description="Compile routes.yaml into Terraform JSON "
                                     "(API Gateway HTTP API -> VPC link -> Cloud Map).")
    commands = parser.add_subparsers(dest="command")
    check = commands.add_parser("check", help="validate routes.yaml without synthesizing (fast, no jsii)")
    check.add_argument("file", nargs="?", default=DEFAULT_FILE)
    check.add_argument("--env", action="append", metavar="NAME", default=None,
                       help="check only this environment (repeatable; default: every environment)")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="json prints the diagnostics on stdout for editors and CI annotations")
    synth = commands.add_parser("synth", help="write cdktf.out/stacks/<stack>/cdk.tf.json")
    synth.add_argument("file", nargs="?", default=DEFAULT_FILE)
    synth.add_argument("--out", default=None, help=f"output directory (default $CDKTF_OUTDIR or {DEFAULT_OUT})")
    synth.add_argument("--stack", default=None, type=_stack_name,
                       help=f"stack name: 1-64 letters, digits, - or _, starting with a letter "
                            f"(default {DEFAULT_STACK}; a file with environments names each stack after its "
                            f"environment)")
    synth.add_argument("--env", action="append", metavar="NAME", default=None,
                       help="synthesize only this environment's stack (repeatable; default: every environment); "
                            "the other stacks in the output are left as they are")
    synth.add_argument("--state", metavar="s3://BUCKET/KEY", default=None,
                       help="keep Terraform state in S3 (encrypted, with S3 locking) instead of the local file "
                            "beside routes.yaml; what CI plans need")
    synth.add_argument("--local-aws", metavar="URL", default=None,
                       help=f"opt-in: point every AWS endpoint at a local emulator on loopback (e.g. moto's server) "
                            f"with test credentials; also ${LOCAL_AWS_ENV}")
    synth.add_argument("--engine", choices=("cdktf", "direct"), default="cdktf",
                       help="cdktf (default): CDKTF writes the files; direct: the same bytes from plain Python, "
                            "without Node or jsii (much faster)")
    synth.add_argument("--imports", metavar="FILE", default=None,
                       help="Terraform import blocks to put in the stack (the *.imports.tf.json `import` writes): "
                            "the first plan adopts those resources instead of creating them")
    adopt = commands.add_parser("import", help="write routes.yaml and Terraform import blocks for an HTTP API built "
                                               "by hand (reads AWS; writes nothing there unless --tag-api)")
    adopt.add_argument("--api-id", required=True, help="the HTTP API's id (API Gateway v2)")
    adopt.add_argument("--output", required=True, metavar="FILE",
                       help="the routes.yaml to write; the import blocks go beside it, in <name>.imports.tf.json")
    adopt.add_argument("--region", default=None, help="the API's region (default: the AWS environment's)")
    adopt.add_argument("--local-aws", metavar="URL", default=None,
                       help=f"read a local AWS on loopback instead of AWS (also ${LOCAL_AWS_ENV})")
    adopt.add_argument("--stack", default=DEFAULT_STACK, type=_stack_name,
                       help=f"the stack synth will write (default {DEFAULT_STACK}): the API's tag names it")
    adopt.add_argument("--tag-api", action="store_true",
                       help="tag the API with cloudmap-routes:stack=<stack> now (the one write to AWS), so that the "
                            "first plan is imports only")
    adopt.add_argument("--force", action="store_true", help="replace the output files if they exist")
    diff = commands.add_parser("diff", help="route-level summary of the change between two routes.yaml versions")
    diff.add_argument("base", help="a file, or a git revision of one: origin/main:routes.yaml")
    diff.add_argument("head", nargs="?", default=DEFAULT_FILE)
    diff.add_argument("--format", choices=("text", "markdown"), default="text")
    diff.add_argument("--env", metavar="NAME", default=None,
                      help="the environment to compare, for a file with environments")
    plan = commands.add_parser("summarize-plan", help="route-level summary of `terraform show -json` output")
    plan.add_argument("plan", help="the JSON file written by: terraform show -json PLANFILE > plan.json")
    plan.add_argument("--format", choices=("text", "markdown"), default="text")
    status = commands.add_parser("status", help="what each route reaches in the deployed system now (read-only)")
    status.add_argument("file", nargs="?", default=DEFAULT_FILE)
    status.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    status.add_argument("--api-id", default=None, help="the deployed API's id (default: found by name and the "
                                                       "cloudmap-routes:stack tag)")
    status.add_argument("--stack", default=None, help=f"stack name synth used (default {DEFAULT_STACK}, or the "
                                                       "environment's name)")
    status.add_argument("--env", metavar="NAME", default=None,
                        help="the environment to read (a file with environments needs one)")
    status.add_argument("--local-aws", metavar="URL", default=None,
                        help=f"read a local AWS on loopback instead of AWS (also ${LOCAL_AWS_ENV})")
    status.add_argument("--watch", metavar="SECONDS", type=float, default=None,
                        help="re-read every SECONDS and print what changed, until interrupted")
    serve = commands.add_parser("serve", help="a local gateway on 127.0.0.1 that routes like the deployed HTTP API")
    serve.add_argument("file", nargs="?", default=DEFAULT_FILE)
    serve.add_argument("--env", metavar="NAME", default=None,
                       help="the environment to serve, for a file with environments")
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
    from .terraform.synth import stack_problem
    problem = stack_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "check":
            return run_check(args.file, args.format, args.env)
        if args.command in (None, "synth"):
            file = getattr(args, "file", DEFAULT_FILE)
            out = getattr(args, "out", None) or os.environ.get("CDKTF_OUTDIR") or DEFAULT_OUT
            local = getattr(args, "local_aws", None) or os.environ.get(LOCAL_AWS_ENV) or None
            source = "--local-aws" if getattr(args, "local_aws", None) else LOCAL_AWS_ENV
            # With --state too, the S3 backend uses the same local server (plan.local_s3_backend), never AWS.
            problem = local and local_endpoint_problem(local, source)
            if problem:
                print(f"main.py: error: {problem}", file=sys.stderr)
                return 2
            return run_synth(file, out, getattr(args, "stack", None), local, getattr(args, "state", None),
                             getattr(args, "engine", "cdktf"), getattr(args, "env", None),
                             imports_file=getattr(args, "imports", None))
        if args.command == "import":
            local = args.local_aws or os.environ.get(LOCAL_AWS_ENV) or None
            problem = local and local_endpoint_problem(local, "--local-aws" if args.local_aws else LOCAL_AWS_ENV)
            if problem:
                print(f"main.py: error: {problem}", file=sys.stderr)
                return 2
            from .adopt import run_import  # boto3 loads here, never for check
            return run_import(args.api_id, args.output, args.region, local, args.stack, args.tag_api, args.force)
        if args.command == "diff":
            return run_diff(args.base, args.head, args.format, args.env)
        if args.command == "summarize-plan":
            return run_summarize_plan(args.plan, args.format)
        if args.command == "status":
            local = args.local_aws or os.environ.get(LOCAL_AWS_ENV) or None
            problem = local and local_endpoint_problem(local, "--local-aws" if args.local_aws else LOCAL_AWS_ENV)
            if problem or (args.watch is not None and args.watch <= 0):
                print(f"main.py: error: {problem or '--watch takes a number of seconds > 0'}", file=sys.stderr)
                return 2
            from .live.status import run_status  # boto3 loads here, never for check
            return run_status(args.file, args.format, args.api_id, args.stack or args.env or DEFAULT_STACK, local,
                              args.watch, environment=args.env)
        if args.command == "serve":
            problem = args.cloud_map not in (None, "aws") and local_endpoint_problem(args.cloud_map, "--cloud-map")
            if problem or not 0 <= args.port <= 65535 or args.attribute_lag < 0:
                print(f"main.py: error: {problem or 'expected --port 0-65535 and --attribute-lag >= 0'}",
                      file=sys.stderr)
                return 2
            from .live.gateway import run_serve  # aiohttp loads here, never for check
            return run_serve(args.file, args.port, args.cloud_map, args.attribute_lag, args.env)
    except KeyboardInterrupt:
        return 130
    return 2


def run_check(file: str, fmt: str, environments: Sequence[str] | None = None) -> int:
    stacks, diagnostics = compile_stacks(file, environments)
    if fmt == "json":
        print(render_json(diagnostics))
    elif diagnostics:
        print(render_text(diagnostics), file=sys.stderr)
    if has_errors(diagnostics):
        return 1
    if fmt == "text":
        model = stacks[0][1]
        named = [name for name, _ in stacks if name]
        where = f"; environment(s) {', '.join(named)}" if named else ""
        print(f"{file}: ok ({len(model.routes)} route(s), {len(model.services)} service(s){where})", file=sys.stderr)
    return 0


def info(text: str) -> None:
    """An informational line (what synth wrote, warnings). On stderr, like every diagnostic, except when the cdktf
    CLI runs us (it sets CDKTF_CONTEXT_JSON): it shows whatever arrives on stderr as [ERROR], so stdout then."""
    print(text, file=sys.stdout if CDKTF_CONTEXT_ENV in os.environ else sys.stderr, flush=True)


def run_diff(base_spec: str, head_spec: str, fmt: str, environment: str | None = None) -> int:
    from .core.text import visible
    from .review.diff import diff_models
    from .review.render import render
    from .review.versions import UsageError, compile_version
    models = []
    for spec in (base_spec, head_spec):
        try:
            model, diagnostics = compile_version(spec, environment)
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
    from .core.text import visible
    from .review.planfile import PlanError, load_plan, summarize_plan
    from .review.render import render
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


def run_synth(file: str, out: str, stack: str | None = None, local_endpoint: str | None = None,
              state: str | None = None, engine: str = "cdktf", environments: Sequence[str] | None = None,
              imports_file: str | None = None) -> int:
    """Synthesize the file's stack (named `stack`), or one stack per environment (those named, or all)."""
    problem = (local_endpoint and local_endpoint_problem(local_endpoint)) or (state and state_problem(state))
    if problem:
        print(f"main.py: error: {problem}", file=sys.stderr)
        return 2
    imports: list[tuple[str, str]] = []
    if imports_file:
        from .adopt import ImportsFileError, read_imports
        try:
            imports = read_imports(imports_file)
        except ImportsFileError as exc:
            print(f"main.py: error: {exc}; {out} left as it was", file=sys.stderr)
            return 1
    stacks, diagnostics = compile_stacks(file, environments)
    if diagnostics:
        if has_errors(diagnostics):
            print(render_text(diagnostics), file=sys.stderr)
        else:
            info(render_text(diagnostics))
    if stacks is None:
        print(f"{file}: not synthesized; {out} left as it was", file=sys.stderr)
        return 1
    names = [name for name, _ in stacks if name]
    problem = ""
    if stack and names:
        problem = (f"--stack {stack}: {file} declares environments ({', '.join(names)}); each is its own stack, "
                   "named after it: choose them with --env")
    elif state and len(names) > 1:
        problem = (f"--state names one state file, and {file} has {len(names)} environments ({', '.join(names)}): "
                   "give each its own `state:` in the file, or synthesize one with --env")
    if problem:
        print(f"main.py: error: {problem}", file=sys.stderr)
        return 2
    from .terraform.bindings import BindingsError
    from .terraform.plan import ImportsError
    from .terraform.synth import (  # jsii loads only when the cdktf engine runs
        OutputError,
        Terminated,
        synthesize_stacks,
    )
    try:
        paths = synthesize_stacks([(name or stack or DEFAULT_STACK, model) for name, model in stacks], out,
                                  local_endpoint, state, engine, imports)
    except ImportsError as exc:
        problems = "".join(f"\n  {line}" for line in str(exc).splitlines())
        print(f"main.py: error: {imports_file}: the import blocks do not fit the stack:{problems}\n"
              f"{out} left as it was", file=sys.stderr)
        return 1
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
    for path in paths:
        info(f"wrote {path}")
    return 0
