"""Real Terraform for the tests: a CLI config that installs hashicorp/aws from the machine's filesystem mirror.

The mirror is taken from $TF_PROVIDER_MIRROR (a directory that contains registry.terraform.io/), or discovered
by looking for a `registry.terraform.io` directory up to four levels below / (these machines keep one under
/opt). With no mirror (a machine with registry access) plain `terraform init` is used.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
from functools import lru_cache

SKIP_DIRS = {"proc", "sys", "dev", "run", "tmp"}  # pseudo-filesystems and scratch space


@lru_cache(maxsize=None)
def provider_mirror() -> str | None:
    configured = os.environ.get("TF_PROVIDER_MIRROR")
    if configured:
        return configured
    def walk(path: pathlib.Path, depth: int):
        try:
            children = sorted(p for p in path.iterdir() if p.is_dir() and not p.is_symlink())
        except OSError:
            return None
        for child in children:
            if child.name == "registry.terraform.io":
                return str(child.parent)
        if depth < 4:
            for child in children:
                if not (path == pathlib.Path("/") and child.name in SKIP_DIRS):
                    found = walk(child, depth + 1)
                    if found:
                        return found
        return None
    return walk(pathlib.Path("/"), 1)


def terraform_env(config_dir: pathlib.Path) -> dict[str, str]:
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    mirror = provider_mirror()
    if mirror:
        config = config_dir / "terraform.tfrc"
        config.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = {json.dumps(mirror)}\n    include = ["registry.terraform.io/hashicorp/*"]\n  }}\n'
            '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n')
        env["TF_CLI_CONFIG_FILE"] = str(config)
    return env


class Terraform:
    def __init__(self, workdir: pathlib.Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env

    def run(self, *args: str, ok: tuple[int, ...] = (0,), timeout: int = 600) -> subprocess.CompletedProcess:
        result = subprocess.run(["terraform", *args, "-no-color"], cwd=self.workdir, env=self.env,
                                capture_output=True, text=True, timeout=timeout)
        assert result.returncode in ok, f"terraform {' '.join(args)} exited {result.returncode}:\n{result.stderr}\n{result.stdout[-4000:]}"
        return result

    def init(self, backend: bool = True) -> None:
        self.run("init", "-input=false", *(() if backend else ("-backend=false",)))

    def apply(self) -> None:
        self.run("apply", "-auto-approve", "-input=false")

    def destroy(self) -> None:
        self.run("destroy", "-auto-approve", "-input=false")

    def plan_changes(self) -> list[tuple[str, tuple[str, ...]]]:
        """(address, actions) for every resource the plan would touch; [] means no changes."""
        self.run("plan", "-input=false", "-out=tfplan", "-detailed-exitcode", ok=(0, 2))
        return [(c["address"], tuple(c["change"]["actions"])) for c in self.show_plan()["resource_changes"]
                if c["change"]["actions"] != ["no-op"]]

    def show_plan(self) -> dict:
        return json.loads(self.run("show", "-json", "tfplan").stdout)

    def outputs(self) -> dict:
        return {k: v["value"] for k, v in json.loads(self.run("output", "-json").stdout).items()}


def available() -> bool:
    return shutil.which("terraform") is not None
