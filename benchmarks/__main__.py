"""Benchmarks: whole-process wall time and peak memory of check and synth (both engines) as routes grow.

    python -m benchmarks [--runs N] [--out BENCHMARKS.md]     (make bench)

Every figure is a median over N runs of a fresh process, as a user runs the tool. Peak RSS is each process's own
high-water mark (VmHWM), sampled for the Python process and the Node process jsii starts; a process without
children reports its exact peak (the kernel's ru_maxrss). The JSON floor is a process that only writes the
finished document (benchmarks/floor.py); each engine is reported as a multiple of it, measured in the same run.
"""

from __future__ import annotations

import argparse
import compileall
import os
import pathlib
import pickle
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from .generate import routes_yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
SIZES = (10, 100, 300, 1000, 10000)  # 10,000 routes: 570 KB, under the 1 MiB limit; refused by the route quota
WARNED = "300w"  # 300 routes, one of them warned about (W404): a diagnostic must not cost a second read
ENGINE_SIZES = ("bundled", 100, 300)  # where both engines are compared with the JSON floor
# The bindings synth imports: the jsii floor is a process that imports exactly these and starts jsii, nothing else.
JSII_FLOOR = ("from compiler.terraform.bindings import resource_class; import cdktf; "
         "[resource_class(t) for t in ('provider', 'aws_apigatewayv2_api', 'aws_apigatewayv2_stage', "
         "'aws_apigatewayv2_route', 'aws_apigatewayv2_integration', 'aws_apigatewayv2_vpc_link', "
         "'aws_apigatewayv2_authorizer', 'aws_cloudwatch_log_group', 'aws_service_discovery_service', "
         "'aws_service_discovery_private_dns_namespace')]")
TARGETS = {  # issue 11: the direct engine's budget, and the CDKTF engine no slower than before it
    "check 300 routes": 0.3,
    # issue 18: an untrusted file costs CI about a second at most; a warning costs no second read
    "check 10000 routes (refused)": 1.0, "check 300 routes, one warning / clean": 1.2,
    "direct synth bundled": 0.12, "direct synth 300 routes": 0.2, "direct synth: Python peak MB": 40.0,
    "direct / JSON floor at 300 routes": 5.0,
    "cdktf synth bundled": 1.9, "cdktf synth 300 routes": 3.0, "cdktf per-route synth ms": 5.0,
    "cdktf synth: Python peak MB": 200.0,
}
UNITS = {"check 300 routes, one warning / clean": "x", "direct synth: Python peak MB": " MB", "cdktf synth: Python peak MB": " MB", "cdktf per-route synth ms": " ms",
         "direct / JSON floor at 300 routes": "x"}


@dataclass
class Run:
    seconds: float
    returncode: int
    python_mb: float
    node_mb: float
    cpu: float = 0.0  # user + system seconds of the process and the children it waited for (node)


