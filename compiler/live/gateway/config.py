"""Reading routes.yaml for `serve`: `check`'s checks and limits, in a worker thread, never on the event loop.

The file is read with core.files.read_capped (a regular file only, at most the loader's 1 MiB limit plus one byte,
opened non-blocking), so a FIFO, a device or a 300 MB file put in its place is refused at once, and the compile
runs in a thread (`asyncio.to_thread`), so requests are answered meanwhile.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import Optional, TextIO

from ...core.diagnostics import Diagnostic, at_file, has_errors, render_text
from ...core.files import read_capped
from ...language import compile_text
from ...language.loader import MAX_BYTES, decode
from ...language.model import Model
from ..routing import Router

MISSING = ("missing",)  # the stamp of a file that cannot be read


@dataclass(frozen=True)
class Config:
    model: Model
    router: Router


@dataclass(frozen=True)
class Loaded:
    """One read of routes.yaml. `config` None: keep what is served (unchanged, unreadable or invalid)."""

    stamp: tuple
    text: Optional[bytes] = None
    config: Optional[Config] = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    problem: str = ""  # why the file cannot be read; "" when it was read
    unchanged: bool = False


def stamp(file: str) -> tuple:
    """What tells a changed file from an unchanged one without reading it (os.stat never blocks on a FIFO)."""
    try:
        info = os.stat(file)
    except OSError:
        return MISSING
    return (info.st_mtime_ns, info.st_size, info.st_ino)


def read_config(file: str, environment: Optional[str], previous: Optional[bytes]) -> Loaded:
    """Read and compile routes.yaml (in a worker thread). `previous`: the bytes served now, not compiled again."""
    now = stamp(file)
    raw, why = read_capped(file, MAX_BYTES)
    if raw is None:
        return Loaded(MISSING, problem=why)
    if raw == previous:
        return Loaded(now, raw, unchanged=True)
    if len(raw) > MAX_BYTES:
        return Loaded(now, raw, diagnostics=at_file([Diagnostic(
            0, 0, "E100", f"the file is larger than the limit of {MAX_BYTES:,} bytes (1 MiB)",
            "split the API into several files")], file))
    text, problems = decode(raw)
    if text is None:
        return Loaded(now, raw, diagnostics=at_file(problems, file))
    model, diagnostics = compile_text(text, file, environment)
    config = Config(model, Router(model.routes)) if model is not None and not has_errors(diagnostics) else None
    return Loaded(now, raw, config, diagnostics)



class Watched:
    """The routes.yaml being served: read again when its stamp changes; what is wrong with it goes to `err`."""

    def __init__(self, file: str, environment: Optional[str], err: TextIO) -> None:
        self.file, self.environment, self.err = file, environment, err  # environment: of a file with environments
        self.config: Optional[Config] = None
        self._stamp: Optional[tuple] = None
        self._text: Optional[bytes] = None

    def changed(self) -> bool:
        return stamp(self.file) != self._stamp

    async def reload(self) -> bool:
        """(Re)read routes.yaml off the event loop. True when a new configuration is in place; an unreadable or
        invalid file keeps the old one."""
        return self._apply(await asyncio.to_thread(read_config, self.file, self.environment, self._text))

    def _say(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def _apply(self, loaded: Loaded) -> bool:
        if loaded.problem:
            if self._stamp != MISSING:
                self._say(f"{self.file}: cannot read ({loaded.problem}); "
                          f"{'still serving the previous configuration' if self.config else 'nothing to serve'}")
            self._stamp = MISSING
            return False
        self._stamp = loaded.stamp
        if loaded.unchanged:
            return False
        self._text = loaded.text
        if loaded.diagnostics:
            self._say(render_text(loaded.diagnostics))
        if loaded.config is None:
            if self.config is not None:
                self._say(f"{self.file}: invalid; still serving the previous configuration")
            return False
        first = self.config is None
        self.config = loaded.config
        if not first:
            self._say(f"{self.file}: reloaded ({len(loaded.config.model.routes)} route(s))")
        return True
