"""`check`: validate routes.yaml (every environment) without synthesizing; never loads jsii."""

from __future__ import annotations

from typing import Sequence

from ..core.diagnostics import has_errors, render_json
from ..language import compile_stacks
from .common import DEFAULT_FILE, INVALID, OK, USAGE, add_command, info, report, strict_failure


def add_check(commands) -> None:
    check = add_command(
        commands, "check", "validate routes.yaml without synthesizing (fast, no jsii)",
        "Validate FILE (every environment, or those named) as synth would, without writing anything: each problem "
        "with its file, line, column, stable code and how to fix it. Warnings do not fail the check unless "
        "--strict.",
        ((OK, "valid (warnings allowed, unless --strict)"), (INVALID, "errors (or, with --strict, warnings)"),
         (USAGE, "a bad argument")), strict="for CI")
    check.add_argument("file", nargs="?", default=DEFAULT_FILE, metavar="FILE",
                       help="the routes.yaml to validate (default routes.yaml)")
    check.add_argument("--env", action="append", metavar="NAME", default=None,
                       help="check only this environment (repeatable; default: every environment)")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="text (default): diagnostics on stderr; json: the diagnostics as a JSON list on "
                            "stdout, for editors and CI annotations")
    check.set_defaults(run=lambda args: run_check(args.file, args.format, args.env, args.strict))


def run_check(file: str, fmt: str, environments: Sequence[str] | None = None, strict: bool = False) -> int:
    stacks, diagnostics = compile_stacks(file, environments)
    if fmt == "json":
        print(render_json(diagnostics))
    elif diagnostics:
        report(diagnostics)
    if has_errors(diagnostics):
        return INVALID
    if strict and diagnostics:
        if fmt == "text":
            strict_failure(file, len(diagnostics), "not ok")
        return INVALID
    if fmt == "text":
        model = stacks[0][1]
        named = [name for name, _ in stacks if name]
        where = f"; environment(s) {', '.join(named)}" if named else ""
        info(f"{file}: ok ({len(model.routes)} route(s), {len(model.services)} service(s){where})")
    return OK