def measure(argv: list[str]) -> Run:
    """Run a process to completion: its wall time to the moment it exits, and the peak RSS of it and its
    children (sampled every 5 ms by a thread, so the clock stops when the process does, not at a poll)."""
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as a user runs it: modules load from their cached bytecode
    peaks: dict[str, int] = {}
    done = threading.Event()
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def sample() -> None:
        while not done.is_set():
            for pid in _tree(process.pid):
                name, hwm = _status(pid)
                if name:
                    kind = "node" if name.startswith("node") else "python"
                    peaks[kind] = max(peaks.get(kind, 0), hwm)
            done.wait(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if "node" not in peaks:  # no child process: the kernel's figure is exact (a sample can miss the last ms)
        peaks["python"] = max(peaks.get("python", 0), usage.ru_maxrss)
    return Run(seconds, process.returncode, peaks.get("python", 0) / 1024, peaks.get("node", 0) / 1024,
               usage.ru_utime + usage.ru_stime)


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
    run = Run(pick("seconds"), results[0].returncode, pick("python_mb"), pick("node_mb"), pick("cpu"))
    return run, [r.returncode for r in results]


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
    rows, figures, engines = [], {}, []
    load_before = os.getloadavg()[0]
    compileall.compile_dir(str(ROOT / "compiler"), quiet=1)  # no run pays for compiling a module it imports
    try:
        files = {n: work / f"routes-{n}.yaml" for n in SIZES}
        for n, path in files.items():
            path.write_text(routes_yaml(n))
        files["bundled"] = ROOT / "routes.yaml"
        files[WARNED] = work / "routes-300-warned.yaml"
        files[WARNED].write_text(routes_yaml(300, warnings=1))
        for label in ("bundled", *SIZES[:3], WARNED, *SIZES[3:]):
            path = files[label]
            check, _ = median([python, "main.py", "check", str(path)], args.runs)
            direct, _ = median([python, "main.py", "synth", str(path), "--engine", "direct", "--out",
                                str(work / "out")], args.runs)
            cdktf, _ = median([python, "main.py", "synth", str(path), "--engine", "cdktf", "--out", str(work / "out")],
                              max(3, args.runs // 2))
            refused = check.returncode == 1
            name = {"bundled": "bundled (3 routes)", WARNED: "300 routes, one warning"}.get(label, f"{label} routes")
            rows.append((name, check, direct, cdktf, refused))
            figures[f"check {label}"], figures[f"direct {label}"], figures[f"cdktf {label}"] = check, direct, cdktf
            print(f"{label:>8}: check {check.seconds:.3f}s  direct {direct.seconds:.3f}s {direct.python_mb:.0f} MB  "
                  f"cdktf {cdktf.seconds:.2f}s python {cdktf.python_mb:.0f} MB node {cdktf.node_mb:.0f} MB"
                  f"{'  (refused: over the 300-route quota)' if refused else ''}", file=sys.stderr)
        for label in ENGINE_SIZES:
            floor, _ = median([python, str(ROOT / "benchmarks" / "floor.py"), str(_pickled(files[label], work)),
                               str(work / "floor.json")], args.runs)
            engines.append((label, floor, figures[f"direct {label}"], figures[f"cdktf {label}"]))
            figures[f"floor {label}"] = floor
            print(f"{label:>8}: JSON floor {floor.seconds:.3f}s", file=sys.stderr)
        jsii_floor, _ = median([python, "-c", JSII_FLOOR], max(3, args.runs // 2))
        variants = {}
        for variant in ("light", "gc-on", "os-exit", "full-import"):
            runs = 3 if variant != "full-import" else 2
            variants[variant], _ = median([python, "-m", "benchmarks.variant", variant, str(files[300]),
                                           str(work / "variant")], runs)
            print(f"variant {variant}: {variants[variant].seconds:.2f}s", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    per_route_ms = (figures["cdktf 300"].seconds - figures["cdktf 10"].seconds) / 290 * 1000
    measured = {
        "check 300 routes": figures["check 300"].seconds,
        "check 10000 routes (refused)": figures["check 10000"].seconds,
        "check 300 routes, one warning / clean": figures[f"check {WARNED}"].seconds / figures["check 300"].seconds,
        "direct synth bundled": figures["direct bundled"].seconds,
        "direct synth 300 routes": figures["direct 300"].seconds,
        "direct synth: Python peak MB": max(figures[f"direct {n}"].python_mb for n in ("bundled", 10, 100, 300)),
        "direct / JSON floor at 300 routes": figures["direct 300"].seconds / figures["floor 300"].seconds,
        "cdktf synth bundled": figures["cdktf bundled"].seconds,
        "cdktf synth 300 routes": figures["cdktf 300"].seconds,
        "cdktf per-route synth ms": per_route_ms,
        "cdktf synth: Python peak MB": max(figures[f"cdktf {n}"].python_mb for n in ("bundled", 10, 100, 300)),
    }
    load = (load_before, os.getloadavg()[0])
    pathlib.Path(args.out).write_text(render(rows, engines, jsii_floor, variants, measured, args.runs, load))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0 if all(measured[k] < TARGETS[k] for k in TARGETS) else 1


def _pickled(routes: pathlib.Path, work: pathlib.Path) -> pathlib.Path:
    """The finished document the direct engine serializes for this file, pickled for the JSON floor."""
    from compiler.language import compile_file
    from compiler.terraform.direct import document
    from compiler.terraform.plan import build
    model, _ = compile_file(str(routes))
    path = work / f"{routes.stem}.pickle"
    path.write_bytes(pickle.dumps(document(build(model), "routes")))
    return path


def render(rows, engines, jsii_floor: Run, variants: dict[str, Run], measured: dict[str, float], runs: int,
           load: tuple[float, float]) -> str:
    out = ["# Benchmarks", "",
           f"Produced by `make bench` (`python -m benchmarks --runs {runs}`) on {time.strftime('%Y-%m-%d')}; "
           "do not edit by hand.", "", f"Machine: {machine()}. Load average (1 min) when the run started: "
           f"{load[0]:.1f}, when it ended: {load[1]:.1f}; figures are only comparable on a quiet machine.", "",
           "Whole processes as a user runs them, medians; peak RSS is each process's own high-water mark. "
           "`synth --engine direct` writes the same bytes as the default CDKTF engine (tests/test_engine_parity.py) "
           "without Node.", "",
           "| input | check | synth, direct | direct: Python peak | synth, cdktf | cdktf: Python peak "
           "| cdktf: Node peak | note |", "|---|---|---|---|---|---|---|---|"]
    for label, check, direct, cdktf, refused in rows:
        note = "refused by the 300-route quota (exit 1): the time is the refusal" if refused else ""
        out.append(f"| {label} | {check.seconds * 1000:.0f} ms | {direct.seconds * 1000:.0f} ms | "
                   f"{direct.python_mb:.0f} MB | {cdktf.seconds:.2f} s | {cdktf.python_mb:.0f} MB | "
                   f"{cdktf.node_mb:.0f} MB | {note} |")
    out += ["", "## Both engines against the JSON floor", "",
            "The JSON floor is a process that only writes the finished document (`benchmarks/floor.py`: start Python, "
            "unpickle the dict, `json.dumps` it); measured in the same run.", "",
            "CPU is user + system time (for cdktf, the Node process's too), less sensitive to other load than wall "
            "time.", "",
            "| input | JSON floor | direct | direct / floor | cdktf | cdktf / floor | CPU: floor | CPU: direct "
            "| CPU: cdktf |", "|---|---|---|---|---|---|---|---|---|"]
    for label, floor, direct, cdktf in engines:
        name = "bundled (3 routes)" if label == "bundled" else f"{label} routes"
        out.append(f"| {name} | {floor.seconds * 1000:.0f} ms | {direct.seconds * 1000:.0f} ms | "
                   f"{direct.seconds / floor.seconds:.1f}x | {cdktf.seconds:.2f} s | "
                   f"{cdktf.seconds / floor.seconds:.0f}x | {floor.cpu * 1000:.0f} ms | {direct.cpu * 1000:.0f} ms | "
                   f"{cdktf.cpu:.2f} s |")
    out += ["", "jsii floor (a process that imports only the bindings the CDKTF engine uses and starts jsii): "
            f"**{jsii_floor.seconds:.2f} s**, Python {jsii_floor.python_mb:.0f} MB, Node {jsii_floor.node_mb:.0f} MB.",
            "",
            "## Targets", "", "| target | limit | measured | met |", "|---|---|---|---|"]
    for key, limit in TARGETS.items():
        unit = UNITS.get(key, " s")
        value = measured[key]
        out.append(f"| {key} | < {limit:g}{unit} | {value:.3g}{unit} | {'yes' if value < limit else '**no**'} |")
    light = variants["light"].seconds
    out += ["", "## What each technique buys (CDKTF engine, synth of 300 routes)", "",
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
