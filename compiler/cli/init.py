"""`init [DIR]`: a starter project, written only where nothing exists yet, all of it or nothing.

It writes routes.yaml (a starter that passes `check --strict` and synthesizes), routes.schema.json (what the
starter's `# yaml-language-server: $schema=` comment names, generated from the language), cdktf.json (whose app runs
the installed command with --engine cdktf, so `cdktf synth`/`deploy` run the CDKTF constructs), a .gitignore (the
output, local state and lock files, the local AWS's folder) and .github/workflows/routes-review.yml (the PR
review, through this project's composite action).

Rules, because a project folder holds other people's work: nothing that exists is replaced (each file is linked
into place with link(2), which fails on any existing name, a dangling symbolic link included); no symbolic link is
followed below DIR (every directory is opened with O_NOFOLLOW, files are made with O_EXCL|O_NOFOLLOW); and if any
file cannot be written (it exists, an error, Ctrl-C, SIGTERM), what this run wrote is removed again, so the folder
is as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import stat
from dataclasses import dataclass, field
from importlib import resources
from typing import Iterator
from urllib.parse import urlsplit

from .common import CONSOLE_PROG, INVALID, OK, TERMINATED, USAGE, add_command, error, info

WORKFLOW = ".github/workflows/routes-review.yml"
# OWNER/REPO[/PATH]@REF, as a workflow's `uses:` takes it; nothing a shell or an expression (`${{`) could read.
ACTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_./-]+)?@[A-Za-z0-9][A-Za-z0-9_./-]*")


def add_init(commands) -> None:
    init = add_command(
        commands, "init", "write a starter project: routes.yaml, its schema, cdktf.json, .gitignore, the PR workflow",
        "Write a starter project into DIR: routes.yaml (passes `check --strict` and synthesizes), routes.schema.json "
        "(for editors), cdktf.json (its app runs this command with --engine cdktf), a .gitignore and the pull "
        "request workflow. Nothing that exists is replaced and no symbolic link is followed: if any file cannot "
        "be written, nothing is.",
        ((OK, "every file written"), (INVALID, "nothing written: a file exists or cannot be written"),
         (USAGE, "a bad argument; nothing written")))
    init.add_argument("dir", nargs="?", default=".", metavar="DIR",
                      help="the project folder, created if missing (default: the current folder)")
    init.add_argument("--action", metavar="OWNER/REPO@REF", default=None,
                      help="the cloudmap-routes composite action the PR workflow uses (default: the GitHub "
                           "repository and commit pip installed this copy from; without either, no workflow is "
                           "written)")
    init.add_argument("--workflow-only", action="store_true",
                      help=f"write only {WORKFLOW} (for a project made before, or without --action)")
    init.set_defaults(run=init_command)


def init_command(args) -> int:
    action = args.action or installed_action()
    if args.action and not ACTION.fullmatch(args.action):
        error(f"--action {args.action!r}: expected OWNER/REPO@REF, e.g. my-org/cloudmap-routes@v0.1.0")
        return USAGE
    if args.workflow_only and action is None:
        error("--workflow-only: name the action with --action OWNER/REPO@REF (this copy was not installed from a "
              "GitHub repository, so init cannot tell)")
        return USAGE
    files = starter_files(action)
    if args.workflow_only:
        files = {WORKFLOW: files[WORKFLOW]}
    try:
        with _sigterm_interrupts():
            write_new_files(args.dir, files)
    except InitError as exc:
        error(f"{exc}; nothing written")
        return INVALID
    except _Terminated:
        error("interrupted by SIGTERM; nothing written")
        return TERMINATED
    for name in files:
        info(f"wrote {os.path.join(args.dir, name)}")
    if action is None:
        info(f"no {WORKFLOW}: this copy was not installed from a GitHub repository, so the action to use is "
             f"unknown; add it with: {CONSOLE_PROG} init {args.dir} --workflow-only --action OWNER/REPO@REF")
    if args.workflow_only:
        return OK
    where = "" if os.path.abspath(args.dir) == os.getcwd() else f" {os.path.join(args.dir, 'routes.yaml')}"
    info(f"next: put your subnets, security group and services in routes.yaml, then {CONSOLE_PROG} check{where}")
    return OK


def starter_files(action: str | None) -> dict[str, bytes]:
    """Relative path -> content, in the order they are written."""
    from ..language.schema import json_schema

    starter = resources.files(__package__) / "starter"
    files = {
        "routes.yaml": (starter / "routes.yaml").read_bytes(),
        "routes.schema.json": (json.dumps(json_schema(), indent=2) + "\n").encode(),
        "cdktf.json": (json.dumps(CDKTF_JSON, indent=2) + "\n").encode(),
        ".gitignore": (starter / "gitignore").read_bytes(),
    }
    if action is not None:
        files[WORKFLOW] = (starter / "routes-review.yml").read_text().replace("{action}", action).encode()
    return files


# The cdktf CLI runs `app` in the project folder; the constructs path is asked for by name (synth's default is the
# direct engine, which writes the same bytes without them).
CDKTF_JSON = {"language": "python", "app": f"{CONSOLE_PROG} synth routes.yaml --engine cdktf",
              "projectId": "cloudmap-routes", "sendCrashReports": "false", "terraformProviders": [],
              "terraformModules": [], "codeMakerOutput": "imports", "context": {}}


def installed_action() -> str | None:
    """`OWNER/REPO@COMMIT` of the GitHub repository pip installed this copy from (PEP 610's direct_url.json): a
    git URL (`pip install git+https://github.com/...`), or a local clone whose `origin` is on GitHub."""
    from importlib import metadata

    try:
        text = metadata.distribution("cloudmap-routes").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    return action_from_direct_url(text, _clone_origin)


def action_from_direct_url(text: str | None, clone_origin=lambda path: None) -> str | None:
    """The action reference a PEP 610 record names, pinned to the commit installed; `clone_origin(path)` gives a
    local directory's (origin URL, HEAD commit), or None."""
    try:
        record = json.loads(text or "")
    except ValueError:
        return None
    url = record.get("url") if isinstance(record, dict) else None
    if not isinstance(url, str):
        return None
    vcs = record.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") == "git":
        origin = (url, vcs.get("commit_id"))
    elif isinstance(record.get("dir_info"), dict) and urlsplit(url).scheme == "file":
        origin = clone_origin(urlsplit(url).path)
    else:
        origin = None
    return github_action(*origin) if origin else None


def github_action(url: str, commit) -> str | None:
    """OWNER/REPO@COMMIT for a github.com git URL (https, ssh or scp form), else None."""
    scp = re.fullmatch(r"git@github\.com:(.+)", url)
    parts = urlsplit(url)
    path = scp.group(1) if scp else (parts.path if parts.hostname == "github.com" else None)
    if path is None or not isinstance(commit, str) or not re.fullmatch(r"[0-9a-f]{40}", commit):
        return None
    reference = f"{path.strip('/').removesuffix('.git')}@{commit}"
    return reference if ACTION.fullmatch(reference) and reference.count("/") == 1 else None


def _clone_origin(path: str) -> tuple[str, str] | None:
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", path, *args], capture_output=True, text=True, timeout=10,
                              stdin=subprocess.DEVNULL).stdout.strip()
    try:
        return git("remote", "get-url", "origin"), git("rev-parse", "HEAD")
    except (OSError, subprocess.SubprocessError):
        return None


