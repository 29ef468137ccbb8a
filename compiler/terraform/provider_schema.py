"""The pinned provider's schema (hashicorp/aws 5.100.0) for the types this tool emits: what `overrides:` may say.

`terraform providers schema -json` describes every argument of every resource type: its cty type, whether it is
required, optional or computed, and the nested block types with their nesting mode and item bounds. This module
keeps exactly that, for exactly the types of `catalogue.TYPES`, in `provider_schema.json` beside it (about 40 KB
instead of the provider's 13 MB), and reads it back for the override validator (`terraform.overrides`).

The file is generated, never edited:

    python -m compiler.terraform.provider_schema --write [--mirror DIR]   # regenerate with real terraform
    python -m compiler.terraform.provider_schema --check [--mirror DIR]   # exit 1 if the file is stale

(`make provider-schema` runs the first.) DIR is a filesystem mirror holding registry.terraform.io/ (default:
$TF_PROVIDER_MIRROR; with neither, terraform installs from the registry). tests/test_provider_schema.py
regenerates it in a temporary directory with the mirror's provider and compares.

Imports nothing of the compiler but the catalogue (plain data): the language package reads it to check `overrides:`
without planning (tests/test_layering.py).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

from ..core.names import DATA, MANAGED
from . import catalogue

SOURCE = "registry.terraform.io/hashicorp/aws"
VERSION = "5.100.0"  # the version the CDKTF bindings are generated from (direct.PROVIDER; a test keeps them equal)
FILE = pathlib.Path(__file__).with_name("provider_schema.json")
FLAGS = ("required", "optional", "computed")  # of an attribute; the rest of the provider's record is not needed
SECTIONS = {MANAGED: "resource_schemas", DATA: "data_source_schemas"}


class SchemaError(RuntimeError):
    """Terraform could not produce the schema, or produced one this module cannot read."""


@dataclass(frozen=True)
class Attribute:
    type: Any  # cty type as Terraform writes it: "string", ["map", "string"], ["list", ["object", {...}]]
    required: bool = False
    optional: bool = False
    computed: bool = False

    @property
    def computed_only(self) -> bool:
        """Set by the provider or AWS, never by a configuration (`arn`, `api_endpoint`)."""
        return self.computed and not (self.optional or self.required)


@dataclass(frozen=True)
class BlockType:
    nesting: str  # single | list | set (| map | group: not in the types we emit, read the same way)
    block: "BlockSchema"
    min_items: int = 0
    max_items: int | None = None

    @property
    def single(self) -> bool:
        """At most one block: written as a mapping (or a list of one), merged key by key."""
        return self.nesting in ("single", "group") or self.max_items == 1


@dataclass(frozen=True)
class BlockSchema:
    attributes: Mapping[str, Attribute]
    blocks: Mapping[str, BlockType]

    def argument_names(self) -> list[str]:
        """Every name a configuration may write here (computed-only attributes are not arguments)."""
        return sorted([n for n, a in self.attributes.items() if not a.computed_only] + list(self.blocks))


# --- compaction: the provider's JSON -> what validation needs ----------------------------------------------

def compact_block(block: dict) -> dict:
    """One block of `terraform providers schema -json`, reduced to types, flags and nesting (sorted keys)."""
    attributes = {}
    for name, attribute in sorted(block.get("attributes", {}).items()):
        if "type" not in attribute:  # a plugin-framework nested attribute: none of our types has one yet
            raise SchemaError(f"attribute {name!r} has no cty type (nested_type): teach provider_schema to read it")
        attributes[name] = {"type": attribute["type"], **{f: True for f in FLAGS if attribute.get(f)}}
    blocks = {}
    for name, nested in sorted(block.get("block_types", {}).items()):
        entry: dict[str, Any] = {"nesting": nested["nesting_mode"], "block": compact_block(nested["block"])}
        for bound in ("min_items", "max_items"):
            if nested.get(bound):
                entry[bound] = nested[bound]
        blocks[name] = entry
    return {"attributes": attributes, "blocks": blocks}


def compact(full: dict, types: Mapping[tuple[str, str], Any] = catalogue.TYPES) -> dict:
    """The whole schema document -> {"source", "version", "managed": {type: block}, "data": {type: block}}."""
    try:
        provider = full["provider_schemas"][SOURCE]
    except KeyError:
        raise SchemaError(f"the schema has no provider {SOURCE}") from None
    out: dict[str, Any] = {"source": SOURCE, "version": VERSION, MANAGED: {}, DATA: {}}
    for mode, name in sorted(types):
        section = provider.get(SECTIONS[mode], {})
        if name not in section:
            raise SchemaError(f"{SOURCE} {VERSION} has no {mode} type {name}")
        out[mode][name] = compact_block(section[name]["block"])
    return out


def render(compacted: dict) -> str:
    """The file's text: one sorted JSON document, one type per line block (stable, reviewable diffs)."""
    return json.dumps(compacted, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


# --- generation with real terraform -----------------------------------------------------------------------

def cli_config(mirror: str) -> str:
    """A Terraform CLI configuration that installs hashicorp/* from a filesystem mirror and nothing else."""
    return ("provider_installation {\n"
            f"  filesystem_mirror {{\n    path    = {json.dumps(mirror)}\n"
            '    include = ["registry.terraform.io/hashicorp/*"]\n  }\n'
            '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n')


def generate(workdir: pathlib.Path, env: Mapping[str, str]) -> dict:
    """`terraform init` + `terraform providers schema -json` for the pinned provider in `workdir`, compacted.

    `env` is terraform's environment (TF_CLI_CONFIG_FILE chooses where the provider comes from)."""
    root = {"terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": VERSION}}}}
    (workdir / "main.tf.json").write_text(json.dumps(root))
    env = {**env, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    _terraform(workdir, env, "init", "-input=false", "-backend=false")
    return compact(json.loads(_terraform(workdir, env, "providers", "schema", "-json")))


def _terraform(workdir: pathlib.Path, env: Mapping[str, str], *args: str) -> str:
    try:
        result = subprocess.run(["terraform", *args, "-no-color"], cwd=workdir, env=dict(env), capture_output=True,
                                text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SchemaError(f"terraform {' '.join(args)}: {exc}") from exc
    if result.returncode:
        raise SchemaError(f"terraform {' '.join(args)} exited {result.returncode}:\n{result.stderr.strip()}")
    return result.stdout


def generate_with_mirror(mirror: str | None) -> dict:
    """generate() in a temporary directory, installing from `mirror` when one is given."""
    with tempfile.TemporaryDirectory(prefix="provider-schema-") as tmp:
        workdir = pathlib.Path(tmp)
        env = dict(os.environ)
        if mirror:
            (workdir / "terraform.tfrc").write_text(cli_config(mirror))
            env["TF_CLI_CONFIG_FILE"] = str(workdir / "terraform.tfrc")
        return generate(workdir, env)


# --- reading ------------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _stored() -> dict:
    return json.loads(FILE.read_text(encoding="utf-8"))


def _block(raw: dict) -> BlockSchema:
    return BlockSchema(
        {n: Attribute(a["type"], **{f: a.get(f, False) for f in FLAGS}) for n, a in raw["attributes"].items()},
        {n: BlockType(b["nesting"], _block(b["block"]), b.get("min_items", 0), b.get("max_items"))
         for n, b in raw["blocks"].items()})


@lru_cache(maxsize=None)
def of(name: str, mode: str = MANAGED) -> BlockSchema:
    """The schema of one type this tool emits (KeyError for any other)."""
    return _block(_stored()[mode][name])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compiler.terraform.provider_schema", description=__doc__.split(
        "\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help=f"regenerate {FILE.name}")
    action.add_argument("--check", action="store_true", help=f"exit 1 if {FILE.name} differs from the provider's")
    parser.add_argument("--mirror", default=os.environ.get("TF_PROVIDER_MIRROR"),
                        help="filesystem mirror holding registry.terraform.io/ (default: $TF_PROVIDER_MIRROR)")
    args = parser.parse_args(argv)
    try:
        text = render(generate_with_mirror(args.mirror))
    except SchemaError as exc:
        print(f"provider_schema: {exc}", file=sys.stderr)
        return 2
    if args.write:
        FILE.write_text(text, encoding="utf-8")
        print(f"wrote {FILE} ({len(text)} bytes)", file=sys.stderr)
        return 0
    current = FILE.read_text(encoding="utf-8") if FILE.exists() else ""
    if current != text:
        print(f"{FILE} is stale: run python -m compiler.terraform.provider_schema --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
