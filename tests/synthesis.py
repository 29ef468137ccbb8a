"""Helpers for tests that synthesize, in-process.

Tests whose subject is not CDKTF use the direct engine (the same bytes, without jsii: see
tests/test_engine_parity.py); `engine="cdktf"` runs CDKTF, with one jsii runtime for the whole pytest session.
"""

from __future__ import annotations

import json
import pathlib
import tempfile

from compiler.core.diagnostics import render_text
from compiler.language import compile_stacks_text, compile_text
from compiler.terraform.direct import write_direct
from compiler.terraform.plan import build
from compiler.terraform.synth import synth_plan

WRITERS = {"direct": write_direct, "cdktf": synth_plan}  # (plan, outdir, stack) -> None


def model_of(text: str, environment: str | None = None):
    """The model of a routes.yaml text; of a file with environments, of `environment` (default: the first one)."""
    if environment is None:
        stacks, diagnostics = compile_stacks_text(text)
        assert stacks is not None, render_text(diagnostics)
        return stacks[0][1]
    model, diagnostics = compile_text(text, environment=environment)
    assert model is not None, render_text(diagnostics)
    return model


def synth_text(text: str, local_endpoint: str | None = None, stack: str | None = None, state: str | None = None,
               engine: str = "direct", environment: str | None = None) -> str:
    """routes.yaml text -> the bytes of cdk.tf.json (of one environment's stack, named after it)."""
    stack = stack or environment or "routes"
    with tempfile.TemporaryDirectory() as out:
        WRITERS[engine](build(model_of(text, environment), local_endpoint, state, stack), out, stack)
        return (pathlib.Path(out) / "stacks" / stack / "cdk.tf.json").read_text(encoding="utf-8")


def synth_json(text: str, **kwargs) -> dict:
    return json.loads(synth_text(text, **kwargs))


def resources(doc: dict) -> dict[str, dict]:
    """address -> arguments, without cdktf's metadata comments."""
    out = {}
    for kind, blocks in doc.get("resource", {}).items():
        for name, args in blocks.items():
            out[f"{kind}.{name}"] = {k: v for k, v in args.items() if k != "//"}
    return out


def reverse_routes(text: str) -> str:
    """The same file with its routes in reverse order (routes are the last top-level key in our files)."""
    import yaml
    head, _, routes = text.partition("\nroutes:\n")
    items = yaml.safe_load("routes:\n" + routes)["routes"]
    return head + "\nroutes:\n" + yaml.safe_dump(list(reversed(items)), sort_keys=False)
