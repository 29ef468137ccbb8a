"""Headless Chromium (Debian's `chromium`) driven over the Chrome DevTools Protocol, for the page tests.

The protocol is a WebSocket of JSON messages (chromedevtools.github.io/devtools-protocol): Chromium started with
`--remote-debugging-port=0` writes the port it chose and the browser's WebSocket path to `DevToolsActivePort` in
its profile folder; a page target is created and attached with `flatten`, so its commands carry a session id on
the same socket. aiohttp (already a runtime dependency, for `serve`) is the WebSocket client, in an event loop of
its own thread, so tests call plain methods. No browser is downloaded: `make test` installs Debian's package.

Chromium runs as the machine's probe found it must here (root, no display, a closed network): --headless
--no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
--disable-component-update --disable-sync, with a new empty --user-data-dir.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import http.server
import itertools
import json
import os
import pathlib
import shutil
import subprocess
import threading
import time
from typing import Any, Optional

import pytest

CHROMIUM = "chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--remote-debugging-address=127.0.0.1",
         "--remote-debugging-port=0")
FULL_SUITE = os.environ.get("CLOUDMAP_ROUTES_FULL_SUITE") == "1"  # `make test`: every tool must be there


def chromium_path() -> Optional[str]:
    return shutil.which(CHROMIUM)


def require_chromium() -> str:
    """The browser, or a skip; under `make test` (CLOUDMAP_ROUTES_FULL_SUITE=1), which installs it, a failure:
    a missing browser there is a broken set-up, not a test to leave out."""
    path = chromium_path()
    if path is None:
        reason = "chromium is not installed (`make test` installs Debian's chromium package)"
        if FULL_SUITE:
            pytest.fail(f"{reason}; `make test` runs every test (CLOUDMAP_ROUTES_FULL_SUITE=1), so this is an error")
        pytest.skip(reason)
    return path


class ProtocolError(RuntimeError):
    pass


class Browser:
    """One Chromium process with one page. Every call waits at most `timeout` seconds."""

    def __init__(self, profile: pathlib.Path, timeout: float = 30.0, width: int = 1400, height: int = 900) -> None:
        self.timeout = timeout
        profile.mkdir(parents=True, exist_ok=True)
        self.log = open(profile.parent / f"{profile.name}-chromium.log", "wb")
        self.process = subprocess.Popen([require_chromium(), *FLAGS, f"--user-data-dir={profile}",
                                         f"--window-size={width},{height}", "about:blank"],
                                        stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.events: list[dict] = []
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future] = {}
        try:
            self._run(self._connect(profile / "DevToolsActivePort"))
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.page(f"{domain}.enable")
            self.page("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                      mobile=False)
        except BaseException:
            self.close()
            raise

    # -- plumbing ---------------------------------------------------------------------------------------------

    def _run(self, coroutine) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(self.timeout + 5)

    async def _connect(self, active_port: pathlib.Path) -> None:
        import aiohttp
        deadline = time.monotonic() + self.timeout
        while not (active_port.exists() and len(active_port.read_text().splitlines()) >= 2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise ProtocolError(f"chromium did not start (exit {self.process.poll()}); see {self.log.name}")
            await asyncio.sleep(0.05)
        port, path = active_port.read_text().splitlines()[:2]
        self.http = aiohttp.ClientSession()
        self.socket = await self.http.ws_connect(f"ws://127.0.0.1:{port}{path}", max_msg_size=0)
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        import aiohttp
        async for message in self.socket:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            waiting = self._waiting.pop(data.get("id"), None)
            if waiting is not None and not waiting.done():
                waiting.set_result(data)
            elif "method" in data:
                self.events.append(data)

    async def _call(self, method: str, params: dict, session: Optional[str]) -> dict:
        number = next(self._ids)
        answer = self.loop.create_future()
        self._waiting[number] = answer
        message = {"id": number, "method": method, "params": params, **({"sessionId": session} if session else {})}
        await self.socket.send_str(json.dumps(message))
        data = await asyncio.wait_for(answer, self.timeout)
        if "error" in data:
            raise ProtocolError(f"{method}: {data['error']}")
        return data.get("result", {})

    def call(self, method: str, **params) -> dict:
        """A command to the browser itself."""
        return self._run(self._call(method, params, None))

    def page(self, method: str, **params) -> dict:
        """A command to the page."""
        return self._run(self._call(method, params, self.session))

    # -- what tests use ---------------------------------------------------------------------------------------

    def goto(self, url: str) -> None:
        """Load url and wait for its load event."""
        seen = len(self.events)
        self.page("Page.navigate", url=url)
        self.wait_for_event("Page.loadEventFired", after=seen)

    def wait_for_event(self, method: str, after: int = 0) -> dict:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            for event in self.events[after:]:
                if event["method"] == method:
                    return event
            time.sleep(0.05)
        raise ProtocolError(f"no {method} within {self.timeout} s")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-serializable; promises awaited)."""
        result = self.page("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise ProtocolError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_until(self, expression: str, timeout: Optional[float] = None) -> Any:
        """Poll a JavaScript expression until it is truthy; its value."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"still false after {timeout or self.timeout} s: {expression}")
            time.sleep(0.1)

    def screenshot(self, path: pathlib.Path) -> pathlib.Path:
        """The whole page (beyond the viewport) as a PNG."""
        data = self.page("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    @property
    def requests(self) -> list[str]:
        """Every URL the page asked for (not the /favicon.ico Chromium asks of an SVG document's origin itself)."""
        urls = [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"]
        return [u for u in urls if not u.endswith("/favicon.ico")]

    @property
    def problems(self) -> list[str]:
        """Console errors and security messages (a CSP violation is one), and uncaught exceptions."""
        out = []
        for event in self.events:
            params = event.get("params", {})
            if event["method"] == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning") \
                    and not params["entry"].get("url", "").endswith("/favicon.ico"):  # the browser's own ask
                out.append(f"{params['entry'].get('source')}: {params['entry'].get('text')}")
            elif event["method"] == "Runtime.exceptionThrown":
                out.append(f"exception: {params['exceptionDetails'].get('text')}")
            elif event["method"] == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning"):
                out.append(f"console: {[a.get('value') for a in params.get('args', [])]}")
        return out

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.call("Browser.close")
        with contextlib.suppress(Exception):
            self._run(self._shutdown())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    async def _shutdown(self) -> None:
        if getattr(self, "socket", None) is not None:
            await self.socket.close()
        if getattr(self, "http", None) is not None:
            await self.http.close()


class StaticServer:
    """A folder served on 127.0.0.1 (a port the system picks), in a thread; `url(name)` is a file's address."""

    def __init__(self, folder: pathlib.Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, name: str) -> str:
        return f"{self.origin}/{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the test's output is its assertions
        pass
