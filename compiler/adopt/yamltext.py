"""A small YAML writer for the routes.yaml `import` writes: what is written reads back as exactly what was meant.

Every value comes from AWS, so nothing may be left to a reader's guess. A string is written plain only when no
YAML reader, of version 1.1 (PyYAML, libyaml, most tools) or 1.2 (the core schema), could take it for anything
but that string, in block and in flow context alike; every other string is double-quoted, with escapes for
whatever is not plainly printable. The rule is deliberately stricter than either version needs (quoting a string
never changes its meaning; leaving one plain that a reader types does):

- YAML 1.1 types numbers in many notations (`1e3` is a string to PyYAML but a float by the 1.1 type repository's
  own regex, `0b1`, `017`, `1_000`, `190:20:30`, `.inf`), timestamps (`2001-12-14`), booleans (`yes`, `no`, `on`,
  `off`, `y`, `n`, any case in some readers), null (`~`, `null`, empty), `<<` (merge) and `=` (value): a plain
  string must start with an ASCII letter, `$`, `/` or `_`, and must not be one of those words in any case.
- YAML 1.2's core schema types `0o17`, `0x1F`, `.5`, `+1`, `1e3`, `true`/`false`/`null` and their capitalised
  forms: all start with a digit, a sign or a dot, or are among the words above.
- Indicators and comments: no `#`, `&`, `*`, `!`, `|`, `>`, `'`, `"`, `%`, `@` or `` ` `` anywhere, `,`, `[`, `]`,
  `{` and `}` only in block context (a flow collection quotes them), no `: ` and no trailing `:` (a `:` only in
  block context too), no leading or trailing space, no tab, ASCII only.

(yaml.org/type/bool.html: `y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF`;
yaml.org/type/float.html: `[-+]?([0-9][0-9_]*)?\\.[0-9.]*([eE][-+][0-9]+)?`, which even takes `10.0.1.10`;
YAML 1.2.2, 10.3.2 "Tag Resolution" for the core schema.) tests/test_import_yaml.py reads generated strings back
with PyYAML and with a YAML 1.2 reader (ruamel.yaml).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from ..core.text import visible

# Single inner spaces (`GET /leader`); in block context also `{`, `}`, `[`, `]` and `,` after the first character (a
# route key's `{proxy+}`): only inside a flow collection do they end a plain scalar.
_PLAIN_FLOW = re.compile(r"[A-Za-z$/_](?:[A-Za-z0-9_./$+()=:-]| (?=[^ ]))*")
_PLAIN_BLOCK = re.compile(r"[A-Za-z$/_](?:[A-Za-z0-9_./$+()=:{}\[\],-]| (?=[^ ]))*")
_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"}


def _printable(code: int) -> bool:
    """YAML's c-printable less what some reader takes for a line break (NEL, LS, PS) or strips (the BOM)."""
    return (0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code >= 0x10000) and \
        code not in (0x2028, 0x2029, 0xFEFF)


def quoted(text: str) -> str:
    """A double-quoted scalar: `\\` and `"` escaped, anything not plainly printable as \\x, \\u or \\U."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif _printable(code):
            out.append(ch)
        else:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def plain_is_safe(text: str, flow: bool) -> bool:
    """Whether `text` may be written plain (see the module docstring for why each rule is there)."""
    if not (_PLAIN_FLOW if flow else _PLAIN_BLOCK).fullmatch(text) or text.lower() in _WORDS:
        return False
    if ":" in text and (flow or ": " in text or text.endswith(":")):
        return False
    return True


def number(value: float | int) -> str:
    """A number both versions read as that number: ints as digits, floats always with a `.` and no exponent
    (PyYAML reads `1e+20` as a string)."""
    if isinstance(value, int):
        return str(value)
    text = format(Decimal(repr(value)), "f")
    return text if "." in text else text + ".0"


def scalar(value: Any, flow: bool = False) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number(value)
    text = str(value)
    return text if plain_is_safe(text, flow) else quoted(text)


def flow(value: Any) -> str:
    """A value on one line: mappings `{k: v}`, lists `[a, b]`, scalars (quoted for flow context)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k, True)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value, True)


def _value(value: Any) -> str:
    """A value after `key: `: a scalar in block context, a collection in flow style."""
    return flow(value) if isinstance(value, (dict, list, tuple)) else scalar(value)


def comment(text: str) -> str:
    """Text for a YAML comment: whatever AWS returned, it stays on its line (controls shown as escapes)."""
    return visible(text)


class Document:
    """The routes.yaml text, line by line, with comments where they explain something."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def comment(self, indent: int, text: str) -> None:
        self.lines.append(" " * indent + "# " + comment(text))

    def line(self, text: str) -> None:
        self.lines.append(text)

    def key(self, indent: int, key: str, value: Any = None, note: str = "") -> None:
        line = " " * indent + f"{scalar(key)}:" + ("" if value is None else " " + _value(value))
        self.lines.append(line + (f"  # {comment(note)}" if note else ""))

    def item(self, indent: int, key: str, value: Any, note: str = "") -> None:
        line = " " * indent + f"- {scalar(key)}: {_value(value)}"
        self.lines.append(line + (f"  # {comment(note)}" if note else ""))

    def entry(self, indent: int, value: Any) -> None:
        """A list entry in flow style: `- {id: node-1, ...}`."""
        self.lines.append(" " * indent + "- " + flow(value))

    def block(self, indent: int, key: str, value: Any, note: str = "") -> None:
        """A key whose value is written in block style when it is a long mapping (readable)."""
        if isinstance(value, dict) and value and len(flow(value)) > 60:
            self.key(indent, key, None, note)
            for k, v in value.items():
                self.key(indent + 2, k, v)
        else:
            self.key(indent, key, value, note)

    def blank(self) -> None:
        self.lines.append("")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"
