"""moto's server (compiler.localaws.moto_launcher) as a child process on 127.0.0.1, and how it is stopped.

Two ways to run it. Attached (the default, `local up` in the foreground and the tests): the server is in its
parent's process group, so Ctrl-C in a terminal and a CI timeout that kills the group reach it too, and it is
started with PR_SET_PDEATHSIG, so the kernel sends it SIGTERM when its parent dies in any way, SIGKILL included.
Detached (`local up --detach`): its own session, no death signal, so it outlives the command that started it;
`local down` stops it through the pid file (compiler.localaws.deploy).
"""

from __future__ import annotations

import ctypes
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request

LAUNCHER = "compiler.localaws.moto_launcher"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class ServerError(Exception):
    """The local AWS did not start (or moto is not installed)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent goes (Linux; elsewhere the process group still holds)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (AttributeError, OSError):
        pass


def launcher_env() -> dict[str, str]:
    """The child's environment: the compiler importable wherever it lives (a checkout or site-packages), and the
    AWS-managed IAM policies loaded (they exist in every account, e.g. AWSLambdaVPCAccessExecutionRole; moto
    loads them only when asked)."""
    home = str(pathlib.Path(__file__).resolve().parents[2])  # the folder holding the `compiler` package
    path = os.pathsep.join(p for p in (home, os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}


def moto_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("moto") is not None and importlib.util.find_spec("flask") is not None


class MotoServer:
    """moto's server on 127.0.0.1 at `port` (a free one by default), started by the constructor."""

    def __init__(self, log: pathlib.Path, port: int | None = None, detached: bool = False,
                 timeout: float = 60) -> None:
        if not moto_installed():
            raise ServerError("the local AWS needs moto's server: pip install 'cloudmap-routes[local]'")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log = open(log, "ab")
        argv = [sys.executable, "-m", LAUNCHER, "-p", str(self.port)]
        self.process = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        env=launcher_env(), start_new_session=detached,
                                        preexec_fn=None if detached else _die_with_parent)
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2).read()
                return
            except OSError as exc:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise ServerError(f"moto's server did not start on port {self.port}; see {self.log}") from exc
                time.sleep(0.2)

    @property
    def pid(self) -> int:
        return self.process.pid

    def client(self, service: str, region: str):
        return local_client(self.url, service, region)

    def reset(self) -> None:
        """An empty account again: moto's reset API drops every resource of every service and region."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        urllib.request.urlopen(request, timeout=30).read()

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM, then SIGKILL if it has not gone within `timeout` seconds."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def local_client(url: str, service: str, region: str):
    """A boto3 client for the local AWS. DiscoverInstances is served from a `data-` host prefix in real AWS (its
    endpoint trait in the service model); the local server has none, so the prefix must not be added."""
    import boto3
    from botocore.config import Config

    return boto3.client(service, endpoint_url=url, region_name=region, aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(inject_host_prefix=False))
