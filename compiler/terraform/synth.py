"""Writing the output: constructs (or the direct engine) -> Terraform JSON on disk, replacing the previous output without ever losing it.

synth replaces its output directory as a whole, so each rule below exists to make that safe:

- Ownership. synth only ever replaces a directory it created. Every output carries a marker file,
  `.cloudmap-routes-out` (MARKER; JSON `{"tool": "cloudmap-routes", ...}`). A missing or empty directory may be
  used; any other directory without the marker (`--out .`, a source tree), a symbolic link, a file, or a path
  under a file is refused with OutputError and nothing is touched. Deleting the marker takes a directory back.
- Atomic swap. The new output is generated in a work directory beside the target, `.synth-<name>.<8 hex>`
  (same filesystem, marker written first). Terraform's working files (KEEP: .terraform, the lock file, local
  state) are hard-linked (copied where links are impossible) from the old output's stack directory into it,
  never moved, so the old output stays whole. Then one renameat2(RENAME_EXCHANGE) swaps the two directories:
  at every instant `<out>` is the complete old or the complete new output. Where the kernel or filesystem lacks
  RENAME_EXCHANGE, three renames through `.synth-<name>.<hex>.ready` / `.retired` are used instead; a kill
  between them leaves `<out>` missing for a moment, and the next synth renames the retired output back.
- Other stacks. synth never removes a stack: every stacks/<other> directory of the old output that this run does
  not write (another environment's, or another --stack's) is hard-linked into the new output whole, .terraform and
  all, and its entry in manifest.json is kept, so `synth --env prod` leaves dev and staging as they were.
- Leftovers. A killed run may leave `.synth-<name>.<hex>[.ready|.retired|.trash]` directories; the next synth
  removes those, and only those that match the pattern exactly and carry the marker (or are empty). Trees are
  removed marker-last, so a half-removed one is still recognised as ours.
- Concurrency. All of it runs under flock on `.<name>.lock` beside the output; a second synth into the same
  directory waits for the first. The holder removes the file before releasing it (nothing is left beside
  routes.yaml), and whoever acquires it checks that the path still names the file it locked (_locked).
- SIGTERM. While synth runs, SIGTERM raises Terminated, so the work directory is removed and the interpreter
  exits normally, which lets the jsii runtime stop its node process (the default action kills Python alone and
  leaves node running). Two stretches hold SIGTERM back until they end: the swap (never cut in half) and
  cdktf's app.synth() (node is writing into the work directory; removing it meanwhile would race).

Test hook: with CLOUDMAP_ROUTES_TEST_PAUSE_AT=<step> synth prints "cloudmap-routes: paused at <step>" on stderr
and sleeps there, so a test can kill it at exactly that step. Steps, in order: locked, generated, carried,
exchanged (or, without RENAME_EXCHANGE: ready, set-aside), removing (an old tree half removed, marker still in).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import functools
import gc
import json
import os
import re
import secrets
import shutil
import signal
import stat
import sys
import threading
import time
from typing import Callable, Iterator, Sequence

from ..language.model import Model
from .plan import ResourcePlan, build, with_imports

TOOL = "cloudmap-routes"
MARKER = ".cloudmap-routes-out"
MARKER_TEXT = json.dumps({"tool": TOOL, "note": "written by `main.py synth`, which replaces this directory on "
                          "every run; delete this file to stop it"}, indent=2) + "\n"
# Terraform's files in stacks/<stack>/: the provider cache and lock (so `plan` needs no new `init`) and local
# state (a local backend keeps non-default workspaces in terraform.tfstate.d of the working directory).
KEEP = (".terraform", ".terraform.lock.hcl", "terraform.tfstate", "terraform.tfstate.backup", "terraform.tfstate.d")
PAUSE_ENV = "CLOUDMAP_ROUTES_TEST_PAUSE_AT"
STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


class OutputError(Exception):
    """A usage error about the output directory or stack name; nothing on disk was changed. The CLI exits 2."""


class Terminated(BaseException):
    """SIGTERM arrived during synth. A BaseException, like KeyboardInterrupt, so no `except Exception` eats it."""

    def __init__(self, out: str) -> None:
        super().__init__(out)
        self.out = out
        self.replaced = False  # set once the new output is in place

    def __str__(self) -> str:
        return f"interrupted by SIGTERM; {self.out} " + ("holds the new output" if self.replaced else "left as it was")


def synthesize(model: Model, out: str, stack: str = "routes", local_endpoint: str | None = None,
               state: str | None = None, engine: str = "cdktf", imports: Sequence[tuple[str, str]] = ()) -> str:
    """Write <out>/stacks/<stack>/cdk.tf.json (and cdktf's manifest); return the JSON file's path.

    `state` is None (a local state file beside routes.yaml) or s3://BUCKET/KEY. `engine` is `cdktf` (CDKTF
    writes the files) or `direct` (compiler.terraform.direct writes the same bytes without Node or jsii).
    Raises OutputError when `out` or `stack` may not be used, Terminated on SIGTERM.
    """
    return synthesize_stacks([(stack, model)], out, local_endpoint, state, engine, imports)[0]


def synthesize_stacks(stacks: Sequence[tuple[str, Model]], out: str, local_endpoint: str | None = None,
                      state: str | None = None, engine: str = "cdktf",
                      imports: Sequence[tuple[str, str]] = ()) -> list[str]:
    """Write one stack per (name, model), <out>/stacks/<name>/cdk.tf.json, in one app (one manifest); return the
    JSON files' paths. Other stacks already in <out> (another environment's) are carried over whole, with their
    Terraform files: synth never removes a stack. `state`, when given, overrides each model's own."""
    for stack, _ in stacks:
        problem = stack_problem(stack)
        if problem:
            raise OutputError(problem)
    write = stacks_writer(engine)
    plans = [(stack, build(model, local_endpoint, state, stack)) for stack, model in stacks]
    if imports:  # Terraform import blocks (`main.py import`): one stack adopts them; ImportsError if they do not fit
        if len(plans) != 1:
            raise OutputError("--imports adopts existing resources into one stack: choose its environment with --env")
        plans = [(plans[0][0], with_imports(plans[0][1], imports))]
    with _sigterm_raises(out):
        target = replace_output(out, lambda work: write(plans, work),
                                [os.path.join("stacks", stack) for stack, _ in stacks], carry_stacks=True)
    return [os.path.join(target, "stacks", stack, "cdk.tf.json") for stack, _ in stacks]