class InitError(Exception):
    pass


@dataclass
class _Written:
    """What this run created, to take back if it cannot finish: files (dir fd, name, inode) and directories."""

    files: list[tuple[int, str, int]] = field(default_factory=list)
    directories: list[tuple[int | None, str]] = field(default_factory=list)  # (parent fd or None, name or path)


def write_new_files(root: str, files: dict[str, bytes]) -> None:
    """Write every file under `root`, or none: InitError (nothing left behind) when any exists or fails."""
    written = _Written()
    fds: dict[str, int] = {}
    try:
        fds[""] = _open_root(root, written)
        for relative in files:
            _open_dirs(root, os.path.dirname(relative), fds, written)
        existing = [relative for relative in files if _exists(fds[os.path.dirname(relative)],
                                                              os.path.basename(relative))]
        if existing:
            raise InitError(f"{', '.join(os.path.join(root, e) for e in existing)} already exist(s); init writes "
                            "only new files (move them away, or init another folder)")
        for relative, content in files.items():
            _write_new(fds[os.path.dirname(relative)], os.path.basename(relative), content, root, relative, written)
    except BaseException:
        _take_back(written)
        raise
    finally:
        for fd in fds.values():
            os.close(fd)


def _open_root(root: str, written: _Written) -> int:
    try:
        os.mkdir(root)
        written.directories.append((None, root))
    except FileExistsError:
        pass
    except OSError as exc:
        raise InitError(f"cannot create {root}: {exc.strerror}") from None
    return _open_dir(root, None, root)


