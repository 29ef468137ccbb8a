"""`local up|down|status` as users run it: the starter `init` writes, deployed into a local AWS on 127.0.0.1 with
real Terraform, and every way of stopping it stops everything it started.

Ways of stopping a foreground `up`: SIGTERM and `local down` once deployed, SIGINT while terraform applies, the
whole process group killed (a CI timeout), and `up` alone killed with SIGKILL (its children die with it, by
PR_SET_PDEATHSIG). A detached `up` returns, keeps running, and `local down` stops it. Each test starts `up` in a
session of its own, so its process group is exactly what `up` started (a detached server makes its own session).
"""

from __future__ import annotations

import json
import os
import pathlib
import pty
import signal
import subprocess
import sys
import threading
import time

import pytest

from compiler.localaws.deploy import alive, start_time, stop_pid

from .conftest import ROOT
from .helpers import eventually, process_group, run_main
from .terraform import available, terraform_env

needs_terraform = pytest.mark.skipif(not available(), reason="terraform is not on PATH")


def deploys(test):
    """A test of `local up`, which deploys into the local AWS with terraform: marked for both (the guard in
    tests/conftest.py stubs terraform for tests not marked terraform)."""
    return pytest.mark.localaws(pytest.mark.terraform(needs_terraform(test)))


def project(tmp_path: pathlib.Path) -> pathlib.Path:
    """A folder `init` made (its starter routes.yaml), outside the checkout."""
    folder = tmp_path / "project"
    result = run_main("init", str(folder))
    assert result.returncode == 0, result.stderr
    return folder


def env_for(tmp_path: pathlib.Path) -> dict[str, str]:
    """The user's environment, with Terraform's provider from this machine's mirror (as a user without registry
    access would configure it)."""
    config = tmp_path / "tfconfig"
    config.mkdir(exist_ok=True)
    return {**terraform_env(config), "PYTHONPATH": str(ROOT)}


def start_up(folder: pathlib.Path, tmp_path: pathlib.Path, *args: str, stderr=subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), "local", "up", *args], cwd=folder,
                            env=env_for(tmp_path), stdout=subprocess.PIPE, stderr=stderr, text=True,
                            start_new_session=True)


def state(folder: pathlib.Path) -> dict:
    return json.loads((folder / ".local-aws" / "local.json").read_text())


