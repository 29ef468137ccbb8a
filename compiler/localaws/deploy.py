"""`local up|down|status`: a local AWS on 127.0.0.1 with one stack of a routes.yaml deployed into it.

Everything lives in one folder (`.local-aws/` by default), never beside the user's files: the copy of routes.yaml
with the local ids (localise), the synthesized stack (direct engine, every endpoint at the local AWS), Terraform's
state, the logs, `local.json` (who is running: pids, port) and `env` (the exports). The folder carries a marker,
`.cloudmap-routes-local`; a folder without it is never emptied, and `up` empties its own on every run (the local
AWS starts empty, so old state would describe nothing).

Stopping. In the foreground `up` waits until it is stopped, and every way stops what it started: Ctrl-C (SIGINT),
SIGTERM, `local down` (which sends SIGTERM), and a CI timeout killing the process group (the server and Terraform
are in `up`'s group; they also die with it, by PR_SET_PDEATHSIG, when `up` alone is killed). With `--detach`
the server runs in its own session and `up` returns once the stack is deployed; `local down` stops it. `down`
signals a process only when its pid and start time both match what `up` recorded, so a reused pid is left alone.
"""

from __future__ import annotations

import json
import os
import pathlib
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import asdict, dataclass
from typing import Callable, TextIO

from ..core.progress import Progress
from .account import DEFAULT_REGION, localise
from .server import MotoServer, _die_with_parent, local_client

WORK = ".local-aws"
MARKER = ".cloudmap-routes-local"
STATE = "local.json"
ENV_FILE = "env"


class LocalError(Exception):
    """Why `up` cannot go on; nothing is left running."""


class FolderError(LocalError):
    """--dir cannot be used: it is not ours, or a local AWS from it still runs."""


class Stopped(BaseException):
    """SIGTERM (from `local down`, a supervisor or `kill`) while `up` runs."""


@dataclass
class Running:
    """What local.json records: enough for `down` and `status` to find (only) what `up` started."""

    url: str
    port: int
    file: str
    stack: str
    region: str
    detached: bool
    moto_pid: int
    moto_start: str
    up_pid: int
    up_start: str
    deployed: bool = False


def exports(url: str, region: str) -> list[tuple[str, str, str]]:
    """(variable, value, why) for a shell that talks to the local AWS."""
    return [("CLOUDMAP_ROUTES_LOCAL_AWS", url, "status, serve --cloud-map, synth and import read the local AWS"),
            ("AWS_ENDPOINT_URL", url, "the AWS CLI and SDKs (boto3 >= 1.28) call the local AWS"),
            ("AWS_ACCESS_KEY_ID", "test", "the local AWS takes any credentials; never your real ones"),
            ("AWS_SECRET_ACCESS_KEY", "test", ""),
            ("AWS_DEFAULT_REGION", region, "where the stack was deployed")]


def exports_text(url: str, region: str) -> str:
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value, _ in exports(url, region))


# --- process identity --------------------------------------------------------------------------------------------

def start_time(pid: int) -> str:
    """The kernel's start time of `pid` (field 22 of /proc/PID/stat), "" if it is gone or a zombie."""
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[1].split()  # the name, in parentheses, may hold spaces
    return "" if fields[0] in ("Z", "X") else fields[19]


def alive(pid: int, started: str) -> bool:
    return bool(pid) and bool(started) and start_time(pid) == started


def stop_pid(pid: int, started: str, timeout: float = 20) -> bool:
    """SIGTERM `pid` if it is still the process recorded, then SIGKILL after `timeout`; True if it was running."""
    if not alive(pid, started):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive(pid, started) and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive(pid, started):
        os.kill(pid, signal.SIGKILL)
        while alive(pid, started):
            time.sleep(0.05)
    return True


# --- the folder --------------------------------------------------------------------------------------------------