def engine_writer(engine: str):
    """The function that fills a fresh directory with cdktf.out's files: (plan, outdir, stack) -> None."""
    if engine == "direct":
        from .direct import write_direct  # imports no cdktf, constructs or jsii
        return write_direct
    if engine == "cdktf":
        return synth_plan
    raise ValueError(f"unknown engine {engine!r}: expected cdktf or direct")


def stacks_writer(engine: str) -> Callable[[Sequence[tuple[str, ResourcePlan]], str], None]:
    """Like engine_writer, for several stacks in one app: ([(stack, plan)], outdir) -> None."""
    if engine == "direct":
        from .direct import write_direct_stacks  # imports no cdktf, constructs or jsii
        return write_direct_stacks
    if engine == "cdktf":
        return synth_plans
    raise ValueError(f"unknown engine {engine!r}: expected cdktf or direct")


def synth_plan(plan: ResourcePlan, outdir: str, stack: str) -> None:
    synth_plans([(stack, plan)], outdir)


def synth_plans(plans: Sequence[tuple[str, ResourcePlan]], outdir: str) -> None:
    from .emit import RoutesStack, cdktf

    # Construction allocates many short-lived jsii proxies and no cycles worth collecting mid-way.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        app = cdktf.App(outdir=outdir, skip_validation=False)
        for stack, plan in plans:
            RoutesStack(app, stack, plan)
        with _sigterm_deferred():  # node writes the files now; SIGTERM waits until it is done
            app.synth()
        from .direct import write_assets  # the functions' zips (CDKTF knows nothing of them), as direct does

        for stack, plan in plans:
            write_assets(plan, outdir, stack)
    finally:
        if gc_was_enabled:
            gc.enable()


def stack_problem(stack: str) -> str:
    """Why `stack` is not a usable stack name, or "". It becomes a directory (stacks/<stack>) and part of the
    state file's name, so `../x`, an empty name and the like must never reach the filesystem."""
    if STACK_NAME.fullmatch(stack):
        return ""
    return (f"stack name {stack!r} is not allowed: use 1-64 letters, digits, '-' or '_', starting with a letter "
            f"(it names the directory stacks/<stack> and the state file)")


