"""`overrides:`: raw Terraform arguments for one emitted resource, checked against the pinned provider's schema and
merged into what the plan emits.

`check(type, value, path, source)` is pure: the resource type, the override as written (plain data), where it sits in
the document and the document's positions -> located diagnostics, every problem at once:

- E250 an argument the type does not have (did you mean, and the arguments an override may set);
- E251 a value of the wrong cty type (string, number, bool, list, set, map, object, tuple);
- E252 wrong nesting: a block given as a value, one block given twice where the provider takes one, too few or too
  many blocks, a block without an argument the provider requires in it;
- E253 an attribute the provider computes (`arn`, `api_endpoint`, `invoke_url`);
- E254 an argument routes.yaml owns (the hint names the option that sets it), one nobody may set (WebSocket-only
  arguments, quick create), or a Terraform meta-argument (lifecycle, depends_on, count, for_each, provider, ...).

Ownership comes from the catalogue (`owned`, `refused`), types and nesting from provider_schema. routes.yaml's
own rules for what an override says (tags, CDKTF's token markers) are the language's (compiler.language.overrides).

`merge(args, override, schema)` is how the plan applies one: a block the provider takes once (nesting `single`, or
`max_items = 1`) merges key by key, recursively, so `default_route_settings: {detailed_metrics_enabled: true}` keeps
the throttling the tool emits there; a map argument (`tags`, `request_parameters`) merges key by key; anything else
(a value, a list of values, a list of blocks) replaces. The tool owns every list of blocks it emits
(`dns_records`, `route_settings`), so a list of blocks in an override never meets one of the tool's.

Imports only core and the two provider modules: the language package calls `check` (tests/test_layering.py).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..core.diagnostics import Diagnostic, loc_text
from . import catalogue, provider_schema
from .provider_schema import BlockSchema, BlockType

Path = tuple  # a path in the document: ("routes", 3, "overrides", "integration", "tls_config")


class Position(Protocol):
    line: int
    col: int


class Positions(Protocol):
    """Where each value and key of the document is (compiler.language.loader.SourceMap has these two methods)."""

    def key(self, path: Path) -> Position: ...

    def value(self, path: Path) -> Position: ...


_KINDS = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
          dict: "a mapping", type(None): "empty (null)"}


def kind_of(value: Any) -> str:
    return _KINDS.get(type(value), type(value).__name__)


def describe(cty: Any) -> str:
    """A cty type as a reader says it: `map of string`, `set of string`, `object {a, b}`."""
    if isinstance(cty, str):
        return cty
    kind, inner = cty[0], cty[1]
    if kind in ("list", "set", "map"):
        return f"{kind} of {describe(inner)}"
    if kind == "object":
        return "object {" + ", ".join(sorted(inner)) + "}"
    return "tuple [" + ", ".join(describe(t) for t in inner) + "]"


def check(type_name: str, value: Any, path: Path, source: Positions) -> list[Diagnostic]:
    """Every problem of one resource's override, located in the document."""
    checker = _Checker(type_name, catalogue.of(type_name), source)
    checker.block(provider_schema.of(type_name), value, path, "", top=True)
    return checker.problems


