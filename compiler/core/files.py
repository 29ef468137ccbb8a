"""Reading a file a user names: regular files only, a bounded read, never blocking on a FIFO or a device."""

from __future__ import annotations

import os
import stat

from .diagnostics import Diagnostic, at_file


def unreadable(why: str, path: str) -> list[Diagnostic]:
    return at_file([Diagnostic(0, 0, "E100", f"cannot read the file: {why}", "check the path")], path)


def read_capped(path: str, limit: int) -> tuple[bytes | None, str]:
    """At most limit + 1 bytes of a regular file, or (None, why not). Never blocks on a FIFO or a device."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return None, exc.strerror or str(exc)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            return None, "Is a directory"
        if not stat.S_ISREG(mode):
            return None, "not a regular file"
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks), ""
    except OSError as exc:
        return None, exc.strerror or str(exc)
    finally:
        os.close(fd)
