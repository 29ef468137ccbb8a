"""Progress for long steps (terraform init/apply, reading many resources, waiting): a live line on a terminal,
plain start and end lines elsewhere.

On a TTY one line is rewritten in place (`\\r`, then clear to the end of the line) about twice a second: the step,
what is counted so far (`7/19 resources`) and the seconds spent; when the step ends the line is replaced by its
result. Anywhere else (a pipe, a CI log, a file) nothing is rewritten: one line when a step starts and one when
it ends, so logs stay readable (or, `terminal_only`, nothing). `quiet` prints neither. Nothing here is coloured.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from typing import Iterator, TextIO

CLEAR_LINE = "\r\x1b[K"


class Step:
    """One running step; `advance` counts what it has done (the line shows `done/total unit`)."""

    def __init__(self, progress: "Progress", title: str, total: int | None, unit: str) -> None:
        self.progress, self.title, self.total, self.unit = progress, title, total, unit
        self.done = 0
        self.started = time.monotonic()

    def advance(self, n: int = 1) -> None:
        self.done += n

    def line(self) -> str:
        counted = f" {self.done}/{self.total} {self.unit}" if self.total else (
            f" {self.done} {self.unit}" if self.unit else "")
        return f"{self.title}...{counted} ({time.monotonic() - self.started:.0f} s)"

    def elapsed(self) -> float:
        return time.monotonic() - self.started


class Progress:
    def __init__(self, stream: TextIO | None = None, quiet: bool = False, interval: float = 0.5,
                 terminal_only: bool = False) -> None:
        """`terminal_only`: off a terminal, print nothing at all (for steps of seconds, whose output is data)."""
        self.stream = stream if stream is not None else sys.stderr
        self.live = not quiet and _isatty(self.stream)
        self.quiet = quiet or (terminal_only and not self.live)
        self.interval = interval
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def step(self, title: str, total: int | None = None, unit: str = "") -> Iterator[Step]:
        """Show `title` while the block runs; then `title: done in N s` (or `failed after N s`)."""
        step = Step(self, title, total, unit)
        stop = threading.Event()
        ticker = None
        if self.live:
            ticker = threading.Thread(target=self._tick, args=(step, stop), daemon=True)
            ticker.start()
        elif not self.quiet:
            self._write(f"{title}...\n")
        outcome = "failed after"
        try:
            yield step
            outcome = "done in"
        finally:
            stop.set()
            if ticker is not None:
                ticker.join()
            if not self.quiet:
                counted = f", {step.done} {step.unit}" if step.unit and step.done else ""
                self._write(f"{CLEAR_LINE if self.live else ''}{title}: {outcome} {step.elapsed():.0f} s{counted}\n")

    def _tick(self, step: Step, stop: threading.Event) -> None:
        while True:
            self._write(CLEAR_LINE + step.line())
            if stop.wait(self.interval):
                return

    def _write(self, text: str) -> None:
        with self._lock:
            self.stream.write(text)
            self.stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
