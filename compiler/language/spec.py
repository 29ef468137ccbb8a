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
    """`value` checked against `t` at `path`: the value with defaults filled in, or INVALID (problems appended)."""
    return _checked(t, value, _Here(path, source, problems))


@dataclass(frozen=True)
class _Here:
    """Where a value is checked: its path, the file's positions, and the problems found so far (shared)."""

    path: Path
    source: SourceMap
    problems: list[Diagnostic]

    @property
    def name(self) -> str:
        return _name(self.path)

    def at(self, key: str | int) -> "_Here":
        return _Here(self.path + (key,), self.source, self.problems)

    def report(self, code: str, message: str, hint: str = "", at_key: bool = False) -> _Invalid:
        pos = self.source.key(self.path) if at_key else self.source.value(self.path)
        self.problems.append(Diagnostic(pos.line, pos.col, code, message, hint, loc=loc_text(self.path)))
        return INVALID


def _checked(t: Type, value: Any, here: _Here) -> Any:
    for kind, checker in _CHECKERS:
        if isinstance(t, kind):
            return checker(t, value, here)
    raise TypeError(f"no check for {type(t).__name__}")


def _terraform(t: Terraform, value: Any, here: _Here) -> Any:
    """Checked against the provider's schema later, by compiler.language.overrides: here only its shape."""
    if not isinstance(value, dict):
        return here.report("E201", f"{here.name} must be a mapping of {t.resource} arguments, not {_kind(value)}",
                           "write each argument on its own line: name: value")
    return value


def _object(t: Obj, value: Any, here: _Here) -> Any:
    if not isinstance(value, dict):
        return here.report("E201", f"{here.name} must be a mapping, not {_kind(value)}", _mapping_hint(t, here.path))
    for key in value:
        if key not in t.fields:
            here.at(key).report("E200", f"unknown key {key!r} in {here.name}", did_you_mean(key, t.fields),
                                at_key=True)
    out: dict[str, Any] = {}
    for name, field in t.fields.items():
        if name in value:
            checked = _checked(field.type, value[name], here.at(name))
            if checked is not INVALID:
                out[name] = checked
        elif field.required:
            here.report("E202", f"{here.name} is missing the required key {name!r}",
                        f"add it, for example: {name}: {flow(example(field.type))}")
        elif field.default is not None:
            out[name] = field.default
    return out


def _list(t: List, value: Any, here: _Here) -> Any:
    if not isinstance(value, list):
        return here.report("E201", f"{here.name} must be a list, not {_kind(value)}", "write it as a YAML list: - item")
    items = [_checked(t.item, item, here.at(i)) for i, item in enumerate(value)]
    if len(value) < t.min_items:
        here.report("E206", f"{here.name} needs at least {t.min_items} item(s)")
    if t.max_items is not None and len(value) > t.max_items:
        here.report("E206", f"{here.name} has {len(value)} items; at most {t.max_items} are allowed")
    if t.unique:
        _report_repeats(value, here)
    return [None if item is INVALID else item for item in items]


def _report_repeats(value: list, here: _Here) -> None:
    seen: set = set()
    for i, item in enumerate(value):
        if not isinstance(item, (str, int)):
            continue
        if item in seen:
            here.at(i).report("E206", f"{item!r} is listed twice in {here.name}")
        seen.add(item)


def _map(t: Map, value: Any, here: _Here) -> Any:
    if not isinstance(value, dict):
        return here.report("E201", f"{here.name} must be a mapping, not {_kind(value)}", "write it as key: value lines")
    if t.max_items is not None and len(value) > t.max_items:
        here.report("E206", f"{here.name} has {len(value)} entries; at most {t.max_items} are allowed")
    out = {}
    for key, item in value.items():
        item_here = here.at(key)
        if t.key_pattern and not _regex(t.key_pattern).match(key):
            item_here.report("E204", f"{key!r} is not a valid key in {here.name}", f"keys must match {t.key_pattern}",
                             at_key=True)
            continue
        if t.attribute_values:
            item = _attribute_value(item, item_here.path, here.source, here.problems)
            if item is INVALID:
                continue
        checked = _checked(t.values, item, item_here)
        if checked is not INVALID:
            out[key] = checked
    return out


def _bool(t: Bool, value: Any, here: _Here) -> Any:
    if not isinstance(value, bool):
        return here.report("E201", f"{here.name} must be true or false, not {_kind(value)}")
    return value


def _number(t: Int | Number, value: Any, here: _Here) -> Any:
    where = here.name
    ok = isinstance(value, int) or (isinstance(t, Number) and isinstance(value, float))
    if isinstance(value, bool) or not ok:
        return here.report("E201", f"{where} must be {'an integer' if isinstance(t, Int) else 'a number'}, "
                           f"not {_kind(value)}")
    if value != value or value in (float("inf"), float("-inf")):  # .nan / .inf: no service takes them
        return here.report("E205", f"{where} is {value}; it must be a finite number between {t.min:g} and {t.max:g}")
    if (t.min is not None and value < t.min) or (t.max is not None and value > t.max):
        return here.report("E205", f"{where} is {value}; it must be between {t.min:g} and {t.max:g}")
    if isinstance(t, Int) and t.choices and value not in t.choices:
        closest = min(t.choices, key=lambda c: abs(c - value))
        return here.report("E205", f"{where} is {value}; it must be one of {', '.join(map(str, t.choices))}",
                           f"the closest allowed value is {closest}")
    return value


def _string(t: Str, value: Any, here: _Here) -> Any:
    where = here.name
    if not isinstance(value, str):
        scalar = here.source.scalars.get(here.path)
        hint = f'quote it: "{scalar.text}"' if scalar and scalar.kind != "null" else ""
        return here.report("E201", f"{where} must be a string, not {_kind(value)}", hint)
    if t.enum:
        if value not in t.enum:
            return here.report("E203", f"{where} is {value!r}; it must be one of {', '.join(t.enum)}",
                               did_you_mean(value, t.enum))
        return value
    if len(value) < t.min_len:
        return here.report("E204", f"{where} must not be empty")
    if t.max_len is not None and len(value) > t.max_len:
        return here.report("E204", f"{where} is {len(value)} characters long; at most {t.max_len} are allowed")
    size = len(value.encode("utf-8", "surrogatepass"))
    if t.max_bytes is not None and size > t.max_bytes:
        return here.report("E204", f"{where} is {size} bytes in UTF-8; at most {t.max_bytes} are allowed",
                           "Terraform counts bytes: non-ASCII letters take 2-4 bytes each")
    if t.pattern and not _regex(t.pattern).match(value):
        hint = f"for example {t.example}" if t.example else f"it must match {t.pattern}"
        return here.report("E204", f"{where} {value!r} is not valid", hint)
    return value


# In this order: the first kind a type is an instance of picks its check.
_CHECKERS = ((Terraform, _terraform), (Obj, _object), (List, _list), (Map, _map), (Bool, _bool),
             ((Int, Number), _number), (Str, _string))


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