def wait_for_line(stream, text: str, seen: list[str], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    for line in stream:
        seen.append(line)
        if text in line:
            return
        assert time.monotonic() < deadline, "".join(seen)
    pytest.fail(f"never printed {text!r}:\n{''.join(seen)}")


def terraform_pids(pgid: int) -> list[int]:
    return [int(p.split()[0]) for p in process_group(pgid) if p.split()[1].startswith("terraform")]


def assert_all_stopped(process: subprocess.Popen, moto_pid: int, others: list[int] = ()) -> None:
    assert eventually(lambda: process_group(process.pid) == [], 60), process_group(process.pid)
    assert not any(start_time(pid) for pid in [moto_pid, *others])  # "" once gone (or a zombie)


def kill_leftovers(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


# --- without a local AWS: refusals that start nothing -------------------------------------------------------------

def test_an_invalid_file_is_reported_and_nothing_starts(tmp_path):
    (tmp_path / "routes.yaml").write_text("version: 1\napi: {name: x}\n")
    result = run_main("local", "up", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "routes.yaml:" in result.stderr and "error E" in result.stderr and "not deployed" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["routes.yaml"]


def test_without_terraform_on_path_it_says_what_is_missing(tmp_path):
    folder = project(tmp_path)
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "git").symlink_to("/usr/bin/git")
    result = run_main("local", "up", cwd=folder, env={"PATH": str(bare)})
    assert result.returncode == 2
    assert "main.py: error: local up runs terraform, which is not on PATH" in result.stderr
    assert not (folder / ".local-aws").exists()


def test_a_folder_it_did_not_make_is_never_emptied(tmp_path):
    folder = project(tmp_path)
    (folder / "mine").mkdir()
    (folder / "mine" / "notes.txt").write_text("keep")
    result = run_main("local", "up", "--dir", "mine", cwd=folder, env=env_for(tmp_path))
    assert result.returncode == 2, result.stderr
    assert "mine exists and was not made by `local up`" in result.stderr
    assert (folder / "mine" / "notes.txt").read_text() == "keep"


def test_status_and_down_with_nothing_running(tmp_path):
    status = run_main("local", "status", cwd=tmp_path)
    assert status.returncode == 1 and "no local AWS from .local-aws is running" in status.stderr
    down = run_main("local", "down", cwd=tmp_path)
    assert down.returncode == 0 and "no local AWS from .local-aws is running" in down.stderr


def test_down_never_signals_a_process_whose_pid_was_reused(tmp_path):
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        assert alive(sleeper.pid, start_time(sleeper.pid))
        assert not stop_pid(sleeper.pid, "1")  # recorded with another start time: some other process now
        assert sleeper.poll() is None
        assert stop_pid(sleeper.pid, start_time(sleeper.pid))
        assert sleeper.wait(timeout=10) == -signal.SIGTERM
    finally:
        sleeper.kill()
        sleeper.wait()


# --- with a local AWS ------------------------------------------------------------------------------------------------

@deploys
def test_foreground_up_deploys_prints_the_exports_and_sigterm_stops_everything(tmp_path):
    folder = project(tmp_path)
    before = (folder / "routes.yaml").read_bytes(), (folder / "routes.yaml").stat().st_mtime_ns
    up = start_up(folder, tmp_path)
    try:
        seen: list[str] = []
        wait_for_line(up.stdout, "Ctrl-C (or `cloudmap-routes local down`) stops it", seen)
        out = "".join(seen)
        running = state(folder)
        url = running["url"]
        assert url.startswith("http://127.0.0.1:") and f"local AWS: {url}" in out
        assert f"export CLOUDMAP_ROUTES_LOCAL_AWS={url}" in out and f"export AWS_ENDPOINT_URL={url}" in out
        assert "inject_host_prefix=False" in out
        assert (folder / ".local-aws" / "env").read_text().startswith(f"export CLOUDMAP_ROUTES_LOCAL_AWS={url}\n")
        # What it deployed is there, and reads as routes.yaml says (`status` with the exports alone).
        env = {"CLOUDMAP_ROUTES_LOCAL_AWS": url, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
        status = run_main("status", "routes.yaml", cwd=folder, env=env)
        assert status.returncode == 0, status.stderr
        assert "2 of 2 route(s) ok" in status.stdout
        local = run_main("local", "status", cwd=folder)
        assert local.returncode == 0 and f"local AWS: {url}, in the foreground (pid {up.pid})" in local.stdout
        # The user's file is untouched; the copy with the local ids is in the local AWS's folder.
        assert ((folder / "routes.yaml").read_bytes(), (folder / "routes.yaml").stat().st_mtime_ns) == before
        assert "subnet-0a1b2c3d4e5f60718" not in (folder / ".local-aws" / "routes.yaml").read_text()
        assert sorted(p.name for p in folder.iterdir()) == sorted([".gitignore", ".local-aws", "cdktf.json",
                                                                  "routes.schema.json", "routes.yaml"])

        up.send_signal(signal.SIGTERM)  # to `up` alone, as `kill PID` or a supervisor does
        assert up.wait(timeout=60) == 143
        assert "stopped (SIGTERM)" in up.stderr.read()
        assert_all_stopped(up, running["moto_pid"])
        assert not (folder / ".local-aws" / "local.json").exists()
    finally:
        kill_leftovers(up)


@deploys
def test_local_down_stops_a_foreground_up(tmp_path):
    folder = project(tmp_path)
    up = start_up(folder, tmp_path)
    try:
        wait_for_line(up.stdout, "Ctrl-C (or `cloudmap-routes local down`) stops it", [])
        moto_pid = state(folder)["moto_pid"]
        down = run_main("local", "down", cwd=folder)
        assert down.returncode == 0 and "stopped the local AWS at http://127.0.0.1:" in down.stderr
        assert up.wait(timeout=60) == 143
        assert_all_stopped(up, moto_pid)
    finally:
        kill_leftovers(up)


def until_applying(up: subprocess.Popen, folder: pathlib.Path) -> tuple[int, list[int]]:
    """Wait until terraform apply runs; return the server's pid and terraform's."""
    wait_for_line(up.stderr, "terraform apply...", [])
    assert eventually(lambda: terraform_pids(up.pid), 30)
    return state(folder)["moto_pid"], terraform_pids(up.pid)


@deploys
def test_ctrl_c_while_terraform_applies_stops_terraform_and_the_local_aws(tmp_path):
    folder = project(tmp_path)
    up = start_up(folder, tmp_path)
    try:
        moto_pid, terraform = until_applying(up, folder)
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=60) == 130
        assert_all_stopped(up, moto_pid, terraform)
    finally:
        kill_leftovers(up)


@deploys
@pytest.mark.parametrize("how", ["the process group (a CI timeout)", "up alone"])
def test_sigkill_leaves_nothing_running(how, tmp_path):
    folder = project(tmp_path)
    up = start_up(folder, tmp_path)
    try:
        moto_pid, terraform = until_applying(up, folder)
        if how == "up alone":
            up.kill()  # no handler runs: the kernel's death signal must stop the children
        else:
            os.killpg(up.pid, signal.SIGKILL)
        up.wait(timeout=60)
        assert eventually(lambda: not alive(moto_pid, start_time(moto_pid) or "gone"), 60)
        assert_all_stopped(up, moto_pid, terraform)
    finally:
        kill_leftovers(up)


@deploys
def test_detached_up_returns_keeps_running_and_down_stops_it_with_progress_on_a_terminal(tmp_path):
    folder = project(tmp_path)
    controller, terminal = pty.openpty()  # stderr is a terminal: progress lines are rewritten in place
    up = start_up(folder, tmp_path, "--detach", stderr=terminal)
    os.close(terminal)
    chunks: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(controller, chunks), daemon=True)  # a full pty would block up
    reader.start()
    try:
        out, _ = up.communicate(timeout=900)
        reader.join(timeout=30)
        progress = b"".join(chunks).decode(errors="replace")
        assert up.returncode == 0, progress
        running = state(folder)
        assert running["detached"] and running["deployed"] and f"local AWS: {running['url']}" in out
        assert "\r\x1b[Kterraform apply..." in progress and " resources (" in progress
        assert "terraform apply: done in " in progress
        assert alive(running["moto_pid"], running["moto_start"])  # outlived the command that started it
        status = run_main("local", "status", cwd=folder)
        assert status.returncode == 0 and f"local AWS: {running['url']}, detached" in status.stdout
        down = run_main("local", "down", cwd=folder)
        assert down.returncode == 0, down.stderr
        assert not alive(running["moto_pid"], running["moto_start"])
        assert run_main("local", "status", cwd=folder).returncode == 1
    finally:
        os.close(controller)
        kill_leftovers(up)
        moto = json.loads((folder / ".local-aws" / "local.json").read_text()) if (
            folder / ".local-aws" / "local.json").exists() else None
        if moto:
            stop_pid(moto["moto_pid"], moto["moto_start"])


def test_without_a_terminal_progress_is_one_line_per_step():
    from compiler.core.progress import Progress

    class Log(list):
        def write(self, text):
            self.append(text)

        def flush(self):
            pass

        def isatty(self):
            return False
    log = Log()
    with Progress(log).step("terraform apply", total=3, unit="resources") as step:
        step.advance()
    assert "".join(log).startswith("terraform apply...\nterraform apply: done in ")
    assert "\r" not in "".join(log) and "".join(log).endswith(", 1 resources\n")
    quiet = Log()
    with Progress(quiet, quiet=True).step("x"):
        pass
    assert quiet == []


def _drain(fd: int, chunks: list[bytes]) -> None:
    """Read a pty until its other side is closed (EIO on Linux)."""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        chunks.append(chunk)