def output_problem(out: str) -> str:
    """Why synth must not replace `out`, or "" when it may: it is missing, empty, or carries our marker."""
    target = os.path.abspath(out)
    parent, name = os.path.split(target)
    if not name:
        return f"output directory '{out}' is the filesystem root; choose a directory of its own with --out"
    try:
        mode = os.lstat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return _parent_problem(out, parent)
    except OSError as exc:
        return f"output directory '{out}': cannot inspect it: {exc.strerror}"
    if stat.S_ISLNK(mode):
        return (f"output directory '{out}' is a symbolic link; synth replaces its output directory as a whole and "
                f"does not follow links: pass a real directory with --out")
    if not stat.S_ISDIR(mode):
        return f"output directory '{out}' is a file, not a directory; choose another --out"
    if is_owned(target) or _is_empty(target):
        return ""
    return (f"output directory '{out}' is not empty and synth did not create it (it has no {MARKER} file); "
            f"synth replaces its output directory as a whole, so it leaves this one alone: pass a new or empty "
            f"directory with --out (or, if '{out}' is an older synth's output, delete it first)")


def is_owned(directory: str) -> bool:
    """True when `directory` carries our marker: a regular file (not a link) naming this tool."""
    try:
        fd = os.open(os.path.join(directory, MARKER), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        data = json.loads(os.read(fd, 4096))
    except (OSError, ValueError):
        return False
    finally:
        os.close(fd)
    return isinstance(data, dict) and data.get("tool") == TOOL


def replace_output(out: str, generate: Callable[[str], None], keep_in: str | Sequence[str],
                   carry_stacks: bool = False) -> str:
    """Make the tree `generate(work_dir)` writes the directory `out`; return its absolute path.

    Terraform's working files (KEEP) under `keep_in` (relative, e.g. stacks/routes; or several) of the old output
    are carried into the new one. With `carry_stacks`, every stack directory of the old output that the new one
    does not have (stacks/<other>, another environment's) is carried over whole, and its manifest entry with it.
    Raises OutputError when `out` is not ours to replace; then nothing at all is created.
    """
    _refuse(output_problem(out))  # before the lock file, so a refusal leaves no trace
    target = os.path.abspath(out)
    parent, name = os.path.split(target)
    _make_parent(out, parent)
    with _locked(out, parent, name):
        _checkpoint("locked")
        _recover(target)
        _refuse(output_problem(out))  # again: it may have changed while we waited for the lock
        _sweep(target)
        _generate_and_swap(target, generate, [keep_in] if isinstance(keep_in, str) else list(keep_in), carry_stacks)
    return target


def _generate_and_swap(target: str, generate: Callable[[str], None], keep_in: list[str],
                       carry_stacks: bool = False) -> None:
    """The work directory either becomes `target` or is removed; the old output is removed once replaced."""
    work = _new_work_dir(*os.path.split(target))
    replaced, retired = False, None
    try:
        generate(work)
        _checkpoint("generated")
        for stack in keep_in:
            _carry_over(os.path.join(target, stack), os.path.join(work, stack))
        if carry_stacks:
            _carry_stacks(target, work)
        _checkpoint("carried")
        with _sigterm_deferred():
            retired = _swap(work, target)
            replaced = True
        if retired:
            _remove_tree(retired)
    except BaseException as exc:
        leftover = retired if replaced else work
        if leftover:
            with contextlib.suppress(OSError):
                _remove_tree(leftover)
        with contextlib.suppress(OSError):
            _recover(target)  # only an error between the fallback's renames needs this
        if isinstance(exc, Terminated):
            exc.replaced = replaced
        raise


def _refuse(problem: str) -> None:
    if problem:
        raise OutputError(problem)


def _parent_problem(out: str, parent: str) -> str:
    """`out` does not exist: the nearest existing ancestor must be a directory (`file/x` is refused)."""
    path = parent
    while not os.path.isdir(path):  # follows links: a linked parent directory is fine
        if os.path.lexists(path):
            return f"output directory '{out}': {path} is not a directory; choose another --out"
        up = os.path.dirname(path)
        if up == path:
            break
        path = up
    return ""


def _make_parent(out: str, parent: str) -> None:
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"output directory '{out}': cannot create {parent}: {exc.strerror}") from None


def _is_empty(directory: str) -> bool:
    try:
        with os.scandir(directory) as entries:
            return next(entries, None) is None
    except OSError:
        return False


@contextlib.contextmanager
def _locked(out: str, parent: str, name: str) -> Iterator[None]:
    """Hold flock on `.<name>.lock` beside the output, so two synths into one directory take turns; the holder
    removes the file before it lets go, so no empty lock file stays beside routes.yaml.

    Removing a lock file is safe only with a check after each acquisition: a waiter may have opened the file the
    holder then unlinked, and would hold a lock on a name nobody else can find. So after flock the path must still
    name the locked file (same device and inode); otherwise the lock is dropped and taken again on the new file."""
    path = os.path.join(parent, f".{name}.lock")
    waited = False
    while True:
        fd = _open_lock(out, path)
        try:
            waited = _flock(fd, out, path, waited)
            if _names(path, fd):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # the file was removed (or replaced) while we waited: lock the one the path names now
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # while still holding the lock: every waiter re-checks the path after its flock
        os.close(fd)  # releases the lock; the kernel does the same when the process is killed


