"""One synth in a process, with one technique switched, so the benchmark can show what each buys.

    python -m benchmarks.variant {light,full-import,gc-on,os-exit} routes.yaml OUTDIR
"""

from __future__ import annotations

import gc
import os
import sys


def main(variant: str, file: str, out: str) -> int:
    if variant == "full-import":
        import cdktf_cdktf_provider_aws  # noqa: F401  what a plain CDKTF app does: the package root, ~2,200 modules
    if variant == "gc-on":
        gc.disable = lambda: None  # keep the collector running during construction
    from compiler.language import compile_file
    from compiler.terraform.synth import synthesize
    model, _ = compile_file(file)
    synthesize(model, out)
    if variant == "os-exit":  # skip interpreter teardown once the output is safely on disk
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
