"""The command line: a thin shell over the pipeline. Diagnostics go to stderr, data to stdout.

Each subcommand lives in its own module (check, synth, review, live, adopt, init, local): `add_*` declares its
arguments and sets `run`, which returns the exit code (cli.common lists them). `check`, `diff` and
`summarize-plan` never import cdktf/jsii; only `synth --engine cdktf` (and the bare `python main.py` that older
cdktf.json apps run) does.

Two entry points: `main` (what `python main.py` runs; messages start `main.py:`) and `console_main` (the installed
`cloudmap-routes` script; messages start `cloudmap-routes:`). They differ in one more way: with no subcommand,
`python main.py` synthesizes routes.yaml with the cdktf engine (what `cdktf synth` asked of it before cdktf.json
named the subcommand), while `cloudmap-routes` prints its help.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from . import adopt, check, graph, init, live, local, review, synth
from .common import CONSOLE_PROG, INTERRUPTED, PROG, USAGE, configure, prog, set_prog
from .version import VersionAction

COMMANDS = (init.add_init, check.add_check, synth.add_synth, local.add_local, adopt.add_import, review.add_diff,
            review.add_summarize_plan, live.add_status, live.add_serve, graph.add_graph)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog=prog(), description="Compile routes.yaml into Terraform JSON (API Gateway HTTP API -> VPC link -> "
                                 "Cloud Map), and review, inspect and try what it deploys.",
        epilog="synth writes with the direct engine unless told --engine cdktf; cdktf.json's app (what `cdktf "
               "synth` and `cdktf deploy` run) asks for --engine cdktf explicitly. `PROG COMMAND --help` describes "
               "each command and its exit codes.".replace("PROG", prog()))
    top.add_argument("--version", action=VersionAction,
                     help="print the version, the pinned AWS provider version and the default engine, then exit")
    commands = top.add_subparsers(dest="command", metavar="COMMAND")
    for add in COMMANDS:
        add(commands)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    top = parser()
    args = top.parse_args(argv)
    configure(args)
    run = getattr(args, "run", None)
    if run is None:
        if prog() != PROG:  # the console script: a bare `cloudmap-routes` asks what it can do
            top.print_help(sys.stderr)
            return USAGE
        run = synth.synth_command  # `python main.py`: synth routes.yaml with the cdktf engine, as cdktf.json once asked
    try:
        return run(args)
    except KeyboardInterrupt:
        return INTERRUPTED


def console_main() -> int:
    """The `cloudmap-routes` console script (pyproject.toml [project.scripts])."""
    set_prog(CONSOLE_PROG)
    return main()
