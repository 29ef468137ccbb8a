"""Reading and writing a file a user names: regular files only, a bounded read, never blocking on a FIFO or a
device, never following a link when writing, and writes that are whole or absent."""

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


def write_problem(path: str, replace: bool) -> str:
    """Why `path` must not be written, or "": a symbolic link (dangling or not: writing would follow it and write
    its target), something that is not a regular file, or a file that exists when `replace` is not given."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return ""
    except OSError as exc:
        return f"{path}: {exc.strerror or exc}"
    if stat.S_ISLNK(mode):
        return f"{path} is a symbolic link: name the file itself (links are never followed)"
    if not stat.S_ISREG(mode):
        return f"{path} exists and is not a regular file"
    return "" if replace else f"{path} exists; pass --force to replace it"


class Staged:
    """A file's new content, written in full and flushed to disk beside it under a temporary name; `commit` puts
    it in place in one rename, so a reader (or a crash) sees the old file or the new one, never a part of one."""

    def __init__(self, path: str, data: bytes) -> None:
        import tempfile
        self.path = path
        directory = os.path.dirname(os.path.abspath(path))
        fd, self.temp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
        try:
            mask = os.umask(0)
            os.umask(mask)
            os.fchmod(fd, 0o666 & ~mask)  # what open() would have made; mkstemp makes 0600
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            self.discard()
            raise
        os.close(fd)

    def commit(self, replace: bool) -> None:
        """Put the file in place. Without `replace` an existing name (a file, a link, anything) is never touched:
        link(2) fails if the name exists. With it, rename(2) replaces the name itself, never what a link points to.
        Raises FileExistsError or OSError; the temporary file is removed either way."""
        try:
            problem = write_problem(self.path, replace)
            if problem:
                raise FileExistsError(problem)
            if replace:
                os.replace(self.temp, self.path)
            else:
                _link_new(self.temp, self.path)
            _sync_directory(self.path)
        finally:
            self.discard()

    def discard(self) -> None:
        try:
            os.unlink(self.temp)
        except FileNotFoundError:
            pass


def _link_new(temp: str, path: str) -> None:
    """`temp` at the new name `path`, failing if the name exists. On a file system without hard links, the name is
    claimed with O_CREAT | O_EXCL (which never follows a link) and the content renamed over the empty claim."""
    import errno
    try:
        os.link(temp, path)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600))
        os.replace(temp, path)


def _sync_directory(path: str) -> None:
    """Make the rename durable (the directory entry), where the platform allows opening a directory."""
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
