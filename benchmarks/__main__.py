"""Benchmarks: whole-process wall time and peak memory of check and synth as routes grow.

    python -m benchmarks [--runs N] [--out BENCHMARKS.md]     (make bench)

Every figure is a median over N runs of a fresh process, as a user runs the tool. Peak RSS is each process's own
high-water mark (VmHWM), sampled for the Python process and the Node process jsii starts.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from .generate import routes_yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
SIZES = (10, 100, 300, 1000)
# The bindings synth imports: the floor is a process that imports exactly these and starts jsii, nothing else.
FLOOR = ("from compiler.bindings import resource_class; import cdktf; "
         "[resource_class(t) for t in ('provider', 'aws_apigatewayv2_api', 'aws_apigatewayv2_stage', "
         "'aws_apigatewayv2_route', 'aws_apigatewayv2_integration', 'aws_apigatewayv2_vpc_link', "
         "'aws_apigatewayv2_authorizer', 'aws_cloudwatch_log_group', 'aws_service_discovery_service', "
         "'aws_service_discovery_private_dns_namespace')]")
TARGETS = {"check 300 routes": 0.3, "synth bundled": 4.0, "synth 300 routes": 5.0, "per-route synth ms": 5.0,
           "python peak MB": 200.0}


@dataclass
class Run:
    seconds: float
    returncode: int
    python_mb: float
    node_mb: float


def measure(argv: list[str]) -> Run:
    """Run a process to completion, sampling the peak RSS of it and its children every 10 ms."""
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peaks: dict[str, int] = {}
    while process.poll() is None:
        for pid in _tree(process.pid):
            name, hwm = _status(pid)
            if name:
                kind = "node" if name.startswith("node") else "python"
                peaks[kind] = max(peaks.get(kind, 0), hwm)
        time.sleep(0.01)
    seconds = time.perf_counter() - start
    return Run(seconds, process.returncode, peaks.get("python", 0) / 1024, peaks.get("node", 0) / 1024)


def _tree(pid: int) -> list[int]:
    try:
        children = open(f"/proc/{pid}/task/{pid}/children").read().split()
    except OSError:
        return [pid]
    return [pid] + [p for child in children for p in _tree(int(child))]


def _status(pid: int) -> tuple[str, int]:
    name, hwm = "", 0
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("Name:"):
                name = line.split()[1]
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    except OSError:
        pass
    return name, hwm


def median(argv: list[str], runs: int) -> tuple[Run, list[int]]:
    results = [measure(argv) for _ in range(runs)]
    pick = lambda f: statistics.median(getattr(r, f) for r in results)  # noqa: E731
    return Run(pick("seconds"), results[0].returncode, pick("python_mb"), pick("node_mb")), [r.returncode for r in results]


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    memory = next((int(line.split()[1]) // 1024 // 1024 for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} cores ({cpu}), {memory} GiB, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, Node {node}")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args()
    python = sys.executable
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-"))
    rows, figures = [], {}
    try:
        files = {n: work / f"routes-{n}.yaml" for n in SIZES}
        for n, path in files.items():
            path.write_text(routes_yaml(n))
        files["bundled"] = ROOT / "routes.yaml"
        for label in ("bundled", *SIZES):
            path = files[label]
            check, codes = median([python, "main.py", "check", str(path)], args.runs)
            synth, _ = median([python, "main.py", "synth", str(path), "--out", str(work / "out")], max(3, args.runs // 2))
            refused = check.returncode == 1
            rows.append((f"{label} routes" if label != "bundled" else "bundled (3 routes)", check, synth, refused))
            figures[f"check {label}"], figures[f"synth {label}"] = check, synth
            print(f"{label:>8}: check {check.seconds:.3f}s  synth {synth.seconds:.2f}s  python {synth.python_mb:.0f} MB"
                  f"  node {synth.node_mb:.0f} MB{'  (refused: over the 300-route quota)' if refused else ''}",
                  file=sys.stderr)
        floor, _ = median([python, "-c", FLOOR], max(3, args.runs // 2))
        variants = {}
        for variant in ("light", "gc-on", "os-exit", "full-import"):
            runs = 3 if variant != "full-import" else 2
            variants[variant], _ = median([python, "-m", "benchmarks.variant", variant, str(files[300]),
                                           str(work / "variant")], runs)
            print(f"variant {variant}: {variants[variant].seconds:.2f}s", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    per_route_ms = (figures["synth 300"].seconds - figures["synth 10"].seconds) / 290 * 1000
    measured = {"check 300 routes": figures["check 300"].seconds, "synth bundled": figures["synth bundled"].seconds,
                "synth 300 routes": figures["synth 300"].seconds, "per-route synth ms": per_route_ms,
                "python peak MB": max(figures[f"synth {n}"].python_mb for n in ("bundled", 10, 100, 300))}
    pathlib.Path(args.out).write_text(render(rows, floor, variants, measured, args.runs))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0 if all(measured[k] < TARGETS[k] for k in TARGETS) else 1


def render(rows, floor: Run, variants: dict[str, Run], measured: dict[str, float], runs: int) -> str:
    out = ["# Benchmarks", "",
           f"Produced by `make bench` (`python -m benchmarks --runs {runs}`) on {time.strftime('%Y-%m-%d')}; "
           "do not edit by hand.", "", f"Machine: {machine()}.", "",
           "Whole processes as a user runs them, medians; peak RSS is each process's own high-water mark.", "",
           "| input | check | synth | synth: Python peak | synth: Node peak | note |", "|---|---|---|---|---|---|"]
    for label, check, synth, refused in rows:
        note = "refused by the 300-route quota (exit 1): the time is the refusal" if refused else ""
        out.append(f"| {label} | {check.seconds * 1000:.0f} ms | {synth.seconds:.2f} s | {synth.python_mb:.0f} MB | "
                   f"{synth.node_mb:.0f} MB | {note} |")
    out += ["", f"Floor (a process that imports only the bindings synth uses and starts jsii): **{floor.seconds:.2f} s**, "
            f"Python {floor.python_mb:.0f} MB, Node {floor.node_mb:.0f} MB.", "",
            "## Targets", "", "| target | limit | measured | met |", "|---|---|---|---|"]
    units = {"python peak MB": " MB", "per-route synth ms": " ms"}
    for key, limit in TARGETS.items():
        unit = units.get(key, " s")
        value = measured[key]
        out.append(f"| {key} | < {limit:g}{unit} | {value:.3g}{unit} | {'yes' if value < limit else '**no**'} |")
    light = variants["light"].seconds
    out += ["", "## What each technique buys (synth of 300 routes)", "",
            "| variant | wall | Python peak | vs. shipped |", "|---|---|---|---|"]
    names = {"light": "shipped: light bindings import + gc off during construction",
             "gc-on": "garbage collector left on during construction",
             "os-exit": "also skip interpreter teardown (os._exit after the output is written)",
             "full-import": "plain CDKTF app: import the bindings' package root (~2,200 modules)"}
    for variant, run in variants.items():
        out.append(f"| {names[variant]} | {run.seconds:.2f} s | {run.python_mb:.0f} MB | {run.seconds / light:.2f}x |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
