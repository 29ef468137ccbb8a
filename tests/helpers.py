"""Running the tool and git the way users do, for every test file that needs a subprocess.

Test files never import each other: what several of them share lives in a module like this one (or tests/cases.py).
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

from .conftest import ROOT

PATH_ENV = "/usr/bin:/bin:/usr/local/bin"
GIT_USER = ("-c", "user.email=t@example.invalid", "-c", "user.name=t")


def run_main(*args: str, cwd=ROOT, env: dict | None = None, inherit_env: bool = True,
             timeout: float = 120) -> subprocess.CompletedProcess:
    """`python main.py ARGS` in a subprocess, text captured; the compiler is importable from any cwd.

    `env` is added to this process's environment, or, with inherit_env=False, to a minimal one (PATH and jsii's
    banner setting only), so that nothing else from the caller's environment reaches the command.
    """
    minimal = {"PATH": PATH_ENV, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    base = dict(os.environ) if inherit_env else minimal
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True, cwd=cwd,
                          env={**base, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=timeout)


def git(repo: pathlib.Path, *args: str) -> subprocess.CompletedProcess:
    """One git command in repo; fails the test if git does."""
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def git_repo(path: pathlib.Path, files: dict[str, bytes]) -> pathlib.Path:
    """A new repository at path (created) with one commit holding files."""
    path.mkdir()
    git(path, "init", "-q")
    for name, content in files.items():
        (path / name).write_bytes(content)
    git(path, "add", "-A")
    git(path, *GIT_USER, "commit", "-qm", "base")
    return path


def stop_process(process: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate a server the tests started; kill it if it does not go in time."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def eventually(condition, seconds: float = 5.0) -> bool:
    """Poll `condition` every 0.1 s until it holds (True) or `seconds` pass (False)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def process_group(pgid: int) -> list[str]:
    """Live processes of process group `pgid`, as 'pid name' (from /proc; zombies are not live)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            text = pathlib.Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        name, fields = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(f"{pid} {name}")
    return found


def run_on_a_terminal(command: list[str], cwd: pathlib.Path, env: dict, timeout: float) -> tuple[int, str]:
    """Run `command` with stdout and stderr on a pseudo-terminal (what progress and colour look for); its exit code
    and everything it wrote, once it has closed the terminal."""
    import pty
    controller, terminal = pty.openpty()
    process = subprocess.Popen(command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, env=env)
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO on Linux once the last writer has gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    return process.wait(timeout=timeout), b"".join(chunks).decode()
