"""Stage 1: YAML text -> plain data + a source map of positions.

Plain PyYAML loses positions and silently accepts things that hurt in a config file people review:
a duplicate key keeps the last value, an alias bomb expands to gigabytes, `!!python/...` tags build objects.
We compose the node tree ourselves (SafeLoader, one document), refuse aliases, anchors, tags, non-string
keys, duplicate keys and absurd nesting, and keep the line and column of every key and value in a side
table keyed by the value's path, e.g. ("routes", 2, "filter", "leader").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

import yaml
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .diagnostics import Diagnostic

MAX_BYTES = 1024 * 1024  # a routes file for 300 routes is ~30 KB; anything near 1 MiB is a mistake
MAX_DEPTH = 64  # the language nests 5 levels; deep nesting only serves to exhaust the stack

Path = tuple[Union[str, int], ...]

_YAML = "tag:yaml.org,2002:"
_CORE_TAGS = {_YAML + t for t in ("str", "int", "float", "bool", "null", "map", "seq")}


@dataclass(frozen=True)
class Pos:
    line: int  # 1-based
    col: int  # 1-based


@dataclass(frozen=True)
class Scalar:
    """How a scalar was written: its YAML type and its source text (for `leader: true` -> "true")."""

    kind: str  # str | int | float | bool | null
    text: str
    quoted: bool


@dataclass
class SourceMap:
    values: dict[Path, Pos] = field(default_factory=dict)
    keys: dict[Path, Pos] = field(default_factory=dict)
    scalars: dict[Path, Scalar] = field(default_factory=dict)

    def value(self, path: Path) -> Pos:
        """Position of the value at path, falling back to the nearest enclosing node."""
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, Pos(1, 1))

    def key(self, path: Path) -> Pos:
        return self.keys.get(path) or self.value(path)


@dataclass
class Document:
    data: Any
    source: SourceMap


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases, anchors, explicit tags and deep nesting while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.problems: list[Diagnostic] = []
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None):
            raise _Refused("E103", event.start_mark, "anchors and aliases (&name, *name) are not allowed",
                           "write the value out in full; routes files are reviewed line by line")
        if isinstance(event, (ScalarEvent, CollectionStartEvent)) and event.tag not in (None, "!"):
            tag = event.tag if not event.tag.startswith(_YAML) else "!!" + event.tag[len(_YAML):]
            if event.tag not in _CORE_TAGS:
                raise _Refused("E104", event.start_mark, f"the YAML tag {tag} is not allowed",
                               "remove the tag; quote the value if it must be a string")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused("E106", event.start_mark, f"nesting deeper than {MAX_DEPTH} levels",
                           "flatten the document")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Refused(Exception):
    def __init__(self, code: str, mark: yaml.Mark, message: str, hint: str) -> None:
        super().__init__(message)
        self.diagnostic = Diagnostic(mark.line + 1, mark.column + 1, code, message, hint)


def decode(raw: bytes) -> tuple[str | None, list[Diagnostic]]:
    if len(raw) > MAX_BYTES:
        return None, [Diagnostic(0, 0, "E100", f"the file is {len(raw)} bytes; the limit is {MAX_BYTES}",
                                 "split the API into several files")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [Diagnostic(line, col, "E100", f"byte 0x{raw[exc.start]:02x} is not valid UTF-8",
                                 "save the file as UTF-8")]
    return text, []


def load_text(text: str) -> tuple[Document | None, list[Diagnostic]]:
    """Parse one YAML document into plain data and positions; never raises for bad input."""
    if not text.strip() or all(line.lstrip().startswith("#") or not line.strip() for line in text.splitlines()):
        return None, [Diagnostic(0, 0, "E100", "the file is empty", "start from the bundled routes.yaml")]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return None, [Diagnostic(line, 1, "E100", "the file contains a NUL character", "save it as plain text")]
    loader = None
    try:
        loader = _StrictLoader(text)  # the reader checks for control characters here
        root = loader.get_single_node()
    except _Refused as refused:
        return None, [refused.diagnostic]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        return None, [Diagnostic(line, col, "E101", message, "check indentation, quotes and colons near here")]
    except yaml.reader.ReaderError as exc:  # a control character; it carries an offset, not a mark
        line = text[: exc.position].count("\n") + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        return None, [Diagnostic(line, col, "E101", f"control character U+{exc.character:04X} is not allowed in YAML",
                                 "delete it; use an escape inside a double-quoted string if it is needed")]
    except RecursionError:
        return None, [Diagnostic(0, 0, "E106", "nesting is too deep", "flatten the document")]
    finally:
        if loader is not None:
            loader.dispose()
    if root is None:
        return None, [Diagnostic(0, 0, "E100", "the file is empty", "start from the bundled routes.yaml")]
    source = SourceMap()
    problems: list[Diagnostic] = []
    data = _convert(root, (), source, problems)
    return (None if problems else Document(data, source)), problems


def _convert(node: Node, path: Path, source: SourceMap, problems: list[Diagnostic]) -> Any:
    source.values[path] = _pos(node)
    if isinstance(node, ScalarNode):
        kind = node.tag[len(_YAML):] if node.tag.startswith(_YAML) else "str"
        source.scalars[path] = Scalar(kind, node.value, node.style in ("'", '"'))
        return _scalar_value(node, kind)
    if isinstance(node, SequenceNode):
        return [_convert(item, path + (i,), source, problems) for i, item in enumerate(node.value)]
    assert isinstance(node, MappingNode)
    result: dict[str, Any] = {}
    first_seen: dict[str, Pos] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode) or key_node.tag != _YAML + "str":
            if isinstance(key_node, ScalarNode):
                message, hint = f"mapping key {key_node.value!r} is not a string", f'quote it: "{key_node.value}"'
            else:
                message, hint = f"a {key_node.id} is used as a mapping key", "use a plain string key"
            problems.append(Diagnostic(*_astuple(key_node), "E105", message, hint))
            continue
        key = key_node.value
        if key in first_seen:
            first = first_seen[key]
            problems.append(Diagnostic(*_astuple(key_node), "E102", f"duplicate key {key!r}",
                                       f"first defined at line {first.line}, column {first.col}; "
                                       "YAML would silently keep only the last one"))
            continue
        first_seen[key] = _pos(key_node)
        source.keys[path + (key,)] = _pos(key_node)
        result[key] = _convert(value_node, path + (key,), source, problems)
    return result


def _scalar_value(node: ScalarNode, kind: str) -> Any:
    constructor = yaml.SafeLoader.yaml_constructors.get(node.tag)
    if constructor is None or kind == "str":
        return node.value
    try:
        return constructor(_CONSTRUCTOR, node)
    except (ValueError, OverflowError):  # e.g. a float the platform cannot hold
        return node.value


_CONSTRUCTOR = yaml.SafeLoader("")


def _pos(node: Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1)


def _astuple(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def read_file(path: str) -> tuple[Document | None, list[Diagnostic]]:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        return None, [Diagnostic(0, 0, "E100", f"cannot read the file: {exc.strerror or exc}",
                                 "check the path")]
    text, problems = decode(raw)
    if text is None:
        return None, problems
    return load_text(text)
