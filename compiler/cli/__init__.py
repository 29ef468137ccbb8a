"""The command line: a thin shell over the pipeline. Diagnostics go to stderr, data to stdout.

Each subcommand lives in its own module (check, synth, review, live, adopt): `add_*` declares its arguments and
sets `run`, which returns the exit code (cli.common lists them). `check`, `diff` and `summarize-plan` never
import cdktf/jsii; only `synth` with the cdktf engine (and the bare `python main.py` that `cdktf synth` runs) does.
"""

from __future__ import annotations

import argparse
from typing import Sequence

from . import adopt, check, graph, live, review, synth
from .common import INTERRUPTED, PROG

COMMANDS = (check.add_check, synth.add_synth, adopt.add_import, review.add_diff, review.add_summarize_plan,
            live.add_status, live.add_serve, graph.add_graph)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog=PROG, description="Compile routes.yaml into Terraform JSON "
                                  "(API Gateway HTTP API -> VPC link -> Cloud Map).")
    commands = top.add_subparsers(dest="command")
    for add in COMMANDS:
        add(commands)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    run = getattr(args, "run", synth.synth_command)  # no subcommand: synth routes.yaml, as `cdktf synth` asks
    try:
        return run(args)
    except KeyboardInterrupt:
        return INTERRUPTED
