"""Small backend HTTP servers on 127.0.0.1 for `serve`'s tests and benchmark: each answers with its instance id.

    python tests/backends.py node-1=PORT node-2=PORT ...

One process, one event loop, one listener per instance. Every answer is JSON describing what arrived, so a test
can check what the gateway forwarded: {"instance", "method", "path", "query", "headers", "body"}. A request
with `X-Sleep-Ms: N` is answered after N ms (for timeouts). Prints "ready" on stdout once every port listens.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

from aiohttp import web


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _handler(instance: str):
    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        delay = request.headers.get("X-Sleep-Ms")
        if delay:
            await asyncio.sleep(int(delay) / 1000)
        path, _, query = request.raw_path.partition("?")
        answer = {"instance": instance, "method": request.method, "path": path, "query": query,
                  "headers": {k.lower(): v for k, v in request.headers.items()}, "body": body.decode("latin-1")}
        return web.json_response(answer, headers={"X-Instance": instance, "Set-Cookie": "a=1",
                                                  "Keep-Alive": "timeout=5", "Connection": "keep-alive"})
    return handle


async def _main(pairs: list[tuple[str, int]]) -> None:
    runners = []
    for instance, port in pairs:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", _handler(instance))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
    print("ready", flush=True)
    await asyncio.Event().wait()


class Backends:
    """The backends as a child process; `ports` maps instance id -> port."""

    def __init__(self, instances: list[str]) -> None:
        self.ports = {instance: free_port() for instance in instances}
        self.process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()),
                                         *(f"{i}={p}" for i, p in self.ports.items())],
                                        stdout=subprocess.PIPE, text=True)
        if self.process.stdout.readline().strip() != "ready":  # "" when the process died before listening
            self.stop()
            raise RuntimeError("the backend servers did not start")

    def stop(self) -> None:
        from .helpers import stop_process  # imported here: this file also runs as the backends' own script
        stop_process(self.process)


if __name__ == "__main__":
    parsed = [(arg.split("=", 1)[0], int(arg.split("=", 1)[1])) for arg in sys.argv[1:]]
    try:
        asyncio.run(_main(parsed))
    except KeyboardInterrupt:
        pass
