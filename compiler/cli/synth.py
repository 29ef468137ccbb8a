"""`synth`: write cdktf.out/stacks/<stack>/cdk.tf.json (one stack per environment), swapping it in whole."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from ..core.diagnostics import has_errors
from ..language import compile_stacks
from .common import (
    DEFAULT_FILE,
    DEFAULT_OUT,
    DEFAULT_STACK,
    INVALID,
    OK,
    TERMINATED,
    USAGE,
    add_command,
    error,
    info,
    local_aws,
    local_endpoint_problem,
    report,
    strict_failure,
)
from .version import DEFAULT_ENGINE


def add_synth(commands) -> None:
    synth = add_command(
        commands, "synth", "write cdktf.out/stacks/<stack>/cdk.tf.json",
        "Compile FILE into Terraform JSON, one stack per environment (cdktf.out/stacks/<stack>/cdk.tf.json), "
        "swapping the output directory in whole: the previous output stays until the new one is complete, and a "
        "directory synth did not create is never replaced. The direct engine writes it (the default); --engine "
        "cdktf runs the CDKTF constructs instead, byte for byte the same, which is what cdktf.json's app asks for "
        "(`cdktf synth` and `cdktf deploy` run it).",
        ((OK, "written"), (INVALID, "FILE is invalid, or the output could not be written; the previous output is "
                                    "left as it was"),
         (USAGE, "a bad argument, or --out is not synth's to replace; nothing touched")),
        strict="FILE's warnings leave the output as it was")
    synth.add_argument("file", nargs="?", default=DEFAULT_FILE, metavar="FILE",
                       help="the routes.yaml to compile (default routes.yaml)")
    synth.add_argument("--out", default=None, help=f"output directory (default $CDKTF_OUTDIR or {DEFAULT_OUT})")
    synth.add_argument("--stack", default=None, type=stack_name,
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
                       help="opt-in: point every AWS endpoint at a local emulator on loopback (e.g. moto's server) "
                            "with test credentials; also $CLOUDMAP_ROUTES_LOCAL_AWS")
    synth.add_argument("--engine", choices=("direct", "cdktf"), default=DEFAULT_ENGINE,
                       help="direct (default): plain Python writes the files, without Node or jsii; cdktf: the "
                            "CDKTF constructs write the same bytes (needs the cdktf extra). `cdktf synth` and "
                            "`cdktf deploy` run cdktf.json's app, which asks for --engine cdktf explicitly")
    synth.add_argument("--imports", metavar="FILE", default=None,
                       help="Terraform import blocks to put in the stack (the *.imports.tf.json `import` writes): "
                            "the first plan adopts those resources instead of creating them")
    synth.set_defaults(run=synth_command)


def stack_name(value: str) -> str:
    """argparse type for synth's --stack: the name becomes a directory and part of the state file's name."""
    from ..terraform.synth import stack_problem
    problem = stack_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def synth_command(args) -> int:
    """`synth`, or no subcommand at all (what `cdktf synth` runs: `python main.py`)."""
    file = getattr(args, "file", DEFAULT_FILE)
    out = getattr(args, "out", None) or os.environ.get("CDKTF_OUTDIR") or DEFAULT_OUT
    # With --state too, the S3 backend uses the same local server (plan.local_s3_backend), never AWS.
    local, problem = local_aws(getattr(args, "local_aws", None))
    if problem:
        error(problem)
        return USAGE
    return run_synth(file, out, getattr(args, "stack", None), local, getattr(args, "state", None),
                     getattr(args, "engine", "cdktf"), getattr(args, "env", None),
                     imports_file=getattr(args, "imports", None), strict=getattr(args, "strict", False))


def state_problem(state: str) -> str:
    """--state s3://BUCKET/KEY: a bucket name S3 accepts and a key of S3's safe characters.

    Both go verbatim into the Terraform JSON backend block, so nothing in them may read as an interpolation.
    """
    from ..language.arns import bucket_problem, state_key_problem
    usage = f"--state {state!r}: expected s3://BUCKET/KEY, e.g. s3://my-tf-state/routes/raft-api.tfstate"
    bucket, slash, key = state.removeprefix("s3://").partition("/")
    if not state.startswith("s3://") or not slash or not key:
        return usage
    problem = bucket_problem(bucket) or state_key_problem(key)
    return f"{usage}; {problem}" if problem else ""


def missing_cdktf() -> str:
    """Why --engine cdktf cannot run here, or "": the CDKTF packages are an extra (the provider bindings alone are
    hundreds of MB, and the direct engine writes the same bytes without them)."""
    import importlib.util

    absent = [name for name in ("cdktf", "constructs", "cdktf_cdktf_provider_aws") if importlib.util.find_spec(name) is None]
    if not absent:
        return ""
    return (f"--engine cdktf needs the CDKTF packages ({', '.join(absent)} missing): pip install "
            f"'cloudmap-routes[cdktf]', or use the default direct engine (the same bytes)")


def run_synth(file: str, out: str, stack: str | None = None, local_endpoint: str | None = None,
              state: str | None = None, engine: str = "cdktf", environments: Sequence[str] | None = None,
              imports_file: str | None = None, strict: bool = False) -> int:
    """Synthesize the file's stack (named `stack`), or one stack per environment (those named, or all)."""
    problem = ((local_endpoint and local_endpoint_problem(local_endpoint)) or (state and state_problem(state))
               or (engine == "cdktf" and missing_cdktf()))
    if problem:
        error(problem)
        return USAGE
    imports = _imports(imports_file, out)
    if imports is None:
        return INVALID
    stacks, diagnostics = compile_stacks(file, environments)
    if diagnostics:
        report(diagnostics, to_info=not has_errors(diagnostics))  # warnings: what the cdktf CLI shows as info
    if stacks is None:
        print(f"{file}: not synthesized; {out} left as it was", file=sys.stderr)
        return INVALID
    if strict and diagnostics:
        strict_failure(file, len(diagnostics), f"not synthesized; {out} left as it was")
        return INVALID
    problem = _stacks_problem(file, stack, state, [name for name, _ in stacks if name])
    if problem:
        error(problem)
        return USAGE
    return _write([(name or stack or DEFAULT_STACK, model) for name, model in stacks], out, local_endpoint, state,
                  engine, imports, imports_file)


