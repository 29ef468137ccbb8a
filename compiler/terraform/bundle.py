"""Deployment packages for the shipped Lambda handlers (compiler/handlers/*.py), built reproducibly.

`handler_zip("fanout")` is a zip holding the handler's files (HANDLER_FILES: `fanout.py`, the `settings.py` it
reads its environment with and the `cloudmap.py` it reads Cloud Map's answers with) at its root, so the function's
handler is `HANDLER_ENTRY["fanout"]` ("fanout.handler"). The bytes depend only on the module's source: the entry's date is
1980-01-01 00:00:00 (the zip format's earliest), its permissions 0644 for a Unix creator, there are no extra
fields and no comment, entries are sorted by name, and the data is stored, not deflated. The working directory,
time zone, umask and the source file's own mtime and mode play no part, so two synths in different folders or on
different days write the same zip and the same `source_code_hash`.

Stored, because deflate's output comes from the zlib Python is linked with: zlib 1.2/1.3 agree, but zlib-ng's
compatibility mode (which some distributions ship as their zlib) may not, and two teammates would then plan a
perpetual code update of a function whose unpacked code is identical. The handlers are a few KB either way.

`source_code_hash(data)` is what `aws_lambda_function.source_code_hash` expects: base64 of the SHA-256 digest
(the provider compares it with Lambda's CodeSha256, which is that encoding).
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

HANDLERS = Path(__file__).resolve().parent.parent / "handlers"
HANDLER_ENTRY = {"fanout": "fanout.handler", "allowlist": "allowlist.handler"}
# What each deployment zip holds, at its root: the handler and the modules it imports from this folder.
HANDLER_FILES = {"fanout": ("cloudmap.py", "fanout.py", "settings.py"), "allowlist": ("allowlist.py",)}
RUNTIME = "python3.12"
DATE_TIME = (1980, 1, 1, 0, 0, 0)
MODE = 0o644
COMPRESSION = zipfile.ZIP_STORED
COMPRESS_LEVEL = None


def handler_files(name: str) -> dict[str, bytes]:
    """The zip's files (archive name -> bytes), as shipped. KeyError for a name that is not a shipped handler."""
    if name not in HANDLER_ENTRY:
        raise KeyError(f"no shipped handler {name!r}; known: {', '.join(sorted(HANDLER_ENTRY))}")
    return {file: (HANDLERS / file).read_bytes() for file in HANDLER_FILES[name]}


def reproducible_zip(files: dict[str, bytes]) -> bytes:
    """A zip of `files` (archive name -> bytes) whose bytes depend on nothing else."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for arcname in sorted(files):
            info = zipfile.ZipInfo(arcname, date_time=DATE_TIME)
            info.create_system = 3  # Unix, so external_attr carries the mode
            info.external_attr = (0o100000 | MODE) << 16  # a regular file, rw-r--r--
            info.compress_type = COMPRESSION
            info.extra = b""
            info.comment = b""
            archive.writestr(info, files[arcname], compress_type=COMPRESSION, compresslevel=COMPRESS_LEVEL)
        archive.comment = b""
    return out.getvalue()


def handler_zip(name: str) -> bytes:
    """The deployment package of handler `name` ("fanout", "allowlist"): its HANDLER_FILES, at the root."""
    return reproducible_zip(handler_files(name))


def source_code_hash(data: bytes) -> str:
    """base64(sha256(data)), the form `aws_lambda_function.source_code_hash` and Lambda's CodeSha256 use."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
