"""`local up|down|status`: try a routes.yaml against a local AWS (moto's server on 127.0.0.1) (compiler.localaws)."""

from __future__ import annotations

import contextlib
import pathlib
import shutil
import signal
import sys
from typing import Iterator

from ..core.diagnostics import has_errors
from .common import (
    DEFAULT_FILE,
    INTERRUPTED,
    INVALID,
    OK,
    TERMINATED,
    USAGE,
    Run,
    add_command,
    error,
    info,
    report,
    strict_failure,
)

WORK_HELP = "the local AWS's own folder: its copy of routes.yaml, output, state, logs, pid file (default .local-aws)"


def add_local(commands) -> None:
    local = add_command(
        commands, "local", "a local AWS on 127.0.0.1 with routes.yaml deployed into it: up, down, status",
        "Try routes.yaml against a local AWS: moto's server on 127.0.0.1, as strict as AWS where these resources "
        "depend on it. `up` starts it, creates what the file expects to exist (VPC, subnets, security groups, "
        "keys), deploys one stack with terraform init and apply, and prints the endpoint and the exports; `down` "
        "stops it; `status` says whether it runs. Everything stays in --dir; routes.yaml is never written.",
        ((OK, "done"), (INVALID, "the file is invalid, the deploy failed, or (status) nothing is running"),
         (USAGE, "a bad argument, or something missing (terraform, moto)")), quiet=False)
    actions = local.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = add_command(
        actions, "up", "start the local AWS and deploy routes.yaml into it",
        "Start the local AWS on 127.0.0.1, deploy one stack of FILE into it, print the endpoint and the exports, "
        "then wait until stopped (Ctrl-C, SIGTERM, `local down`): everything it started stops with it. With "
        "--detach it returns once deployed and the local AWS keeps running until `local down`.",
        ((OK, "--detach: deployed, and running in the background"),
         (INVALID, "FILE is invalid, or the deploy failed; nothing is left running"),
         (USAGE, "a bad argument, --dir is not ours or still running, or terraform or moto is missing"),
         (INTERRUPTED, "stopped by Ctrl-C"),
         (TERMINATED, "stopped by SIGTERM or `local down` (how a foreground `up` ends)")),
        strict="FILE's warnings stop it before anything starts")
    up.add_argument("file", nargs="?", default=DEFAULT_FILE, metavar="FILE",
                    help="the routes.yaml to deploy (default routes.yaml); read only")
    up.add_argument("--env", metavar="NAME", default=None, help="the environment to deploy, for a file with "
                                                                "environments (its stack is named after it)")
    up.add_argument("--dir", default=None, metavar="DIR", help=WORK_HELP)
    up.add_argument("--port", type=int, default=None, help="the local AWS's port on 127.0.0.1 (default: a free one)")
    up.add_argument("--detach", action="store_true",
                    help="return once deployed, leaving the local AWS running in the background (`local down` "
                         "stops it)")
    up.set_defaults(run=up_command)
    down = add_command(actions, "down", "stop the local AWS `local up` started (and everything deployed into it)",
                       "Stop the local AWS that `local up` started from --dir, whether in the foreground or "
                       "detached. Only processes whose pid and start time match what `up` recorded are signalled.",
                       ((OK, "stopped, or nothing was running"), (USAGE, "a bad argument")))
    down.add_argument("--dir", default=None, metavar="DIR", help=WORK_HELP)
    down.set_defaults(run=down_command)
    status = add_command(actions, "status", "whether a local AWS from --dir runs, where, and its exports",
                         "Say whether the local AWS `local up` started from --dir is running, its endpoint, the "
                         "stack deployed and the exports a shell needs.",
                         ((OK, "running"), (INVALID, "not running")))
    status.add_argument("--dir", default=None, metavar="DIR", help=WORK_HELP)
    status.set_defaults(run=status_command)


def work_dir(args) -> pathlib.Path:
    from ..localaws.deploy import WORK
    return pathlib.Path(args.dir or WORK)


def up_command(args) -> int:
    from ..language import compile_file
    from ..localaws.deploy import Request, region_of

    if args.port is not None and not 1 <= args.port <= 65535:
        error("--port takes 1-65535")
        return USAGE
    model, diagnostics = compile_file(args.file, args.env)
    if diagnostics:
        report(diagnostics)
    if model is None or has_errors(diagnostics):
        print(f"{args.file}: not deployed", file=sys.stderr)
        return INVALID
    if args.strict and diagnostics:
        strict_failure(args.file, len(diagnostics), "not deployed")
        return INVALID
    problem = missing_tools()
    if problem:
        error(problem)
        return USAGE
    text = pathlib.Path(args.file).read_text(encoding="utf-8")
    request = Request(args.file, text, args.env or "routes", args.env, region_of(text, args.env), work_dir(args),
                      detach=args.detach, port=args.port)
    return run_up(request)


def missing_tools() -> str:
    from ..localaws.server import moto_installed

    if shutil.which("terraform") is None:
        return "local up runs terraform, which is not on PATH: install Terraform >= 1.6"
    if not moto_installed():
        return "the local AWS is moto's server, which is not installed: pip install 'cloudmap-routes[local]'"
    return ""


def run_up(request) -> int:
    from ..core.progress import Progress
    from ..localaws.deploy import FolderError, LocalError, Stopped, up, wait_foreground
    from ..localaws.server import ServerError

    try:
        with _sigterm_stops(Stopped):
            up(request, sys.stdout, Progress(sys.stderr, quiet=Run.quiet), wait_foreground)
    except (LocalError, ServerError) as exc:
        error(f"{exc}; nothing is left running")
        return USAGE if isinstance(exc, (FolderError, ServerError)) else INVALID
    except Stopped:
        info("stopped (SIGTERM): the local AWS and everything deployed into it are gone")
        return TERMINATED
    except KeyboardInterrupt:
        info("stopped (Ctrl-C): the local AWS and everything deployed into it are gone")
        return INTERRUPTED
    return OK


@contextlib.contextmanager
def _sigterm_stops(exception: type[BaseException]) -> Iterator[None]:
    def handler(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one is enough: let the clean-up finish
        raise exception()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def down_command(args) -> int:
    from ..localaws.deploy import down

    stopped = down(work_dir(args))
    info(f"stopped the local AWS at {stopped.url}" if stopped else f"no local AWS from {work_dir(args)} is running")
    return OK


def status_command(args) -> int:
    from ..localaws.deploy import ENV_FILE, exports_text, is_running, read_state

    running = read_state(work_dir(args))
    if not is_running(running):
        info(f"no local AWS from {work_dir(args)} is running (`local up` starts one)")
        return INVALID
    mode = "detached" if running.detached else f"in the foreground (pid {running.up_pid})"
    state = "deployed" if running.deployed else "deploying"
    sys.stdout.write(f"local AWS: {running.url}, {mode}, pid {running.moto_pid}\n"
                     f"stack {running.stack} of {running.file}: {state}\n"
                     f"exports ({work_dir(args) / ENV_FILE}):\n{exports_text(running.url, running.region)}")
    return OK