def _open_lock(out: str, path: str) -> int:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        raise OutputError(f"output directory '{out}': cannot open the lock file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OutputError(f"output directory '{out}': the lock file {path} is not a regular file")
    return fd


def _flock(fd: int, out: str, path: str, waited: bool) -> bool:
    """Take the lock, saying once that we wait for it; returns whether we have said so."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return waited
    except BlockingIOError:
        if not waited:
            print(f"waiting for another synth into {out} to finish (lock {path})", file=sys.stderr, flush=True)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return True


def _names(path: str, fd: int) -> bool:
    """True when `path` is (still) the file open as `fd`."""
    try:
        named = os.lstat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def _leftovers(target: str) -> list[tuple[str, str]]:
    """Directories a killed synth into `target` may have left beside it: (path, kind), kind in "" (work),
    ready, retired, trash. Only exact name matches that carry our marker (or are empty) qualify."""
    parent, name = os.path.split(target)
    pattern = re.compile(r"\.synth-" + re.escape(name) + r"\.[0-9a-f]{8}(?:\.(ready|retired|trash))?")
    found = []
    with os.scandir(parent) as entries:
        for entry in entries:
            match = pattern.fullmatch(entry.name)
            if match and entry.is_dir(follow_symlinks=False) and (is_owned(entry.path) or _is_empty(entry.path)):
                found.append((entry.path, match.group(1) or ""))
    return sorted(found)


def _recover(target: str) -> None:
    """A run killed between the fallback's renames leaves `target` missing and the complete old output set aside
    (`.retired`; the new one, `.ready`, is complete too): put one back before anything else happens."""
    if os.path.lexists(target):
        return
    complete = [(kind != "retired", path) for path, kind in _leftovers(target) if kind in ("ready", "retired")]
    if complete:
        os.rename(min(complete)[1], target)  # the retired (previous) output first: the killed run never finished


def _sweep(target: str) -> None:
    """Remove what killed runs left beside `target` (only while holding the lock: no live run owns them then)."""
    for path, kind in _leftovers(target):
        if kind in ("ready", "retired"):
            path = _rename_to_trash(path)  # a half-removed tree must never look complete to _recover
        _remove_tree(path)


def _new_work_dir(parent: str, name: str) -> str:
    while True:
        path = os.path.join(parent, f".synth-{name}.{secrets.token_hex(4)}")
        try:
            os.mkdir(path, 0o777)  # the umask applies: an ordinary directory (mkdtemp's would be private)
            break
        except FileExistsError:
            continue
    with open(os.path.join(path, MARKER), "x") as marker:  # first, so a killed run's tree is known to be ours
        marker.write(MARKER_TEXT)
    return path


def _carry_over(old_stack: str, new_stack: str) -> None:
    """Give the new stack directory Terraform's files from the old one. Hard links (or copies), never a move:
    until the swap the old output must stay whole, with its .terraform, lock file and state."""
    if not os.path.isdir(old_stack):
        return
    for name in KEEP:
        source = os.path.join(old_stack, name)
        if os.path.lexists(source):
            os.makedirs(new_stack, exist_ok=True)
            _link_copy(source, os.path.join(new_stack, name))


STACKS = "stacks"
MANIFEST = "manifest.json"


def _carry_stacks(old: str, new: str) -> None:
    """Give the new output every stack directory of the old one that it does not have, whole (hard links), and
    their entries in manifest.json, so that synthesizing one environment leaves the others as they were."""
    old_stacks, new_stacks = os.path.join(old, STACKS), os.path.join(new, STACKS)
    try:
        with os.scandir(old_stacks) as entries:
            others = sorted(e.name for e in entries if e.is_dir(follow_symlinks=False)
                            and not os.path.lexists(os.path.join(new_stacks, e.name)))
    except (FileNotFoundError, NotADirectoryError):
        return
    if not others:
        return
    os.makedirs(new_stacks, exist_ok=True)
    for name in others:
        _link_copy(os.path.join(old_stacks, name), os.path.join(new_stacks, name))
    try:
        with open(os.path.join(old, MANIFEST), encoding="utf-8") as f:
            old_manifest = json.load(f)
        with open(os.path.join(new, MANIFEST), encoding="utf-8") as f:
            new_manifest = json.load(f)
    except (OSError, ValueError):
        return  # no manifest to merge (the directories alone are carried)
    carried = {k: v for k, v in (old_manifest.get("stacks") or {}).items() if k in others}
    if not carried or not isinstance(new_manifest.get("stacks"), dict):
        return
    new_manifest["stacks"].update(carried)
    from .direct import stringify  # the serializer CDKTF writes the manifest with (sorted keys, 2 spaces)
    with open(os.path.join(new, MANIFEST), "w", encoding="utf-8", newline="") as f:
        f.write(stringify(new_manifest))


def _link_copy(source: str, dest: str) -> None:
    """Copy a file or tree as hard links, keeping symbolic links as links (Terraform links providers from a
    cache or mirror). A provider binary is hundreds of MB; a hard link costs nothing."""
    if os.path.islink(source):
        os.symlink(os.readlink(source), dest)
    elif os.path.isdir(source):
        shutil.copytree(source, dest, symlinks=True, copy_function=_link_or_copy)
    else:
        _link_or_copy(source, dest)


def _link_or_copy(source: str, dest: str) -> None:
    try:
        os.link(source, dest, follow_symlinks=False)
    except OSError:  # another filesystem below us, or one without hard links
        shutil.copy2(source, dest, follow_symlinks=False)


def _swap(work: str, target: str) -> str | None:
    """Put `work` at `target`; return the path now holding the previous output (to remove), if any."""
    if not os.path.lexists(target):
        os.rename(work, target)
        return None
    if _exchange(work, target):
        _checkpoint("exchanged")
        return _rename_to_trash(work)
    ready = work + ".ready"
    os.rename(work, ready)
    _checkpoint("ready")
    retired = work + ".retired"
    os.rename(target, retired)  # from here until the next rename `target` is missing; _recover repairs that
    _checkpoint("set-aside")
    os.rename(ready, target)
    return _rename_to_trash(retired)


def _exchange(a: str, b: str) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where that is not supported."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(-100, os.fsencode(a), -100, os.fsencode(b), 2) == 0:  # AT_FDCWD, RENAME_EXCHANGE
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), a, None, b)


@functools.lru_cache(maxsize=None)
def _renameat2():
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # not glibc >= 2.28 / not Linux
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    function.restype = ctypes.c_int
    return function


def _rename_to_trash(path: str) -> str:
    """Rename one of our trees to its `.trash` name before removing it, so a half-removed `.retired` tree is
    never mistaken for a complete output."""
    trash = re.sub(r"\.(ready|retired|trash)$", "", path) + ".trash"
    if trash != path:
        if os.path.lexists(trash):
            _remove_tree(trash)
        os.rename(path, trash)
    return trash


def _remove_tree(path: str) -> None:
    """Remove one of our trees, marker last: if this is cut short, what is left still carries the marker and the
    next synth finishes the job."""
    with os.scandir(path) as entries:
        children = [entry for entry in entries if entry.name != MARKER]
    for entry in children:
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)
    _checkpoint("removing")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(path, MARKER))
    os.rmdir(path)


class _Sigterm:
    """Where SIGTERM must wait (`depth` > 0), the handler parks its Terminated in `pending` instead of raising."""

    depth = 0
    pending: Terminated | None = None


@contextlib.contextmanager
def _sigterm_raises(out: str) -> Iterator[None]:
    """Turn SIGTERM into Terminated while synth runs, so clean-up and the jsii runtime's shutdown happen."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers
        return

    def handler(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one is enough: let the clean-up finish
        if _Sigterm.depth:
            _Sigterm.pending = Terminated(out)
        else:
            raise Terminated(out)

    _Sigterm.pending = None
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


@contextlib.contextmanager
def _sigterm_deferred() -> Iterator[None]:
    """Hold SIGTERM back until the block is done: the swap must not be cut in half, and while cdktf's node
    process writes files into the work directory, removing that directory would race with it. A flag, not the
    signal mask: a masked signal would be inherited by the node process jsii may start meanwhile."""
    _Sigterm.depth += 1
    try:
        yield
    finally:
        _Sigterm.depth -= 1
        if not _Sigterm.depth and _Sigterm.pending is not None:
            pending, _Sigterm.pending = _Sigterm.pending, None
            raise pending


def _checkpoint(step: str) -> None:
    """Test hook (CLOUDMAP_ROUTES_TEST_PAUSE_AT=<step>): announce the step and sleep, so a test can kill us there."""
    if os.environ.get(PAUSE_ENV) == step:
        print(f"cloudmap-routes: paused at {step}", file=sys.stderr, flush=True)
        time.sleep(60)
