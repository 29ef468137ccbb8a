"""Plain data -> spec (shape-checked data with defaults) against the language in `schema.py`.

Every problem is collected; an invalid value is dropped (or, for a list item, left as None) so the validator
can still check everything else in the same run and report all problems at once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from ..core.diagnostics import Diagnostic, did_you_mean, loc_text
from .loader import Document, Path, SourceMap, path_name
from .schema import ROOT, Bool, Int, List, Map, Number, Obj, Str, Terraform, Type

_KIND_NAMES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
               dict: "a mapping", type(None): "empty (null)"}


@dataclass
class Spec:
    data: dict
    source: SourceMap
    environment: str | None = None  # the environment this spec is (its overrides merged in: compiler.language.environments)


def check(document: Document) -> tuple[Spec, list[Diagnostic]]:
    problems: list[Diagnostic] = []
    data = _check(ROOT, document.data, (), document.source, problems)
    return Spec(data if isinstance(data, dict) else {}, document.source), problems


@lru_cache(maxsize=None)
def _regex(pattern: str) -> re.Pattern:
    return re.compile(pattern)


class _Invalid:
    """Marks a value that failed its check; callers drop it."""


INVALID = _Invalid()


def _check(t: Type, value: Any, path: Path, source: SourceMap, problems: list[Diagnostic]) -> Any:
    def report(code: str, message: str, hint: str = "", at_key: bool = False) -> _Invalid:
        pos = source.key(path) if at_key else source.value(path)
        problems.append(Diagnostic(pos.line, pos.col, code, message, hint, loc=loc_text(path)))
        return INVALID

    where = _name(path)
    if isinstance(t, Terraform):  # checked against the provider's schema by compiler.language.overrides
        if not isinstance(value, dict):
            return report("E201", f"{where} must be a mapping of {t.resource} arguments, not {_kind(value)}",
                          "write each argument on its own line: name: value")
        return value
    if isinstance(t, Obj):
        if not isinstance(value, dict):
            return report("E201", f"{where} must be a mapping, not {_kind(value)}", _mapping_hint(t, path))
        out: dict[str, Any] = {}
        for key in value:
            if key not in t.fields:
                pos = source.key(path + (key,))
                problems.append(Diagnostic(pos.line, pos.col, "E200", f"unknown key {key!r} in {where}",
                                           did_you_mean(key, t.fields), loc=loc_text(path + (key,))))
        for name, field in t.fields.items():
            if name in value:
                checked = _check(field.type, value[name], path + (name,), source, problems)
                if checked is not INVALID:
                    out[name] = checked
            elif field.required:
                report("E202", f"{where} is missing the required key {name!r}",
                       f"add it, for example: {name}: {flow(example(field.type))}")
            elif field.default is not None:
                out[name] = field.default
        return out
    if isinstance(t, List):
        if not isinstance(value, list):
            return report("E201", f"{where} must be a list, not {_kind(value)}", "write it as a YAML list: - item")
        items = [_check(t.item, item, path + (i,), source, problems) for i, item in enumerate(value)]
        if len(value) < t.min_items:
            report("E206", f"{where} needs at least {t.min_items} item(s)")
        if t.max_items is not None and len(value) > t.max_items:
            report("E206", f"{where} has {len(value)} items; at most {t.max_items} are allowed")
        if t.unique:
            seen: set = set()
            for i, item in enumerate(value):
                if not isinstance(item, (str, int)):
                    continue
                if item in seen:
                    pos = source.value(path + (i,))
                    problems.append(Diagnostic(pos.line, pos.col, "E206", f"{item!r} is listed twice in {where}",
                                               loc=loc_text(path + (i,))))
                seen.add(item)
        return [None if item is INVALID else item for item in items]
    if isinstance(t, Map):
        if not isinstance(value, dict):
            return report("E201", f"{where} must be a mapping, not {_kind(value)}", "write it as key: value lines")
        if t.max_items is not None and len(value) > t.max_items:
            report("E206", f"{where} has {len(value)} entries; at most {t.max_items} are allowed")
        out = {}
        for key, item in value.items():
            item_path = path + (key,)
            if t.key_pattern and not _regex(t.key_pattern).match(key):
                pos = source.key(item_path)
                problems.append(Diagnostic(pos.line, pos.col, "E204", f"{key!r} is not a valid key in {where}",
                                           f"keys must match {t.key_pattern}", loc=loc_text(item_path)))
                continue
            if t.attribute_values:
                item = _attribute_value(item, item_path, source, problems)
                if item is INVALID:
                    continue
            checked = _check(t.values, item, item_path, source, problems)
            if checked is not INVALID:
                out[key] = checked
        return out
    if isinstance(t, Bool):
        if not isinstance(value, bool):
            return report("E201", f"{where} must be true or false, not {_kind(value)}")
        return value
    if isinstance(t, (Int, Number)):
        ok = isinstance(value, int) or (isinstance(t, Number) and isinstance(value, float))
        if isinstance(value, bool) or not ok:
            return report("E201", f"{where} must be {'an integer' if isinstance(t, Int) else 'a number'}, not {_kind(value)}")
        if value != value or value in (float("inf"), float("-inf")):  # .nan / .inf: no service takes them
            return report("E205", f"{where} is {value}; it must be a finite number between {t.min:g} and {t.max:g}")
        if (t.min is not None and value < t.min) or (t.max is not None and value > t.max):
            return report("E205", f"{where} is {value}; it must be between {t.min:g} and {t.max:g}")
        if isinstance(t, Int) and t.choices and value not in t.choices:
            closest = min(t.choices, key=lambda c: abs(c - value))
            return report("E205", f"{where} is {value}; it must be one of {', '.join(map(str, t.choices))}",
                          f"the closest allowed value is {closest}")
        return value
    assert isinstance(t, Str)
    if not isinstance(value, str):
        scalar = source.scalars.get(path)
        hint = f'quote it: "{scalar.text}"' if scalar and scalar.kind != "null" else ""
        return report("E201", f"{where} must be a string, not {_kind(value)}", hint)
    if t.enum:
        if value not in t.enum:
            return report("E203", f"{where} is {value!r}; it must be one of {', '.join(t.enum)}",
                          did_you_mean(value, t.enum))
        return value
    if len(value) < t.min_len:
        return report("E204", f"{where} must not be empty")
    if t.max_len is not None and len(value) > t.max_len:
        return report("E204", f"{where} is {len(value)} characters long; at most {t.max_len} are allowed")
    if t.max_bytes is not None and len(value.encode("utf-8", "surrogatepass")) > t.max_bytes:
        return report("E204", f"{where} is {len(value.encode('utf-8', 'surrogatepass'))} bytes in UTF-8; at most "
                      f"{t.max_bytes} are allowed", "Terraform counts bytes: non-ASCII letters take 2-4 bytes each")
    if t.pattern and not _regex(t.pattern).match(value):
        hint = f"for example {t.example}" if t.example else f"it must match {t.pattern}"
        return report("E204", f"{where} {value!r} is not valid", hint)
    return value


def _attribute_value(value: Any, path: Path, source: SourceMap, problems: list[Diagnostic]) -> Any:
    """Cloud Map attributes are strings. YAML turns `leader: true` into a boolean; keep what was written."""
    scalar = source.scalars.get(path)
    if isinstance(value, str) or scalar is None or isinstance(value, (list, dict)):
        return value
    pos = source.value(path)
    if scalar.kind == "null":
        problems.append(Diagnostic(pos.line, pos.col, "E201", f"{_name(path)} has no value",
                                   'write "" for an empty string, or remove the key', loc=loc_text(path)))
        return INVALID
    problems.append(Diagnostic(pos.line, pos.col, "W400",
                               f"{_name(path)}: YAML reads {scalar.text} as {_kind(value)}; "
                               f"using the string {scalar.text!r} as written",
                               f'quote it to say so: "{scalar.text}"', loc=loc_text(path)))
    return scalar.text


def _kind(value: Any) -> str:
    return _KIND_NAMES.get(type(value), type(value).__name__)


_name = path_name

EXAMPLE_KEY = "app"  # the placeholder key of a map in examples (a service key; routes' `service` example names it)


def example(t: Type) -> Any:
    """The smallest valid value of `t`, from the schema alone: required keys only, one list item, examples.

    `example(ROOT)["vpc_link"]` -> {"subnet_ids": ["subnet-0123456789abcdef0"], "security_group_ids": [...]}.
    A test checks that the example of every type in the language passes the checks above.
    """
    if isinstance(t, Terraform):
        return {}
    if isinstance(t, Obj):
        return {name: example(f.type) for name, f in t.fields.items() if f.required}
    if isinstance(t, List):
        return [example(t.item)]
    if isinstance(t, Map):
        return {EXAMPLE_KEY: example(t.values)} if isinstance(t.values, Obj) else {}
    if isinstance(t, Bool):
        return False
    if isinstance(t, (Int, Number)):
        if t.example is not None:
            return t.example
        if isinstance(t, Int) and t.choices:
            return t.choices[0]
        return t.min if t.min is not None else 0
    if t.enum:
        return t.enum[0]
    return t.example or "x" * max(t.min_len, 1)


def flow(value: Any) -> str:
    """A value as one line of YAML flow style, quoting only the strings that need it: {a: [b, c]}."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str):
        return str(value)
    try:
        plain = yaml.safe_load(f"[{value}]") == [value]
    except yaml.YAMLError:
        plain = False
    return value if plain else json.dumps(value, ensure_ascii=False)


def _mapping_hint(t: Obj, path: Path) -> str:
    if not path:
        return "a routes file is a mapping of version, api, vpc_link, services and routes; start from the bundled one"
    shape = example(t)
    if not shape:
        return ""
    return f"for example: {path[-1]}: {flow(shape)}" if isinstance(path[-1], str) else f"for example: - {flow(shape)}"