def _imports(imports_file: str | None, out: str) -> list[tuple[str, str]] | None:
    """The import blocks of --imports ([] without it), or None once the error is reported."""
    if not imports_file:
        return []
    from ..adopt import ImportsFileError, read_imports
    try:
        return read_imports(imports_file)
    except ImportsFileError as exc:
        error(f"{exc}; {out} left as it was")
        return None


def _stacks_problem(file: str, stack: str | None, state: str | None, names: list[str]) -> str:
    if stack and names:
        return (f"--stack {stack}: {file} declares environments ({', '.join(names)}); each is its own stack, "
                "named after it: choose them with --env")
    if state and len(names) > 1:
        return (f"--state names one state file, and {file} has {len(names)} environments ({', '.join(names)}): "
                "give each its own `state:` in the file, or synthesize one with --env")
    return ""


def _write(stacks, out: str, local_endpoint: str | None, state: str | None, engine: str,
           imports: list[tuple[str, str]], imports_file: str | None) -> int:
    from ..terraform.bindings import BindingsError
    from ..terraform.plan import ImportsError
    from ..terraform.synth import OutputError, Terminated, synthesize_stacks  # jsii loads only for the cdktf engine
    try:
        paths = synthesize_stacks(stacks, out, local_endpoint, state, engine, imports)
    except ImportsError as exc:
        problems = "".join(f"\n  {line}" for line in str(exc).splitlines())
        error(f"{imports_file}: the import blocks do not fit the stack:{problems}\n"
              f"{out} left as it was")
        return INVALID
    except BindingsError as exc:
        error(f"{exc}; {out} left as it was")
        return INVALID
    except OutputError as exc:  # --out is not synth's to replace, or a bad stack name: nothing was touched
        error(str(exc))
        return USAGE
    except Terminated as exc:
        error(str(exc))
        return TERMINATED  # 128 + SIGTERM, as a shell reports a process SIGTERM ended
    except OSError as exc:
        error(f"cannot write {out}: {exc}; {out} left as it was")
        return INVALID
    for path in paths:
        info(f"wrote {path}")
    return OK