@dataclass
class _Checker:
    type_name: str
    kind: catalogue.ResourceType
    source: Positions
    problems: list[Diagnostic] = field(default_factory=list)

    def report(self, path: Path, code: str, message: str, hint: str = "", at_key: bool = False) -> None:
        pos = self.source.key(path) if at_key else self.source.value(path)
        self.problems.append(Diagnostic(pos.line, pos.col, code, message, hint, loc=loc_text(path)))

    def block(self, schema: BlockSchema, value: Any, path: Path, arguments: str, top: bool = False) -> None:
        """One block's arguments (the resource itself at the top)."""
        if not isinstance(value, dict):
            example = f"{{{(self.free(schema, arguments) or ['...'])[0]}: ...}}"
            if top:
                self.report(path, "E252", f"{loc_text(path)} must be a mapping of {self.type_name} arguments, not "
                            f"{kind_of(value)}", f"for example: {example}")
            else:
                self.report(path, "E252", f"{arguments} of {self.type_name} is a block, not {kind_of(value)}",
                            f"write it as a mapping: {arguments.rpartition('.')[2]}: {example}")
            return
        for key, item in value.items():
            self.argument(schema, key, item, path + (key,), f"{arguments}.{key}" if arguments else key, top)
        if not top:
            self.required(schema, value, path, arguments)

    def argument(self, schema: BlockSchema, key: str, item: Any, at: Path, dotted: str, top: bool) -> None:
        owner = self.kind.owner(dotted)
        if top and key in catalogue.META_ARGUMENTS:
            self.report(at, "E254", f"{key} is a Terraform meta-argument, which overrides cannot set: "
                        f"{catalogue.META_ARGUMENTS[key]}", "remove it", at_key=True)
        elif owner:
            self.owned(at, dotted, *owner)
        elif key in schema.attributes:
            attribute = schema.attributes[key]
            if attribute.computed_only:
                self.report(at, "E253", f"{dotted} of {self.type_name} is computed by the provider (read it as "
                            f"{self.type_name}.<name>.{dotted}); an override cannot set it", "remove it",
                            at_key=True)
            else:
                self.value(attribute.type, item, at, dotted)
        elif key in schema.blocks:
            self.nested(schema.blocks[key], item, at, dotted)
        else:
            self.unknown(schema, key, at, dotted)

    def owned(self, at: Path, dotted: str, how: str, why: str) -> None:
        if how == "owned":
            self.report(at, "E254", f"{dotted} of {self.type_name} is set by routes.yaml: {why}",
                        "set that option instead; an override cannot change what routes.yaml decides", at_key=True)
        else:
            self.report(at, "E254", f"{dotted} of {self.type_name} cannot be set: {why}", "remove it", at_key=True)

    def unknown(self, schema: BlockSchema, key: str, at: Path, dotted: str) -> None:
        parent = dotted.rpartition(".")[0]
        free = self.free(schema, parent)
        close = difflib.get_close_matches(key, free, n=1, cutoff=0.6)
        where = f"block {parent} of {self.type_name}" if parent else self.type_name
        hint = (f"did you mean {close[0]!r}? " if close else "") + (
            f"the arguments an override may set here: {', '.join(free)}" if free else
            "an override may set nothing here")
        self.report(at, "E250", f"{where} has no argument {key!r} (hashicorp/aws {provider_schema.VERSION})",
                    hint, at_key=True)

    def free(self, schema: BlockSchema, arguments: str) -> list[str]:
        """The names an override may set in this block: the schema's arguments less what is owned or refused."""
        return [n for n in schema.argument_names() if not self.kind.owner(f"{arguments}.{n}" if arguments else n)]

    def required(self, schema: BlockSchema, value: dict, path: Path, arguments: str) -> None:
        """A block the override writes must have what the provider requires in it (unless the tool sets it)."""
        needed = [n for n, a in schema.attributes.items() if a.required]
        needed += [n for n, b in schema.blocks.items() if b.min_items]
        for name in sorted(needed):
            if name not in value and not self.kind.owner(f"{arguments}.{name}"):
                self.report(path, "E252", f"block {arguments} of {self.type_name} is missing {name!r}, which the "
                            "provider requires in it", f"add {name}")

    def nested(self, block: BlockType, item: Any, at: Path, dotted: str) -> None:
        if block.single:
            if isinstance(item, list) and len(item) == 1:
                item, at = item[0], at + (0,)
            elif isinstance(item, list):
                self.report(at, "E252", f"{dotted} of {self.type_name} is one block; {len(item)} are given",
                            f"write it as one mapping: {dotted}: {{...}}")
                return
            self.block(block.block, item, at, dotted)
            return
        if not isinstance(item, list):
            self.report(at, "E252", f"{dotted} of {self.type_name} is a list of blocks, not {kind_of(item)}",
                        f"write each block as a list item: {dotted}: [{{...}}]")
            return
        if len(item) < block.min_items or (block.max_items is not None and len(item) > block.max_items):
            bounds = f"{block.min_items} to {block.max_items}" if block.max_items else f"at least {block.min_items}"
            self.report(at, "E252", f"{dotted} of {self.type_name} takes {bounds} block(s); {len(item)} are given")
        for i, entry in enumerate(item):
            self.block(block.block, entry, at + (i,), dotted)

    def value(self, cty: Any, item: Any, at: Path, dotted: str) -> None:
        """A value against its cty type, recursively."""
        problem = _scalar_problem(cty, item)
        if problem:
            hint = 'quote it: "..."' if cty == "string" and isinstance(item, (bool, int, float)) else ""
            self.report(at, "E251", f"{dotted} of {self.type_name} must be {problem}, not {kind_of(item)}", hint)
            return
        if isinstance(cty, str):
            return
        kind, inner = cty[0], cty[1]
        if kind in ("list", "set"):
            self.items(kind, inner, item, at, dotted)
        elif kind == "map":
            for key, entry in item.items():
                owner = self.kind.owner(f"{dotted}.{key}")
                if owner:
                    self.owned(at + (key,), f"{dotted}.{key}", *owner)
                else:
                    self.value(inner, entry, at + (key,), f"{dotted}.{key}")
        elif kind == "object":
            self.object(inner, cty[2] if len(cty) > 2 else (), item, at, dotted)
        else:  # tuple
            for i, (t, entry) in enumerate(zip(inner, item)):
                self.value(t, entry, at + (i,), f"{dotted}[{i}]")

    def items(self, kind: str, inner: Any, item: list, at: Path, dotted: str) -> None:
        seen: list = []
        for i, entry in enumerate(item):
            if kind == "set" and entry in seen:
                self.report(at + (i,), "E251", f"{dotted} of {self.type_name} is a set: {entry!r} is given twice",
                            "remove one")
            seen.append(entry)
            self.value(inner, entry, at + (i,), f"{dotted}[{i}]")

    def object(self, attributes: dict, optional: Any, item: dict, at: Path, dotted: str) -> None:
        for key, entry in item.items():
            if key in attributes:
                self.value(attributes[key], entry, at + (key,), f"{dotted}.{key}")
            else:
                self.report(at + (key,), "E250", f"{dotted} of {self.type_name} has no attribute {key!r}",
                            f"its attributes: {', '.join(sorted(attributes))}", at_key=True)
        for key in sorted(set(attributes) - set(item) - set(optional)):
            self.report(at, "E251", f"{dotted} of {self.type_name} is missing the attribute {key!r}", f"add {key}")


