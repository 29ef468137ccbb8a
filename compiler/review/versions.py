"""The two routes.yaml versions `diff` compares: a file, or a git revision of one, read as `check` reads it."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from dataclasses import dataclass, field
from typing import Iterable, Optional

from ..core.diagnostics import WARNING, Diagnostic, at_file
from ..core.files import unreadable
from ..core.text import visible
from ..language import compile_file, compile_text
from ..language.loader import MAX_BYTES, decode, load_text
from ..language.model import Model
from ..language.rules import route_id_of


class UsageError(Exception):
    """A command-line argument this command refuses (exit 2)."""


@dataclass(frozen=True)
class Findings:
    """The warnings `check` gives one version, by the route they are about (None: the rest of the file), as
    (code, message) pairs: what `diff` compares to list the warnings a change introduces."""

    by_route: dict[Optional[str], tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def of(self, route_id: Optional[str]) -> tuple[tuple[str, str], ...]:
        return self.by_route.get(route_id, ())


_ROUTE_LOC = re.compile(r"^routes\[([0-9]+)\]")


def findings(diagnostics: Iterable[Diagnostic], text: str) -> Findings:
    """Each warning under `routes[i]` belongs to the i-th route of the document (the model sorts routes by id)."""
    document, _ = load_text(text, fast=True)
    routes = document.data.get("routes") if document is not None and isinstance(document.data, dict) else None
    order = [route_id_of(r) if isinstance(r, dict) else None for r in routes] if isinstance(routes, list) else []
    found: dict[Optional[str], list[tuple[str, str]]] = {}
    for diagnostic in diagnostics:
        if diagnostic.severity != WARNING:
            continue
        match = _ROUTE_LOC.match(diagnostic.loc)
        index = int(match.group(1)) if match else -1
        route = order[index] if 0 <= index < len(order) else None
        found.setdefault(route, [])
        if (diagnostic.code, diagnostic.message) not in found[route]:
            found[route].append((diagnostic.code, diagnostic.message))
    return Findings({k: tuple(v) for k, v in found.items()})


def version_text(spec: str) -> str:
    """The text of a version `compile_version` read successfully (the file again, or the git blob)."""
    if ":" in spec and not os.path.lexists(spec):
        raw, _ = _git_blob(spec, MAX_BYTES)
    else:
        with open(spec, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    text, _ = decode(raw or b"")
    return text or ""


def compile_version(spec: str, environment: str | None = None) -> tuple[Model | None, list[Diagnostic]]:
    """Compile a file path, or a git revision of one (`origin/main:routes.yaml`), as `check` would.

    A path that exists is a file, read by `check`'s own reader (compile_file: the same size limit, UTF-8 rule and
    diagnostics) once it is known to be a regular file or a directory, never a FIFO or a device that could block.
    Otherwise a spec with a `:` is a git REV:PATH, held to the same limit. Raises UsageError for a revision that
    git would take for an option.
    """
    if ":" in spec and not os.path.lexists(spec):
        if spec.startswith("-"):
            raise UsageError(f"{spec!r}: a git revision cannot start with '-'")
        raw, why = _git_blob(spec, MAX_BYTES)
        if raw is None:
            return None, unreadable(why, spec)
        if len(raw) > MAX_BYTES:
            return None, at_file([Diagnostic(0, 0, "E100", f"the blob is larger than the limit of {MAX_BYTES:,} "
                                             "bytes (1 MiB)", "split the API into several files")], spec)
        text, problems = decode(raw)
        return (None, at_file(problems, spec)) if text is None else compile_text(text, spec, environment)
    try:
        mode = os.stat(spec).st_mode
    except OSError:
        mode = None  # missing, or a path through a file: compile_file reports it as `check` does
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        return None, unreadable("not a regular file", spec)
    return compile_file(spec, environment)


def _git_blob(spec: str, limit: int) -> tuple[bytes | None, str]:
    """The blob at REV:PATH, at most limit + 1 bytes. `--end-of-options`: nothing in spec is read as an option.

    `git cat-file blob` rather than `git show`: it refuses trees and commits, applies no textconv filter, and
    its output is read only up to the limit (then git is stopped), so a huge blob costs nothing.
    """
    try:
        proc = subprocess.Popen(["git", "cat-file", "blob", "--end-of-options", spec], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        return None, f"no such file, and git cannot run: {exc.strerror or exc}"
    assert proc.stdout is not None and proc.stderr is not None
    with proc:
        raw = proc.stdout.read(limit + 1)
        if len(raw) > limit:
            proc.kill()
            proc.wait()
            return raw, ""
        error = proc.stderr.read(4096).decode("utf-8", "replace")
        if proc.wait() != 0:
            reason = (error.strip().splitlines() or ["git failed"])[-1].removeprefix("fatal: ")
            return None, f"no such file, and git cannot read it as REV:PATH: {visible(reason)}"
    return raw, ""
