"""Stage 7: constructs -> Terraform JSON on disk, atomically.

The app synthesizes into a fresh temporary directory beside the target, then swaps it into place: a crash
or an error leaves the previous output untouched, and the target is never half-written. Terraform's working
files (.terraform, the lock file) are carried over from the previous output so `terraform plan` does not
need a fresh `init` after every synth.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile

from .model import Model
from .plan import ResourcePlan, build

KEEP = (".terraform", ".terraform.lock.hcl")


def synthesize(model: Model, out: str, stack: str = "routes", local_endpoint: str | None = None,
               state: str | None = None) -> str:
    """Write <out>/stacks/<stack>/cdk.tf.json (and cdktf's manifest); return the JSON file's path.

    `state` is None (a local state file beside routes.yaml) or s3://BUCKET/KEY.
    """
    plan = build(model, local_endpoint, state)
    out = os.path.abspath(out)
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".synth-", dir=parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it private; the output is an ordinary directory
    try:
        synth_plan(plan, staging, stack)
        _carry_over(os.path.join(out, "stacks", stack), os.path.join(staging, "stacks", stack))
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return os.path.join(out, "stacks", stack, "cdk.tf.json")


def synth_plan(plan: ResourcePlan, outdir: str, stack: str) -> None:
    from .emit import RoutesStack, cdktf

    # Construction allocates many short-lived jsii proxies and no cycles worth collecting mid-way.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        app = cdktf.App(outdir=outdir, skip_validation=False)
        RoutesStack(app, stack, plan)
        app.synth()
    finally:
        if gc_was_enabled:
            gc.enable()


def _carry_over(old_stack: str, new_stack: str) -> None:
    for name in KEEP:
        source = os.path.join(old_stack, name)
        if os.path.exists(source):
            os.rename(source, os.path.join(new_stack, name))


def _swap(staging: str, out: str) -> None:
    if os.path.exists(out):
        retired = out + ".old"
        shutil.rmtree(retired, ignore_errors=True)
        os.rename(out, retired)
        os.rename(staging, out)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.rename(staging, out)
