"""The direct engine, without jsii: resource plan -> the cdktf.out/ that CDKTF writes, byte for byte.

The other engine (`emit` + `synth`) turns the plan into CDKTF constructs and lets CDKTF write the files; that
is the product, a construct library, and what the cdktf CLI runs. This module writes the same two files from
the same plan in plain Python, without Node: `manifest.json` and `stacks/<stack>/cdk.tf.json`.

"The same" means every byte, so this module reproduces what CDKTF 0.21 adds around the plan:

- the `"//"` metadata blocks: one for the stack (cdktf version, stack name, backend, the outputs' construct
  paths, and `overrides` when the stack was overridden) and one per resource or data source (construct path,
  logical id). Outputs and the provider get none.
- the construct tree `python main.py` builds: App -> RoutesStack(<stack>) -> CloudMapRoutes("routes") ->
  one construct per block, named `<type>.<name>`, with its logical id overridden to `<name>`.
- `required_providers` from the provider bindings (source and version of the generated AwsProvider).
- the backend: an argument that cdktf's backend class predates (S3's `use_lockfile` in 0.21) is written by the
  CDKTF engine as a stack override, and CDKTF then notes `"overrides": {"stack": ["terraform"]}`.
- the serializer, json-stable-stringify with `space: 2`: keys sorted by UTF-16 code units at every level,
  `": "` after keys, and an empty object or array printed over two lines (`{`, newline, indent, `}`);
  numbers as JavaScript prints them (50.0 -> 50, 1e-07 -> 1e-7); no newline at the end of the file.

Plan values become Terraform JSON through the one conversion both engines use, `plan.terraform_value`.
tests/test_engine_parity.py compares the two engines on every example and a sample of generated documents;
when a cdktf or bindings upgrade changes CDKTF's bytes, that test fails and the constants below are updated.
"""

from __future__ import annotations

import os
from json.encoder import encode_basestring
from typing import Sequence

from .plan import Block, ResourcePlan, terraform_value, tf_literal

CDKTF_VERSION = "0.21.0"  # cdktf's package version, written into both files
PROVIDER = {"aws": {"source": "aws", "version": "5.100.0"}}  # AwsProvider of cdktf-cdktf-provider-aws 20.1.0
CONSTRUCT = "routes"  # the CloudMapRoutes construct's id inside RoutesStack (compiler.terraform.emit)
# Backend arguments cdktf's backend classes do not accept, which the CDKTF engine writes as stack overrides.
BACKEND_OVERRIDES = {"s3": frozenset({"use_lockfile"})}

_GLOB = "*?[]{}!"  # TerraformStack refuses these in a stack id
_JS_SPACE = frozenset("\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff"
                      + "".join(chr(c) for c in range(0x2000, 0x200B)))  # JavaScript's \s


class StackNameError(ValueError):
    pass


def write_direct(plan: ResourcePlan, outdir: str, stack: str) -> None:
    """Write manifest.json and stacks/<stack>/cdk.tf.json into outdir (as synth.synth_plan does, without jsii)."""
    write_direct_stacks([(stack, plan)], outdir)


def write_direct_stacks(plans: Sequence[tuple[str, ResourcePlan]], outdir: str) -> None:
    """One app with several stacks (one per environment): manifest.json lists them all, and each has its
    stacks/<stack>/cdk.tf.json (as synth.synth_plans does, without jsii)."""
    files = {"manifest.json": stringify(manifest(*(stack for stack, _ in plans)))}
    for stack, plan in plans:
        node_id = stack_id(stack)
        os.makedirs(os.path.join(outdir, "stacks", node_id), exist_ok=True)
        files[os.path.join("stacks", node_id, "cdk.tf.json")] = stringify(document(plan, stack))
    for name, text in files.items():
        with open(os.path.join(outdir, name), "w", encoding="utf-8", newline="") as f:
            f.write(text)
    for stack, plan in plans:
        write_assets(plan, outdir, stack)


def write_assets(plan: ResourcePlan, outdir: str, stack: str) -> None:
    """The plan's asset files (the functions' zips) into stacks/<stack>/, beside cdk.tf.json, where Terraform
    resolves aws_lambda_function.filename. Both engines call this once their JSON is written."""
    folder = os.path.join(outdir, "stacks", stack_id(stack))
    for name, data in plan.assets:
        if os.path.basename(name) != name or name.startswith("."):
            raise ValueError(f"asset name {name!r} must be a plain file name")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


def stack_id(stack: str) -> str:
    """The stack's construct id, as constructs and cdktf make it: `/` becomes `--`; glob characters and
    whitespace are refused (TerraformStack throws for them)."""
    bad = next((c for c in stack if c in _GLOB), None)
    if bad:
        raise StackNameError(f'Cannot create Terraform stack with id "{stack}". It contains an invalid glob '
                             f'character: "{bad}".')
    if any(c in _JS_SPACE for c in stack):
        raise StackNameError(f'Cannot create TerraformStack with id "{stack}". It contains a whitespace character.')
    return stack.replace("/", "--")


def manifest(*stacks: str) -> dict:
    """cdktf.out/manifest.json for an app with these stacks."""
    return {"stacks": {stack_id(stack): manifest_entry(stack) for stack in stacks}, "version": CDKTF_VERSION}


def manifest_entry(stack: str) -> dict:
    """One stack's entry in manifest.json."""
    node_id = stack_id(stack)
    folder = "stacks/" + node_id
    return {"annotations": [], "constructPath": node_id, "dependencies": [], "name": node_id,
            "stackMetadataPath": folder + "/metadata.json", "synthesizedStackPath": folder + "/cdk.tf.json",
            "workingDirectory": folder}


