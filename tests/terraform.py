"""Real Terraform for the tests: a CLI config that installs hashicorp/aws from the machine's filesystem mirror.

The mirror is taken from $TF_PROVIDER_MIRROR (a directory that contains registry.terraform.io/), or discovered
by looking for a `registry.terraform.io` directory up to four levels below / (these machines keep one under
/opt). With no mirror (a machine with registry access) plain `terraform init` is used.

What each Terraform run costs here is the provider (about 700 MB): every run starts it a few times and it builds its
whole schema each time, seconds of CPU, whatever the stack. `init` is cheap: from an unpacked mirror it links the
provider's directory instead of copying it (a plugin cache, TF_PLUGIN_CACHE_DIR, was measured: it saves nothing
here). So the tests save runs (`plan_changes` needs `show` only for a plan that has changes) and the Go runtime's garbage
collector is given room (GOGC), which changes nothing but the CPU time.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
from functools import lru_cache

SKIP_DIRS = {"proc", "sys", "dev", "run", "tmp"}  # pseudo-filesystems and scratch space
GOGC = "400"  # Terraform's and the provider's collector: about a sixth less CPU for a few hundred MB more memory


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
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "GOGC": GOGC}
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
        self._outputs: dict | None = None

    def run(self, *args: str, ok: tuple[int, ...] = (0,), timeout: int = 600) -> subprocess.CompletedProcess:
        if args[0] not in ("output", "plan", "show", "validate"):  # these never write the state
            self._outputs = None
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
        """(address, actions) for every resource the plan would touch; [] means no changes.

        One run when the plan is empty (exit code 0: no change at all) or only creates, updates and deletes (the
        actions `plan -json` names as `show -json` would); a replacement or anything else is read from `show`,
        which gives the order of its actions."""
        result = self.run("plan", "-input=false", "-out=tfplan", "-detailed-exitcode", "-json", ok=(0, 2))
        if result.returncode == 0:
            return []
        messages = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        planned = [m["change"] for m in messages if m.get("type") == "planned_change"]
        if all(c["action"] in ("create", "update", "delete") and "previous_resource" not in c for c in planned):
            return sorted((c["resource"]["addr"], (c["action"],)) for c in planned)  # show's order: by address
        return [(c["address"], tuple(c["change"]["actions"])) for c in self.show_plan()["resource_changes"]
                if c["change"]["actions"] != ["no-op"]]

    def show_plan(self) -> dict:
        return json.loads(self.run("show", "-json", "tfplan").stdout)

    def outputs(self) -> dict:
        """The root module's outputs (read once until a run that may change the state)."""
        if self._outputs is None:
            self._outputs = {k: v["value"] for k, v in json.loads(self.run("output", "-json").stdout).items()}
        return dict(self._outputs)


def available() -> bool:
    return shutil.which("terraform") is not None


# What `terraform validate` says of any configuration that is a child module rather than the root: backends and
# empty provider blocks belong in the root. validate_together() sets these aside; nothing else.
CHILD_MODULE_ONLY = {("warning", "Backend configuration ignored"), ("warning", "Redundant empty provider block")}


def validate_together(workdir: pathlib.Path, env: dict[str, str], modules: dict[str, pathlib.Path]) -> dict:
    """`terraform validate` of several stacks in one run: each directory in `modules` (name -> directory holding a
    cdk.tf.json, under workdir) becomes a module of one root configuration. The provider's schema is loaded once,
    not once per stack (seconds of CPU each). Returns name -> the diagnostics about that module's files, less the
    two that only say it is not the root; None -> any diagnostic about no module's file (there should be none)."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "main.tf.json").write_text(json.dumps({"module": {
        name: {"source": "./" + str(path.relative_to(workdir))} for name, path in modules.items()}}))
    terraform = Terraform(workdir, env)
    terraform.init(backend=False)
    verdict = json.loads(terraform.run("validate", "-json", ok=(0, 1)).stdout)
    found: dict = {name: [] for name in modules}
    found[None] = []
    for diagnostic in verdict["diagnostics"]:
        filename = pathlib.Path(diagnostic.get("range", {}).get("filename", "/"))
        owner = next((name for name, path in modules.items()
                      if (workdir / filename).resolve().is_relative_to(path.resolve())), None)
        if owner is None or (diagnostic["severity"], diagnostic["summary"]) not in CHILD_MODULE_ONLY:
            found[owner].append(diagnostic)
    return found
