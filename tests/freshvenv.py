"""A fresh venv with this project installed by pip, offline, for the tests that run the tool as users install it
(tests/test_packaging.py).

The venv sees the pinned packages of this checkout's environment (a .pth file naming its site-packages; nothing of
the checkout itself), so pip resolves the declared dependency ranges against exactly the versions CI pins (a
requirement they do not satisfy fails the install: nothing is downloaded for it), and the build backend
(setuptools>=70.1, build-system.requires) comes only from the package sources pip is configured with that are on
this machine (file:// indexes, local find-links): never the network.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys
import sysconfig

import pytest

from .conftest import ROOT
from .helpers import PATH_ENV


def offline_sources() -> list[str] | None:
    """pip arguments naming only the package sources on this machine pip is configured with (file:// indexes,
    local find-links directories), or None when it has none."""
    config = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    values = " ".join(re.findall(r"(?:index-url|find-links)='([^']*)'", config))
    values += " " + " ".join(os.environ.get(k, "") for k in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS"))
    indexes = sorted({v for v in values.split() if v.startswith("file://") and v.rstrip("/").endswith("simple")})
    links = sorted({v for v in values.split() if not v.startswith(("http:", "https:")) and v not in indexes
                    and os.path.isdir(v.removeprefix("file://"))})
    if not indexes and not links:
        return None
    args = ["--index-url", indexes[0], *(a for i in indexes[1:] for a in ("--extra-index-url", i))] if indexes \
        else ["--no-index"]
    return args + [a for link in links for a in ("--find-links", link)]


def sources(tmp_path: pathlib.Path) -> pathlib.Path:
    """The checkout as a clone has it: every file git tracks or would (not ignored), as in the work tree."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    copy = tmp_path / "cloudmap-routes"
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    return copy


def fresh_venv(root: pathlib.Path, spec: str = ".[local]", source: pathlib.Path | None = None) -> pathlib.Path:
    """`pip install SPEC` (from a copy of the checkout, or `source`) into a new venv under `root`; its bin dir."""
    pip_sources = offline_sources()
    if pip_sources is None:
        pytest.skip("pip is configured with no package source on this machine (file:// index or find-links) to "
                    "take the build backend from offline")
    source = source or sources(root)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True)
    site = pathlib.Path(sysconfig.get_path("purelib", vars={"base": str(root / "venv")}))
    (site / "pinned.pth").write_text(sysconfig.get_path("purelib") + "\n")  # the pinned packages, not the checkout
    result = subprocess.run([str(root / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet",
                             "--disable-pip-version-check", *pip_sources, spec], cwd=source,
                            env={**os.environ, "PIP_CONFIG_FILE": os.devnull}, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cloudmap-routes" not in " ".join(os.listdir(sysconfig.get_path("purelib")))  # not in the pinned env
    return root / "venv" / "bin"


def tool(bin_dir: pathlib.Path, cwd: pathlib.Path, *args: str, env: dict | None = None,
         timeout: float = 900) -> subprocess.CompletedProcess:
    """`cloudmap-routes ARGS` as a user runs it: the console script on PATH, nothing of the checkout importable."""
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(["cloudmap-routes", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**base, "PATH": f"{bin_dir}:{PATH_ENV}", **(env or {})})