def _scalar_problem(cty: Any, value: Any) -> str:
    """What `value` must be for `cty` when its outer shape is wrong, else ""."""
    if cty == "dynamic":
        return ""
    if cty == "string":
        return "" if isinstance(value, str) else "a string"
    if cty == "bool":
        return "" if isinstance(value, bool) else "true or false"
    if cty == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return "" if ok and math.isfinite(value) else "a finite number"
    kind = cty[0]
    if kind in ("list", "set"):
        return "" if isinstance(value, list) else f"a {describe(cty)} (a YAML list)"
    if kind in ("map", "object"):
        return "" if isinstance(value, dict) else f"a {describe(cty)} (a mapping)"
    ok = isinstance(value, list) and len(value) == len(cty[1])
    return "" if ok else f"a {describe(cty)} (a list of {len(cty[1])})"


# --- merging (the plan's one use) --------------------------------------------------------------------------

def merge(args: dict, override: dict, schema: BlockSchema) -> dict:
    """The emitted arguments with a (checked) override merged in; neither input is changed."""
    out = dict(args)
    for key, value in override.items():
        block = schema.blocks.get(key)
        attribute = schema.attributes.get(key)
        if block is not None and block.single:
            given = value[0] if isinstance(value, list) else value
            current = out.get(key)
            current = current[0] if isinstance(current, list) and current else current
            out[key] = merge(current if isinstance(current, dict) else {}, given, block.block)
        elif attribute is not None and _is_map(attribute.type) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _is_map(cty: Any) -> bool:
    return isinstance(cty, list) and cty[0] == "map"


# --- JSON Schema (routes.schema.json: editors complete and flag overrides as they are typed) --------------

def json_schema(type_name: str) -> dict:
    """The arguments an override of `type_name` may set, as JSON Schema (owned and computed ones left out)."""
    kind = catalogue.of(type_name)
    return _block_json(provider_schema.of(type_name), kind, "")


def _block_json(schema: BlockSchema, kind: catalogue.ResourceType, arguments: str) -> dict:
    properties = {}
    for name in schema.argument_names():
        dotted = f"{arguments}.{name}" if arguments else name
        if kind.owner(dotted):
            continue
        if name in schema.attributes:
            properties[name] = _cty_json(schema.attributes[name].type)
        else:
            block = schema.blocks[name]
            one = _block_json(block.block, kind, dotted)
            properties[name] = (one if block.single and block.nesting == "single" else
                                {"anyOf": [one, {"type": "array", "items": one, "maxItems": 1}]} if block.single else
                                {"type": "array", "items": one, **_bounds(block)})
    out: dict = {"type": "object", "additionalProperties": False, "properties": properties}
    required = sorted(n for n, a in schema.attributes.items() if a.required and not kind.owner(
        f"{arguments}.{n}" if arguments else n))
    if required and arguments:
        out["required"] = required
    return out


def _bounds(block: BlockType) -> dict:
    return {**({"minItems": block.min_items} if block.min_items else {}),
            **({"maxItems": block.max_items} if block.max_items else {})}


def _cty_json(cty: Any) -> dict:
    if cty == "dynamic":
        return {}
    if isinstance(cty, str):
        return {"type": {"string": "string", "number": "number", "bool": "boolean"}[cty]}
    kind, inner = cty[0], cty[1]
    if kind in ("list", "set"):
        return {"type": "array", "items": _cty_json(inner), **({"uniqueItems": True} if kind == "set" else {})}
    if kind == "map":
        return {"type": "object", "additionalProperties": _cty_json(inner)}
    if kind == "object":
        return {"type": "object", "additionalProperties": False,
                "properties": {k: _cty_json(v) for k, v in sorted(inner.items())}}
    return {"type": "array", "prefixItems": [_cty_json(t) for t in inner], "minItems": len(inner),
            "maxItems": len(inner)}
