"""`import`: write routes.yaml and Terraform import blocks for an HTTP API built by hand (compiler.adopt).

compiler.adopt reads AWS and returns the two files' text (or raises Refused); this module alone prints, writes the
files and picks the exit code: 0 written; 1 refused (nothing written); 2 AWS could not be read, or a file is in
the way (it exists without --force, or it is a link or not a regular file). Both files are written whole or not at
all (compiler.core.files.Staged): each is staged beside its final name first, and put in place by one rename.
"""

from __future__ import annotations

import os
import sys

from ..core.progress import Progress
from ..core.text import visible
from .common import (
    DEFAULT_STACK,
    INVALID,
    OK,
    USAGE,
    Run,
    add_command,
    error,
    info,
    local_aws,
    prog,
    report,
    strict_failure,
)
from .synth import stack_name


def add_import(commands) -> None:
    adopt = add_command(
        commands, "import", "write routes.yaml and Terraform import blocks for an HTTP API built by hand (reads AWS; "
                            "writes nothing there unless --tag-api)",
        "Read the HTTP API --api-id and what it reaches (VPC link, Cloud Map services and instances, authorizers, "
        "stages, domains, logs) and write --output, the routes.yaml that describes it, with Terraform import blocks "
        "beside it, so that the first plan adopts those resources instead of creating them. Both files are written "
        "whole or not at all; what routes.yaml cannot express is refused with every reason.",
        ((OK, "both files written"), (INVALID, "refused: routes.yaml cannot express the setup (or, with --strict, "
                                               "it has warnings); nothing written"),
         (USAGE, "a bad argument, AWS could not be read, or a file is in the way; nothing written")),
        strict="the routes.yaml written would have warnings: nothing is written or tagged")
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
    adopt.add_argument("--force", action="store_true",
                       help="replace the output files if they exist (never through a symbolic link)")
    adopt.set_defaults(run=import_command)


def imports_path(output: str) -> str:
    """Where the import blocks go: `<name>.imports.tf.json` beside the routes.yaml."""
    base = os.path.splitext(os.path.basename(output))[0]
    return os.path.join(os.path.dirname(output), base + ".imports.tf.json")


def import_command(args) -> int:
    local, problem = local_aws(args.local_aws)
    if problem:
        error(problem)
        return USAGE
    return run_import(args.api_id, args.output, args.region, local, args.stack, args.tag_api, args.force,
                      args.strict)


def run_import(api_id: str, output: str, region: str | None, local: str | None, stack: str, tag: bool,
               force: bool, strict: bool = False) -> int:
    from botocore.exceptions import BotoCoreError, ClientError  # boto3 loads here, never for check

    from ..adopt import Refused, adopt, clients, tag_api
    from ..core.files import write_problem
    paths = (output, imports_path(output))
    problems = [p for p in (write_problem(path, force) for path in paths) if p]
    if problems:
        for problem in problems:
            error(problem)
        return USAGE
    try:
        c = clients(region, local)
        progress = Progress(sys.stderr, quiet=Run.quiet, terminal_only=True)
        with progress.step(f"reading API {visible(api_id)}", unit="AWS calls") as step:
            _count_calls(c, step)
            adoption = adopt(c, api_id, output, stack, tag)
        if strict and adoption.diagnostics:
            report(adoption.diagnostics)
            strict_failure(output, len(adoption.diagnostics), "nothing written")
            return INVALID
        if tag:  # only once the setup is known to be expressible: a refusal writes nothing anywhere
            tag_api(c, api_id, stack)
    except Refused as exc:
        _refused(api_id, exc.reasons)
        return INVALID
    except (BotoCoreError, ClientError) as exc:
        error(f"cannot read API {api_id}: {exc}")
        return USAGE
    written = _write(dict(zip(paths, (adoption.text, adoption.imports_json()))), force)
    if written:
        error(written)
        return USAGE
    _report(adoption, output, paths[1], stack)
    return OK


def _count_calls(c, step) -> None:
    """Every AWS call the import makes advances the progress line (botocore's after-call event, on each client)."""
    for client in vars(c).values():  # the Clients dataclass's fields (or a test's stand-in with none)
        if hasattr(client, "meta"):
            client.meta.events.register("after-call.*", lambda **kwargs: step.advance())


def _refused(api_id: str, reasons: list[str]) -> None:
    error(f"cannot adopt API {api_id}: routes.yaml cannot express what is deployed; nothing was written:")
    for reason in reasons:
        print(f"  - {reason}" if not reason.startswith((" ", "the routes.yaml")) else f"  {reason}", file=sys.stderr)


def _write(files: dict[str, str], force: bool) -> str:
    """Both files or neither: each is staged in full, then both are put in place. Returns what went wrong, or ""."""
    from ..core.files import Staged
    staged: list[Staged] = []
    done: list[str] = []
    try:
        for path, text in files.items():
            staged.append(Staged(path, text.encode("utf-8")))
        for item in staged:
            item.commit(force)
            done.append(item.path)
    except OSError as exc:
        for item in staged:
            item.discard()
        if not force:  # what this run created alone is removed again: nothing else was there before
            for path in done:
                os.unlink(path)
        return f"cannot write {exc.filename or ''}: {exc.strerror or exc}" if exc.strerror else str(exc)
    return ""


def _report(adoption, output: str, imports: str, stack: str) -> None:
    if adoption.diagnostics:
        report(adoption.diagnostics, to_info=True)
    info(f"wrote {output} and {imports} ({len(adoption.imports)} import(s))")
    if adoption.changes:
        info("the first plan also changes:")
        for item in adoption.changes:
            info(f"  - {item}")
    info(f"next: {prog()} synth {output} --imports {imports}, then terraform init and plan in cdktf.out/stacks/{stack}")