def document(plan: ResourcePlan, stack: str) -> dict:
    """The stack's Terraform JSON as CDKTF assembles it, as a dict (stringify() gives the file's bytes)."""
    node_id = stack_id(stack)
    scope = f"{node_id}/{CONSTRUCT}"
    backend = plan.backend
    config = terraform_value(backend.config)
    overridden = BACKEND_OVERRIDES.get(backend.type, frozenset()) & config.keys()
    metadata = {"backend": backend.type, "stackName": node_id, "version": CDKTF_VERSION}
    if overridden:
        metadata["overrides"] = {"stack": ["terraform"]}
    outputs = {node_id: {CONSTRUCT: {o.name: o.name for o in plan.outputs}}} if plan.outputs else {}
    doc: dict = {"//": {"metadata": metadata, "outputs": outputs}}

    addresses = {(b.type, b.name): b.address for b in plan.blocks}
    resources: dict[str, dict] = {}
    data: dict[str, dict] = {}
    for block in plan.blocks:
        section = data if block.mode == "data" else resources
        section.setdefault(block.type, {})[block.name] = _block(block, scope, addresses)
    if data:
        doc["data"] = data
    if plan.outputs:
        doc["output"] = {o.name: {"description": o.description, "value": terraform_value(o.value)}
                         for o in plan.outputs}
    doc["provider"] = {"aws": [terraform_value(plan.aws_provider.args)]}
    if resources:
        doc["resource"] = resources
    if plan.imports:  # as CDKTF's importFrom: in block order, each resource's type and name in the metadata too
        imported = dict(plan.imports)
        order = [b for b in plan.blocks if b.address in imported]
        doc["import"] = [{"id": tf_literal(imported[b.address]), "to": b.address} for b in order]
        for b in order:
            metadata.setdefault("imports", {}).setdefault(b.type, []).append(b.name)
    doc["terraform"] = {"backend": {backend.type: config}, "required_providers": PROVIDER}
    return doc


def _block(block: Block, scope: str, addresses: dict[tuple[str, str], str]) -> dict:
    body = terraform_value(block.args)
    if block.depends_on:
        body["depends_on"] = [addresses[d] for d in block.depends_on]
    if block.lifecycle:
        body["lifecycle"] = terraform_value(dict(block.lifecycle))
    body["//"] = {"metadata": {"path": f"{scope}/{block.construct_id}", "uniqueId": block.name}}
    return body


def stringify(value: object) -> str:
    """json-stable-stringify(value, {space: 2}), the serializer CDKTF writes both files with."""
    out: list[str] = []
    _write(value, "\n", out.append)
    return "".join(out)


def _write(value: object, indent: str, out) -> None:
    """Containers recurse; scalars are written in place (one call per node, not two: this is the hot loop)."""
    kind = type(value)
    if kind is dict:
        inner = indent + "  "
        separator = "{" + inner
        for key in _sorted_keys(value):
            item = value[key]
            if item is None:  # undefined in JavaScript: the key is left out
                continue
            if type(item) is str:  # escapes exactly what JSON.stringify escapes; non-ASCII stays as it is
                out(f"{separator}{encode_basestring(key)}: {encode_basestring(item)}")
            else:
                out(f"{separator}{encode_basestring(key)}: ")
                _write(item, inner, out)
            separator = "," + inner
        out(indent + "}" if separator != "{" + inner else "{" + indent + "}")
    elif kind is list or kind is tuple:
        inner = indent + "  "
        separator = "[" + inner
        for item in value:
            out(separator)
            _write(item, inner, out)
            separator = "," + inner
        out(indent + "]" if separator != "[" + inner else "[" + indent + "]")
    elif kind is str:
        out(encode_basestring(value))
    elif value is None:  # an array hole (undefined) is written as null
        out("null")
    elif value is True:
        out("true")
    elif value is False:
        out("false")
    elif isinstance(value, (int, float)):
        out(js_number(value))
    else:
        raise TypeError(f"not a JSON value: {value!r}")


def _sorted_keys(mapping: dict) -> list[str]:
    keys = sorted(mapping)
    if all(k.isascii() for k in keys):
        return keys
    return sorted(keys, key=lambda k: k.encode("utf-16-be"))  # JavaScript compares UTF-16 code units


def js_number(value: int | float) -> str:
    """A number as JavaScript's Number#toString prints it (what JSON.stringify writes)."""
    if isinstance(value, int):
        if -(2 ** 53) <= value <= 2 ** 53:
            return str(value)
        value = float(value)  # beyond 2**53 a JavaScript number is a double: the same rounding
    if value != value or value in (float("inf"), float("-inf")):
        return "null"
    if value == 0:
        return "0"
    text = repr(value)  # the shortest digits that read back as this double, as in JavaScript
    sign = "-" if text[0] == "-" else ""
    mantissa, _, exponent = text.lstrip("-").partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    power = int(exponent or 0) - len(fraction)
    stripped = digits.rstrip("0")
    power += len(digits) - len(stripped)
    digits = stripped
    k = len(digits)
    n = k + power  # value = 0.digits * 10**n
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * -n + digits
    else:
        e = n - 1
        body = (digits[0] + ("." + digits[1:] if k > 1 else "")) + ("e+" if e >= 0 else "e-") + str(abs(e))
    return sign + body