def read_state(work: pathlib.Path) -> Running | None:
    try:
        return Running(**json.loads((work / STATE).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def write_state(work: pathlib.Path, running: Running) -> None:
    temporary = work / f".{STATE}.tmp"
    temporary.write_text(json.dumps(asdict(running), indent=2) + "\n")
    os.replace(temporary, work / STATE)


def fresh(work: pathlib.Path) -> None:
    """Empty `work` for a new run, or refuse: it is someone else's, or a local AWS from it is still running."""
    if work.is_symlink() or (work.exists() and not work.is_dir()):
        raise FolderError(f"{work} is not a directory this tool made; choose another --dir")
    if work.exists():
        if not (work / MARKER).is_file():
            raise FolderError(f"{work} exists and was not made by `local up` (no {MARKER}); move it away or choose "
                             "another --dir")
        running = read_state(work)
        if running and (alive(running.moto_pid, running.moto_start) or alive(running.up_pid, running.up_start)):
            raise FolderError(f"a local AWS from {work} is still running at {running.url}; stop it first with "
                             f"`local down`")
        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / MARKER).write_text("made by `cloudmap-routes local up`; emptied on its next run\n")


# --- up ----------------------------------------------------------------------------------------------------------

@dataclass
class Request:
    file: str  # the user's routes.yaml (read, never written)
    text: str
    stack: str
    environment: str | None
    region: str
    work: pathlib.Path
    detach: bool = False
    port: int | None = None


def up(request: Request, out: TextIO, progress: Progress, wait: Callable[[MotoServer], None]) -> Running:
    """Start the local AWS, deploy the stack, record and print it; then `wait` (the foreground), or return with
    the server left running (detach). Raises LocalError, Stopped or KeyboardInterrupt with nothing left running."""
    fresh(request.work)
    with progress.step("starting the local AWS (moto on 127.0.0.1)"):
        moto = MotoServer(request.work / "moto.log", request.port, detached=request.detach)
    running = Running(moto.url, moto.port, request.file, request.stack, request.region, request.detach, moto.pid,
                      start_time(moto.pid), os.getpid(), start_time(os.getpid()))
    write_state(request.work, running)
    try:
        deploy(request, moto, progress)
        running.deployed = True
        write_state(request.work, running)
        (request.work / ENV_FILE).write_text(exports_text(moto.url, request.region))
        out.write(summary(request, running))
        out.flush()
        if request.detach:
            return running
        wait(moto)
    except BaseException:
        moto.stop()
        with_state_removed(request.work)
        raise
    moto.stop()
    with_state_removed(request.work)
    return running


def with_state_removed(work: pathlib.Path) -> None:
    try:
        (work / STATE).unlink()
    except FileNotFoundError:
        pass


def deploy(request: Request, moto: MotoServer, progress: Progress) -> None:
    """What the file needs created in the local AWS, the localised copy, its stack, terraform init and apply."""
    from ..language import compile_stacks
    from ..terraform.synth import synthesize_stacks

    with progress.step("creating what routes.yaml expects to exist (VPC, subnets, security groups, keys)"):
        local_copy = request.work / "routes.yaml"
        local_copy.write_text(localise(moto, request.region, request.text))
    stacks, diagnostics = compile_stacks(str(local_copy), [request.environment] if request.environment else None)
    if stacks is None:
        from ..core.diagnostics import render_text
        raise LocalError(f"the local copy {local_copy} does not compile:\n{render_text(diagnostics)}")
    [(_, model)] = stacks
    [path] = synthesize_stacks([(request.stack, model)], str(request.work / "cdktf.out"), moto.url, engine="direct")
    stack_dir = pathlib.Path(path).parent
    total = _resources(path)
    log = request.work / "terraform.log"
    with progress.step("terraform init"):
        terraform(stack_dir, log, ["init", "-input=false", "-no-color"])
    with progress.step("terraform apply", total=total, unit="resources") as step:
        terraform(stack_dir, log, ["apply", "-auto-approve", "-input=false", "-no-color"],
                  on_line=lambda line: step.advance() if ": Creation complete after " in line else None)


def _resources(path: str) -> int:
    document = json.loads(pathlib.Path(path).read_text())
    return sum(len(blocks) for blocks in document.get("resource", {}).values())


def terraform(stack_dir: pathlib.Path, log: pathlib.Path, args: list[str],
              on_line: Callable[[str], None] = lambda line: None) -> None:
    """Run terraform in `stack_dir`, its output appended to `log`; LocalError with the log's tail if it fails.
    Stopped or interrupted meanwhile, terraform gets SIGINT (its own graceful stop), then SIGKILL."""
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
    with open(log, "a", encoding="utf-8") as sink:
        sink.write(f"$ terraform {' '.join(args)}\n")
        sink.flush()
        process = subprocess.Popen(["terraform", *args], cwd=stack_dir, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   preexec_fn=_die_with_parent)
        try:
            assert process.stdout is not None
            for line in process.stdout:
                sink.write(line)
                on_line(line)
            code = process.wait()
        finally:
            _stop_child(process)
    if code != 0:
        tail = "".join(log.read_text(encoding="utf-8").splitlines(keepends=True)[-30:])
        raise LocalError(f"terraform {args[0]} exited {code}; the end of {log}:\n{tail}")


def _stop_child(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def summary(request: Request, running: Running) -> str:
    """What `up` prints once deployed: where the local AWS is, the exports, and what to run next."""
    api = api_id(running)
    lines = [f"local AWS: {running.url} (moto on 127.0.0.1; log {request.work / 'moto.log'})",
             f"deployed stack {request.stack} of {request.file}" + (f" (API {api})" if api else ""),
             f"its copy with the local ids: {request.work / 'routes.yaml'}; your {request.file} is unchanged",
             "", f"exports (also in {request.work / ENV_FILE}; `. {request.work / ENV_FILE}`):"]
    lines += [f"  export {name}={shlex.quote(value)}" + (f"   # {why}" if why else "")
              for name, value, why in exports(running.url, running.region)]
    env = f" --env {shlex.quote(request.environment)}" if request.environment else ""
    lines += ["", "then, in another terminal with those exports:",
              f"  cloudmap-routes status {shlex.quote(request.file)}{env}",
              f"  cloudmap-routes serve {shlex.quote(request.file)}{env} --cloud-map {running.url}",
              "Scripts that call Cloud Map's DiscoverInstances against it need boto3's "
              "Config(inject_host_prefix=False) (AWS serves it from a data- host prefix; the local AWS has none)."]
    lines.append("" if request.detach else "Ctrl-C (or `cloudmap-routes local down`) stops it, and everything deployed "
                 "goes with it.")
    if request.detach:
        lines.append(f"running in the background (pid {running.moto_pid}); `cloudmap-routes local down` stops it.")
    return "\n".join(lines) + "\n"


def api_id(running: Running) -> str:
    try:
        apis = local_client(running.url, "apigatewayv2", running.region).get_apis()["Items"]
    except Exception:  # noqa: BLE001 -- a name to print, never a reason to fail
        return ""
    return next((a["ApiId"] for a in apis if a.get("Tags", {}).get("cloudmap-routes:stack") == running.stack), "")


def wait_foreground(moto: MotoServer) -> None:
    """Until a signal stops `up`: SIGTERM raises Stopped, Ctrl-C KeyboardInterrupt. If the server dies on its
    own, that is an error."""
    code = moto.process.wait()
    raise LocalError(f"the local AWS stopped by itself (exit {code}); see {moto.log}")


def region_of(text: str, environment: str | None) -> str:
    from ..language import compile_stacks_text

    stacks, _ = compile_stacks_text(text, environments=[environment] if environment else None)
    return (stacks[0][1].region if stacks else None) or DEFAULT_REGION


# --- down and status ---------------------------------------------------------------------------------------------

def down(work: pathlib.Path) -> Running | None:
    """Stop what `up` from `work` started: the foreground `up` (it stops its server), then the server itself if
    it is still there. Returns what was running, or None."""
    running = read_state(work)
    if running is None:
        return None
    was_up = running.up_pid != os.getpid() and stop_pid(running.up_pid, running.up_start, timeout=40)
    was_moto = stop_pid(running.moto_pid, running.moto_start)
    with_state_removed(work)
    return running if (was_up or was_moto) else None


def is_running(running: Running | None) -> bool:
    return running is not None and alive(running.moto_pid, running.moto_start)
