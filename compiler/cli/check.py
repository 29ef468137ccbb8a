"""`check`: validate routes.yaml (every environment) without synthesizing; never loads jsii."""

from __future__ import annotations

import sys
from typing import Sequence

from ..core.diagnostics import has_errors, render_json, render_text
from ..language import compile_stacks
from .common import DEFAULT_FILE, INVALID, OK


def add_check(commands) -> None:
    check = commands.add_parser("check", help="validate routes.yaml without synthesizing (fast, no jsii)")
    check.add_argument("file", nargs="?", default=DEFAULT_FILE)
    check.add_argument("--env", action="append", metavar="NAME", default=None,
                       help="check only this environment (repeatable; default: every environment)")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="json prints the diagnostics on stdout for editors and CI annotations")
    check.set_defaults(run=lambda args: run_check(args.file, args.format, args.env))


def run_check(file: str, fmt: str, environments: Sequence[str] | None = None) -> int:
    stacks, diagnostics = compile_stacks(file, environments)
    if fmt == "json":
        print(render_json(diagnostics))
    elif diagnostics:
        print(render_text(diagnostics), file=sys.stderr)
    if has_errors(diagnostics):
        return INVALID
    if fmt == "text":
        model = stacks[0][1]
        named = [name for name, _ in stacks if name]
        where = f"; environment(s) {', '.join(named)}" if named else ""
        print(f"{file}: ok ({len(model.routes)} route(s), {len(model.services)} service(s){where})", file=sys.stderr)
    return OK
