"""Benchmark: the latency `main.py serve` adds per request, against calling a backend directly, on loopback.

    python -m benchmarks.serve [--rate 200] [--seconds 10] [--markdown]

Three backends (tests/backends.py) on 127.0.0.1; `serve` in front of them as a real process, once with the
static instances of a routes.yaml and once with `--cloud-map` pointed at moto's server on 127.0.0.1 (one
DiscoverInstances call per request, as API Gateway documents no cache). An open-loop load generator sends
requests at a fixed rate (a request is sent on schedule whether or not earlier ones have answered, so a slow
gateway cannot slow the load down and hide its own latency), alternating over the same three routes for each
target: directly to the backends, and through the gateway. Added latency = a percentile through the gateway
minus the same percentile direct. Every request must answer 200; any error fails the run.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import pathlib
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.backends import Backends, free_port  # noqa: E402

NODES = ("node-1", "node-2", "node-3")
LEADER = {"node-1": "true", "node-2": "false", "node-3": "false"}
PATHS = ("/leader", "/follower", "/")  # one instance, two round-robin, three round-robin
ROUTES = """routes:
  - {route: GET /, service: kv, public: true}
  - {route: GET /leader, id: leader, service: kv, filter: {leader: "true"}, public: true}
  - {route: GET /follower, id: follower, service: kv, filter: {leader: "false"}, public: true}
"""
HEAD = """version: 1
api: {name: bench-api, access_logs: {enabled: false}}
vpc_link: {subnet_ids: [subnet-0a1b2c3d4e5f60718], security_group_ids: [sg-0c3d4e5f607182930]}
namespace: {type: http, name: bench-ns}
"""


@dataclass
class Result:
    label: str
    latencies_ms: list[float]
    errors: int
    cpu_ms_per_request: float = 0.0  # the gateway process's own CPU time (user + system) per request

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def _load(urls: list[str], rate: float, seconds: float) -> tuple[list[float], int]:
    """Open loop: request i is sent at start + i / rate; returns each request's latency (ms) and the error count."""
    import aiohttp
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def one(url: str) -> None:
            nonlocal errors
            started = time.perf_counter()
            try:
                async with session.get(url) as response:
                    await response.read()
                    ok = response.status == 200
            except aiohttp.ClientError:
                ok = False
            if ok:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                errors += 1

        for url in urls[:6]:  # warm the connection pools and both processes' code paths
            await one(url)
        latencies.clear()
        tasks = []
        start = time.perf_counter()
        for i, url in zip(range(int(rate * seconds)), itertools.cycle(urls)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.ensure_future(one(url)))
        await asyncio.gather(*tasks)
    return latencies, errors


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def measure(label: str, urls: list[str], rate: float, seconds: float, pid: int | None = None) -> Result:
    before = cpu_seconds(pid) if pid else 0.0
    latencies, errors = asyncio.run(_load(urls, rate, seconds))
    cpu = (cpu_seconds(pid) - before) * 1000 / max(1, len(latencies) + errors + 6) if pid else 0.0
    return Result(label, latencies, errors, cpu)