def _open_dir(name: str, dir_fd: int | None, shown: str) -> int:
    """Open a directory, never through a symbolic link (O_NOFOLLOW: ELOOP, or ENOTDIR with O_DIRECTORY)."""
    try:
        return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError as exc:
        try:
            link = stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode)
        except OSError:
            link = False
        why = "it is a symbolic link, which init does not follow" if link else exc.strerror
        raise InitError(f"cannot use {shown}: {why}") from None


def _open_dirs(root: str, relative: str, fds: dict[str, int], written: _Written) -> None:
    """Open (creating) each directory on the way to `relative`, never through a symbolic link."""
    parent = ""
    for part in relative.split("/") if relative else ():
        path = f"{parent}/{part}" if parent else part
        if path not in fds:
            try:
                os.mkdir(part, 0o777, dir_fd=fds[parent])
                written.directories.append((fds[parent], part))
            except FileExistsError:
                pass
            fds[path] = _open_dir(part, fds[parent], os.path.join(root, path))
        parent = path


def _exists(dir_fd: int, name: str) -> bool:
    try:
        os.lstat(name, dir_fd=dir_fd)
        return True
    except FileNotFoundError:
        return False


def _write_new(dir_fd: int, name: str, content: bytes, root: str, relative: str, written: _Written) -> None:
    """Write a temporary file beside `name`, then link it to `name` (fails if `name` exists, even as a link)."""
    temporary = f".{name}.init-{secrets.token_hex(4)}"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666,
                     dir_fd=dir_fd)
        try:
            os.write(fd, content)
            os.fsync(fd)
            inode = os.fstat(fd).st_ino
        finally:
            os.close(fd)
        try:
            os.link(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
            written.files.append((dir_fd, name, inode))
        finally:
            os.unlink(temporary, dir_fd=dir_fd)
    except FileExistsError:
        raise InitError(f"{os.path.join(root, relative)} appeared while init ran; init writes only new files") from None
    except OSError as exc:
        raise InitError(f"cannot write {os.path.join(root, relative)}: {exc.strerror}") from None


def _take_back(written: _Written) -> None:
    """Remove what this run wrote (only files that are still the ones it wrote), then the directories it made."""
    for dir_fd, name, inode in reversed(written.files):
        with contextlib.suppress(OSError):
            if os.lstat(name, dir_fd=dir_fd).st_ino == inode:
                os.unlink(name, dir_fd=dir_fd)
    for parent_fd, name in reversed(written.directories):
        with contextlib.suppress(OSError):  # not empty (someone else wrote there meanwhile): left alone
            os.rmdir(name, dir_fd=parent_fd) if parent_fd is not None else os.rmdir(name)


class _Terminated(BaseException):
    """SIGTERM while files are written (a BaseException, like KeyboardInterrupt: no `except Exception` eats it)."""


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM while files are written raises _Terminated, so what was written is taken back."""
    def interrupt(signum, frame):
        raise _Terminated

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