class Gateway:
    def __init__(self, file: pathlib.Path, *args: str) -> None:
        import urllib.error
        import urllib.request
        self.port = free_port()
        self.process = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "serve", str(file), "--port",
                                         str(self.port), *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=2).read()
                return
            except (urllib.error.URLError, OSError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("serve did not start")
                time.sleep(0.1)

    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{self.port}{path}" for path in PATHS]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def run(rate: float, seconds: float) -> list[tuple[str, Result, Result]]:
    """[(setup, direct, through serve)] for static instances and for a Cloud Map endpoint."""
    from tests.localaws import MotoServer
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-serve-"))
    backends = Backends(list(NODES))
    direct_urls = [f"http://127.0.0.1:{backends.ports[n]}{p}" for p, n in zip(PATHS, NODES)]
    out = []
    try:
        static = work / "static.yaml"
        instances = "\n".join(f'      - {{id: {n}, ipv4: 127.0.0.1, port: {backends.ports[n]}, '
                              f'attributes: {{leader: "{LEADER[n]}"}}}}' for n in NODES)
        static.write_text(HEAD + f"services:\n  kv:\n    instances:\n{instances}\n" + ROUTES)
        cloud = work / "cloud-map.yaml"
        cloud.write_text(HEAD + "services:\n  kv: {health_check: custom, app_attributes: [leader]}\n" + ROUTES)
        moto = MotoServer(work / "moto.log")
        try:
            sd = moto.client("servicediscovery", "us-east-1")
            sd.create_http_namespace(Name="bench-ns")
            namespace = sd.list_namespaces()["Namespaces"][0]["Id"]
            service = sd.create_service(Name="kv", NamespaceId=namespace, HealthCheckCustomConfig={})["Service"]["Id"]
            for n in NODES:
                sd.register_instance(ServiceId=service, InstanceId=n, Attributes={
                    "AWS_INSTANCE_IPV4": "127.0.0.1", "AWS_INSTANCE_PORT": str(backends.ports[n]), "leader": LEADER[n]})
            for setup, file, args in (("static instances", static, ()),
                                      ("Cloud Map (moto on loopback)", cloud, ("--cloud-map", moto.url))):
                gateway = Gateway(file, *args)
                try:
                    direct = measure("direct", direct_urls, rate, seconds)
                    through = measure("serve", gateway.urls(), rate, seconds, gateway.process.pid)
                finally:
                    gateway.stop()
                out.append((setup, direct, through))
                _report(setup, direct, through)
        finally:
            moto.stop()
    finally:
        backends.stop()
    return out


def _report(setup: str, direct: Result, through: Result) -> None:
    d50, d99, s50, s99 = (r.percentile(p) for r in (direct, through) for p in (50, 99))
    print(f"{setup}: direct p50 {d50:.2f} ms p99 {d99:.2f} ms; serve p50 {s50:.2f} ms p99 {s99:.2f} ms; "
          f"added p50 {s50 - d50:.2f} ms p99 {s99 - d99:.2f} ms; serve CPU {through.cpu_ms_per_request:.2f} ms"
          f"/request; errors {direct.errors + through.errors}",
          file=sys.stderr)


def render(results: list[tuple[str, Result, Result]], rate: float, seconds: float) -> str:
    """A BENCHMARKS.md section."""
    lines = ["## `serve`: latency added per request (loopback)", "",
             f"Open-loop load at {rate:g} requests/s for {seconds:g} s per target, over GET /leader, /follower and / "
             f"(`python -m benchmarks.serve`); {os.cpu_count()} cores, the load generator, `serve`, the backends and "
             f"moto on the same machine (load average {os.getloadavg()[0]:.1f} at the end). Added = through `serve` "
             "minus direct, per percentile; CPU = the `serve` process's own CPU time per request, which does not "
             "depend on what else the machine runs.", "",
             "| instances from | direct p50 | direct p99 | serve p50 | serve p99 | added p50 | added p99 | serve CPU "
             "per request | errors |", "|---|---|---|---|---|---|---|---|---|"]
    for setup, direct, through in results:
        lines.append(f"| {setup} | {direct.percentile(50):.2f} ms | {direct.percentile(99):.2f} ms | "
                     f"{through.percentile(50):.2f} ms | {through.percentile(99):.2f} ms | "
                     f"**{through.percentile(50) - direct.percentile(50):.2f} ms** | "
                     f"**{through.percentile(99) - direct.percentile(99):.2f} ms** | "
                     f"{through.cpu_ms_per_request:.2f} ms | {direct.errors + through.errors} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second (default 200)")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration per target (default 10)")
    args = parser.parse_args()
    results = run(args.rate, args.seconds)
    print(render(results, args.rate, args.seconds))
    return 0 if all(d.errors == 0 and t.errors == 0 for _, d, t in results) else 1


if __name__ == "__main__":
    sys.exit(main())
