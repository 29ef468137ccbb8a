"""YAML text -> plain data + a source map of positions.

Plain PyYAML loses positions and silently accepts things that hurt in a config file people review:
a duplicate key keeps the last value, an alias bomb expands to gigabytes, `!!python/...` tags build objects.
We compose the node tree ourselves (SafeLoader, one document), refuse aliases, anchors, tags, non-string
keys, duplicate keys, absurd nesting and invisible characters (control characters, line separators, lone
surrogates, noncharacters: raw or written as escapes), and keep the line and column of every key and value in a
side table keyed by the value's path, e.g. ("routes", 2, "filter", "leader").

Positions are counted the way an editor counts them: only \\n, \\r\\n and \\r end a line. PyYAML implements
YAML 1.1, which also breaks lines at U+0085, U+2028 and U+2029, so its own line numbers drift after one of those;
every position here is recomputed from the mark's character offset instead (`Lines`), and after reporting
those characters the file is parsed with them neutralised, so what follows is read as the editor shows it. YAML
syntax errors are translated from PyYAML's parser vocabulary into what a person editing the file can act on
(`_explain`): which line, lined up with what, and the edit that fixes it.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

import yaml
import yaml.composer
import yaml.cyaml
import yaml.resolver
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.scanner import Scanner

from ..core.diagnostics import Diagnostic, loc_text

MAX_BYTES = 1024 * 1024  # a routes file for 300 routes is ~30 KB; anything near 1 MiB is a mistake
MAX_DEPTH = 64  # the language nests 5 levels; deep nesting only serves to exhaust the stack
MAX_CHARACTER_REPORTS = 20  # a file full of invisible characters gets this many diagnostics, then a count

Path = tuple[Union[str, int], ...]

_YAML = "tag:yaml.org,2002:"
_CORE_TAGS = {_YAML + t for t in ("str", "int", "float", "bool", "null", "map", "seq")}

# Characters no key or value may contain, however written (raw, or as a "\x07" escape in a double-quoted string):
# every C0 control but the tab (line feed included: each value is one line of text, and a trailing "\n" would slip
# past the `$` of a Python pattern), DEL, every C1 control (U+0085 NEXT LINE among them), U+2028/U+2029 (line
# separators to some programs and not to others), lone surrogates (not encodable: synth would crash) and the
# noncharacters. The tab is part of Cloud Map's attribute value grammar; every other field's pattern refuses it.
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17))
_REFUSED = re.compile(f"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff{_NONCHARACTERS}]")
# The same set in the raw text, less the three characters YAML itself uses to lay out lines. Comments are
# included: YAML 1.1 ends a comment at U+2028, so what follows it would be read as content nobody sees.
_RAW_REFUSED = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff{_NONCHARACTERS}]")
# The same set without the astral noncharacters: a class holding characters beyond U+FFFF makes every search an
# order of magnitude slower (0.4 s for a 1 MiB file), so the astral ones are looked for only in a text that has any.
_RAW_REFUSED_BMP = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_YAML_BREAKS = "\x85\u2028\u2029"  # line breaks in YAML 1.1 (PyYAML) but not in editors or YAML 1.2
_AS_SHOWN = {ord(c): " " for c in _YAML_BREAKS}
_CHARACTER_NAMES = {0x00: "NUL", 0x07: "BELL", 0x08: "BACKSPACE", 0x09: "TAB", 0x0A: "LINE FEED",
                    0x0B: "VERTICAL TAB", 0x0C: "FORM FEED", 0x0D: "CARRIAGE RETURN", 0x1B: "ESCAPE",
                    0x7F: "DELETE", 0x85: "NEXT LINE"}
_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.S)


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
    fast: bool = False  # read through libyaml's events (the same data and positions as PyYAML's path)
    routes_total: int | None = None  # more routes than an API holds: how many; `data` has the first ROUTE_QUOTA


def path_name(path: Path) -> str:
    """A path as messages name it: routes[2].filter.leader (diagnostics.loc_text), or "the document"."""
    return loc_text(path) or "the document"


class Lines:
    """The text split into lines as an editor shows them, and character offsets -> editor positions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]

    def pos(self, index: int) -> Pos:
        line = bisect.bisect_right(self.starts, index) - 1
        return Pos(line + 1, index - self.starts[line] + 1)

    def at(self, mark: yaml.Mark) -> Pos:
        return self.pos(mark.index)

    def __getitem__(self, line: int) -> str:
        """Line `line` (1-based) without its line break; "" past the end."""
        if not 1 <= line <= len(self.starts):
            return ""
        end = self.starts[line] if line < len(self.starts) else len(self.text)
        return self.text[self.starts[line - 1]:end].rstrip("\r\n")

    def __len__(self) -> int:
        return len(self.starts)


ROUTE_QUOTA = 300  # routes per HTTP API, and (one integration each) integrations per API: rules.MAX_ROUTES
ROUTES = "routes"


class _StrictComposer:
    """Refuses aliases, anchors, explicit tags and deep nesting while composing (for either parser below).

    A file cannot hold more routes than an HTTP API does (ROUTE_QUOTA), and each route costs a node tree, a
    conversion and a validation: the top-level `routes` list keeps its first ROUTE_QUOTA items, and the events of
    the others are only counted (still refusing anchors, aliases, tags and deep nesting). `routes_total` is then the
    list's real length, which the quota error reports (compiler.language._compile); None when nothing was left out.
    """

    _depth = 0
    _routes_next = False
    routes_total: int | None = None

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        self._refuse(event)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused("E106", event.start_mark, f"nesting deeper than {MAX_DEPTH} levels",
                           "flatten the document")
        self._routes_next = self._depth == 2 and isinstance(index, ScalarNode) and index.value == ROUTES
        try:
            return yaml.composer.Composer.compose_node(self, parent, index)
        finally:
            self._depth -= 1

    @staticmethod
    def _refuse(event) -> None:
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None):
            raise _Refused("E103", event.start_mark, "anchors and aliases (&name, *name) are not allowed",
                           "write the value out in full; routes files are reviewed line by line")
        if isinstance(event, (ScalarEvent, CollectionStartEvent)) and event.tag not in (None, "!"):
            tag = event.tag if not event.tag.startswith(_YAML) else "!!" + event.tag[len(_YAML):]
            if event.tag not in _CORE_TAGS:
                raise _Refused("E104", event.start_mark, f"the YAML tag {tag} is not allowed",
                               "remove the tag; quote the value if it must be a string")

    def compose_sequence_node(self, anchor: Any) -> SequenceNode:
        if not self._routes_next:
            return yaml.composer.Composer.compose_sequence_node(self, anchor)
        self._routes_next = False
        start = self.get_event()
        tag = start.tag if start.tag not in (None, "!") else self.resolve(SequenceNode, None, start.implicit)
        node = SequenceNode(tag, [], start.start_mark, None, flow_style=start.flow_style)
        count = 0
        while not self.check_event(SequenceEndEvent):
            if count < ROUTE_QUOTA:
                node.value.append(self.compose_node(node, count))
            else:
                self._skip_node()
            count += 1
        node.end_mark = self.get_event().end_mark
        if count > ROUTE_QUOTA:
            self.routes_total = count
        return node

    def _skip_node(self) -> None:
        """Consume one node's events without composing it, refusing what compose_node refuses (a file of 1 MiB
        has ~30,000 routes: this loop is most of what refusing it costs)."""
        depth, get_event = 0, self.get_event
        while True:
            event = get_event()
            kind = type(event)
            if kind is ScalarEvent or kind is SequenceStartEvent or kind is MappingStartEvent:
                if event.anchor is not None or event.tag not in (None, "!"):
                    self._refuse(event)  # a core tag (!!str) is fine: _refuse raises for the rest
                if kind is not ScalarEvent:
                    depth += 1
                    if self._depth + depth > MAX_DEPTH:
                        raise _Refused("E106", event.start_mark, f"nesting deeper than {MAX_DEPTH} levels",
                                       "flatten the document")
            elif kind is SequenceEndEvent or kind is MappingEndEvent:
                depth -= 1
            else:
                self._refuse(event)  # an alias
            if depth == 0:
                return


class _StrictLoader(_StrictComposer, yaml.SafeLoader):
    """PyYAML's own parser: the positions every diagnostic reports."""


class _FastStrictLoader(_StrictComposer, yaml.cyaml.CParser, yaml.composer.Composer, yaml.resolver.Resolver):
    """The same strict composer fed by libyaml's C parser: about 7x faster on a 300-route file.

    It gives the data and the positions PyYAML's path gives (marks count characters, as PyYAML's do), except in
    the cases it leaves to that path: an empty plain value (libyaml marks it a column later), a U+FEFF after the
    start (libyaml drops it, PyYAML keeps it in the text) and a tab (libyaml takes `key:<TAB>value` as a mapping,
    PyYAML refuses the tab). tests/test_fast_reader.py holds the two paths
    equal over the examples, the diagnostics corpus and generated YAML of every syntax, so a diagnostic is placed
    from the fast read directly: no second read.
    """

    def __init__(self, stream: str) -> None:
        yaml.cyaml.CParser.__init__(self, stream)
        yaml.composer.Composer.__init__(self)
        yaml.resolver.Resolver.__init__(self)

    get_single_node = yaml.composer.Composer.get_single_node  # not libyaml's composer: ours refuses what it must


FAST = getattr(yaml, "__with_libyaml__", False)


class _Refused(Exception):
    def __init__(self, code: str, mark: yaml.Mark, message: str, hint: str) -> None:
        super().__init__(message)
        self.code, self.mark, self.message, self.hint = code, mark, message, hint

    def diagnostic(self, lines: Lines) -> Diagnostic:
        pos = lines.at(self.mark)
        return Diagnostic(pos.line, pos.col, self.code, self.message, self.hint)


def _too_large(size: int) -> Diagnostic:
    return Diagnostic(0, 0, "E100", f"the file is {size:,} bytes; the limit is {MAX_BYTES:,} bytes (1 MiB)",
                      "split the API into several files")


def decode(raw: bytes) -> tuple[str | None, list[Diagnostic]]:
    if len(raw) > MAX_BYTES:
        return None, [_too_large(len(raw))]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:  # exc.object is what follows a BOM; the text before exc.start is valid
        before = exc.object[:exc.start].decode("utf-8")
        pos = Lines(before).pos(len(before))  # in characters, as an editor counts columns
        return None, [Diagnostic(pos.line, pos.col, "E100", f"byte 0x{exc.object[exc.start]:02x} is not valid UTF-8",
                                 "save the file as UTF-8")]
    return text, []


def load_text(text: str, fast: bool = False) -> tuple[Document | None, list[Diagnostic]]:
    """Parse one YAML document into plain data and positions; never raises for bad input.

    `fast` reads through libyaml when it can (no problem found, no tab, no U+FEFF but a leading byte order mark);
    anything else takes PyYAML's path. Both give the same data and positions (_FastStrictLoader).
    """
    text = text.removeprefix("\ufeff")  # a byte order mark is no column an editor shows
    if fast and _fast_eligible(text):
        document = _load_fast(text)
        if document is not None:
            return document, []
    if not text.strip() or all(line.lstrip().startswith("#") or not line.strip() for line in text.splitlines()):
        return None, [Diagnostic(0, 0, "E100", "the file is empty", "start from the bundled routes.yaml")]
    # After reporting U+0085, U+2028 and U+2029 (below), read the file with each as a space: the editor shows no
    # line break there, and a space keeps every offset. Most are stray copy-paste at a line's end or on a blank line.
    readable = text.translate(_AS_SHOWN)
    lines = Lines(readable)  # the same line starts as the text's: the three are no line breaks to it
    if "\x00" in text:
        pos = lines.pos(text.index("\x00"))
        return None, [Diagnostic(pos.line, pos.col, "E100", "the file contains a NUL character",
                                 "save it as plain text")]
    problems = _raw_characters(text, lines)
    if any(m.group() not in _YAML_BREAKS and not _is_noncharacter(m.group()) for m in _RAW_REFUSED.finditer(text)):
        return None, problems  # PyYAML's reader refuses these too; nothing more can be read
    loader = None
    try:
        loader = _StrictLoader(readable)
        root = loader.get_single_node()
    except _Refused as refused:
        return None, problems + [refused.diagnostic(lines)]
    except yaml.MarkedYAMLError as exc:
        return None, problems + [_explain(exc, lines)]
    except yaml.reader.ReaderError as exc:  # kept as a safety net: _RAW_REFUSED covers what the reader refuses
        pos = lines.pos(exc.position)
        return None, problems + [Diagnostic(pos.line, pos.col, "E107", f"{_character(chr(exc.character))} is not "
                                            "allowed in a routes file", "delete it")]
    except (ValueError, OverflowError):  # PyYAML's scanner calls chr() on "\U00110000" and beyond
        match = next((m for m in re.finditer(r"\\U([0-9A-Fa-f]{8})", text) if int(m[1], 16) > 0x10FFFF), None)
        if match is None:
            raise
        pos = lines.pos(match.start())
        return None, problems + [Diagnostic(pos.line, pos.col, "E101", f"the escape {match[0]} is not a Unicode "
                                            "character (the largest is \\U0010FFFF)", "write the character itself")]
    except RecursionError:
        return None, problems + [Diagnostic(0, 0, "E106", "nesting is too deep", "flatten the document")]
    finally:
        if loader is not None:
            loader.dispose()
    if root is None:
        return None, [Diagnostic(0, 0, "E100", "the file is empty", "start from the bundled routes.yaml")]
    source = SourceMap()
    data = _Converter(lines, source, problems).convert(root, ())
    return (None if problems else Document(data, source, routes_total=loader.routes_total)), problems


# --- characters -------------------------------------------------------------------------------------------

def _is_noncharacter(char: str) -> bool:
    code = ord(char)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def _character(char: str) -> str:
    """U+2028 -> "U+2028 (LINE SEPARATOR)", U+0007 -> "the control character U+0007 (BELL)"."""
    code = ord(char)
    label = f"U+{code:04X}"
    if 0xD800 <= code <= 0xDFFF:
        return f"the lone surrogate {label}"
    if _is_noncharacter(char):
        return f"the noncharacter {label}"
    if code < 0x20 or 0x7F <= code <= 0x9F:
        name = _CHARACTER_NAMES.get(code)
        return f"the control character {label}" + (f" ({name})" if name else "")
    return f"{label} ({unicodedata.name(char, 'unnamed')})"


def _raw_characters(text: str, lines: Lines) -> list[Diagnostic]:
    """Every refused character in the raw text, wherever it is (values, keys, comments, indentation)."""
    problems = []
    for i, match in enumerate(_RAW_REFUSED.finditer(text)):
        pos = lines.pos(match.start())
        if i == MAX_CHARACTER_REPORTS:
            rest = sum(1 for _ in _RAW_REFUSED.finditer(text, match.start()))
            problems.append(Diagnostic(pos.line, pos.col, "E107", f"{rest} more characters that are not allowed "
                                       "follow from here", "delete them; they are invisible in most editors"))
            break
        char = match.group()
        if char in _YAML_BREAKS:
            message = (f"{_character(char)} is not allowed in a routes file: YAML 1.1 reads it as a line break "
                       "and editors do not, so the file would not mean what it shows")
            hint = "delete it, or replace it with a space; most editors do not show it"
        else:
            message = f"{_character(char)} is not allowed in a routes file"
            hint = "delete it; most editors do not show it"
        problems.append(Diagnostic(pos.line, pos.col, "E107", message, hint))
    return problems


def _escaped(match: re.Match) -> str | None:
    """The character a double-quoted scalar's escape (a match of _ESCAPE) stands for, if it stands for one."""
    code = match[1]
    if code[0] in Scanner.ESCAPE_CODES and len(code) > 1:
        value = int(code[1:], 16)
        return chr(value) if value <= 0x10FFFF else None
    return Scanner.ESCAPE_REPLACEMENTS.get(code)


# --- nodes -> data ----------------------------------------------------------------------------------------

class _Converter:
    def __init__(self, lines: Lines, source: SourceMap, problems: list[Diagnostic]) -> None:
        self.lines, self.source, self.problems = lines, source, problems

    def pos(self, node: Node) -> Pos:
        return self.lines.at(node.start_mark)

    def report(self, node: Node, code: str, message: str, hint: str) -> None:
        pos = self.pos(node)
        self.problems.append(Diagnostic(pos.line, pos.col, code, message, hint))

    def convert(self, node: Node, path: Path) -> Any:
        self.source.values[path] = self.pos(node)
        if isinstance(node, ScalarNode):
            self.check_characters(node, path_name(path) if path else "the document")
            kind = node.tag[len(_YAML):] if node.tag.startswith(_YAML) else "str"
            self.source.scalars[path] = Scalar(kind, node.value, node.style in ("'", '"'))
            return _scalar_value(node, kind)
        if isinstance(node, SequenceNode):
            return [self.convert(item, path + (i,)) for i, item in enumerate(node.value)]
        assert isinstance(node, MappingNode)
        result: dict[str, Any] = {}
        first_seen: dict[str, Pos] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag != _YAML + "str":
                if isinstance(key_node, ScalarNode):
                    message, hint = f"mapping key {key_node.value!r} is not a string", f'quote it: "{key_node.value}"'
                else:
                    message, hint = f"a {key_node.id} is used as a mapping key", "use a plain string key"
                self.report(key_node, "E105", message, hint)
                continue
            key = key_node.value
            self.check_characters(key_node, f"the key {key!r} in {path_name(path)}" if path
                                  else f"the top-level key {key!r}")
            if key in first_seen:
                first = first_seen[key]
                self.report(key_node, "E102", f"duplicate key {key!r}",
                            f"first defined at line {first.line}, column {first.col}; "
                            "YAML would silently keep only the last one")
                continue
            first_seen[key] = self.pos(key_node)
            self.source.keys[path + (key,)] = self.pos(key_node)
            result[key] = self.convert(value_node, path + (key,))
        return result

    def check_characters(self, node: ScalarNode, where: str) -> None:
        """E107 for each escape that writes a refused character, and for the first other refused character in
        the key or value that the raw-text scan has not reported (a line break kept by a block scalar)."""
        raw = self.lines.text[node.start_mark.index:node.end_mark.index]
        escaped, paired = set(), None
        for match in _ESCAPE.finditer(raw) if node.style == '"' else ():
            char = _escaped(match)
            if char is None or not _REFUSED.match(char) or match.start() == paired:
                continue
            escaped.add(char)
            hint = _escape_hint(char, match[0])
            low = _ESCAPE.match(raw, match.end())
            if "\ud800" <= char <= "\udbff" and low and "\udc00" <= (_escaped(low) or "") <= "\udfff":
                paired = low.start()  # one diagnostic for a JSON-style pair such as \ud83d\ude00
                joined = chr(0x10000 + ((ord(char) - 0xD800) << 10) + ord(_escaped(low)) - 0xDC00)
                escaped.add(_escaped(low))
                hint = (f"YAML does not join {match[0]}{low[0]} into one character: write {joined} itself, or the "
                        f"escape \\U{ord(joined):08X}")
            pos = self.lines.pos(node.start_mark.index + match.start())
            self.problems.append(Diagnostic(pos.line, pos.col, "E107", f"{where} contains {_character(char)}, "
                                            f"written as the escape {match[0]}", hint))
        for match in _REFUSED.finditer(node.value):
            char = match.group()
            if char in escaped or (_RAW_REFUSED.match(char) and char in raw):
                continue  # reported where it is written
            hint = ("a value is one line: join the lines, or fold them with `>-` (spaces instead of line breaks, "
                    "none at the end)" if char == "\n" else "delete it; most editors do not show it")
            self.report(node, "E107", f"{where} contains {_character(char)}", hint)
            return


def _escape_hint(char: str, escape: str) -> str:
    if char in "\n\r":
        return f"a value is one line: remove {escape}"
    if 0xD800 <= ord(char) <= 0xDFFF:
        return "write the character itself, or its \\U escape of 8 hex digits (\\U0001F600)"
    return f"remove {escape}: keys and values are printable text"


def _scalar_value(node: ScalarNode, kind: str) -> Any:
    constructor = yaml.SafeLoader.yaml_constructors.get(node.tag)
    if constructor is None or kind == "str":
        return node.value
    try:
        return constructor(_CONSTRUCTOR, node)
    except (ValueError, OverflowError):  # e.g. a float the platform cannot hold
        return node.value


_CONSTRUCTOR = yaml.SafeLoader("")


# --- YAML syntax errors in plain language -----------------------------------------------------------------

_HINT = "check indentation, quotes and colons near here"
_Explained = Optional[tuple[tuple[int, int], str, str]]  # (line, col), message, hint; None keeps PyYAML's words
_LINE = re.compile(r"^( *)((?:-(?: +|$))*)(.*)$")
_KEY = re.compile(r"""^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{\[][^#]*?)[ \t]*:(?=[ \t]|$)[ \t]*(.*)$""")


@dataclass(frozen=True)
class _Line:
    number: int
    indent: int  # columns of leading spaces
    dashes: tuple[int, ...]  # 0-based columns of the "- " item markers at the start
    inner: int  # 0-based column where the content after the markers starts
    body: str  # the content after the markers, comment stripped
    key: str | None  # `key` of `key: value`
    value: str  # `value` of `key: value`, comment stripped

    @property
    def content(self) -> bool:
        return bool(self.body or self.dashes)

    @property
    def label(self) -> str:
        return f"`{self.key}:`" if self.key else f"`{self.body}`"


def _strip_comment(text: str) -> str:
    return re.sub(r"(^|[ \t])#.*$", "", text).strip()


def _parse(lines: Lines, number: int) -> _Line:
    match = _LINE.match(lines[number])
    indent, dashes, rest = len(match[1]), match[2], match[3]
    body = _strip_comment(rest)
    key = _KEY.match(body)
    return _Line(number, indent, tuple(indent + i for i, c in enumerate(dashes) if c == "-"),
                 indent + len(dashes), body, key[1] if key else None, _strip_comment(key[2]) if key else "")


def _previous(lines: Lines, number: int) -> _Line | None:
    for n in range(number - 1, 0, -1):
        line = _parse(lines, n)
        if line.content:
            return line
    return None


@dataclass(frozen=True)
class _Level:
    col: int  # 0-based
    kind: str  # key | item | text
    line: _Line


def _levels(lines: Lines, number: int) -> list[_Level]:
    """The blocks still open at line `number`, nearest first: each is a column where a key or item can go."""
    levels: list[_Level] = []
    limit, limit_kind = 1 << 30, ""
    for n in range(number - 1, 0, -1):
        line = _parse(lines, n)
        if not line.content:
            continue
        if line.body and (line.inner < limit or (line.inner == limit and limit_kind == "item" and line.key)):
            kind = "key" if line.key else "text"
            levels.append(_Level(line.inner, kind, line))
            limit, limit_kind = line.inner, kind
        for col in reversed(line.dashes):
            if col < limit:
                levels.append(_Level(col, "item", line))
                limit, limit_kind = col, "item"
        if limit == 0 and limit_kind == "key":
            break
    return levels


def _spaces(n: int) -> str:
    return "1 space" if n == 1 else f"{n} spaces"


def _line_up(options: list[_Level], col: int, what: Callable[[_Level], str]) -> str:
    """'use 2 spaces to line it up with `name:` (line 3), or 0 spaces ...' for the nearest options."""
    deeper = [o for o in options if o.col > col]
    shallower = [o for o in options if o.col < col]
    picked = ([min(deeper, key=lambda o: o.col)] if deeper else []) + ([shallower[0]] if shallower else [])
    phrases = [f"{_spaces(o.col)} to line it up with {what(o)}" for o in picked]
    return "use " + ", or ".join(phrases) if phrases else ""


def _explain(exc: yaml.MarkedYAMLError, lines: Lines) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return Diagnostic(0, 0, "E101", " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML", _HINT)
    at = lines.at(mark)
    context_at = lines.at(exc.context_mark) if exc.context_mark else None
    explained = _explain_problem(exc.problem or "", exc.context or "", at, context_at, lines)
    if explained is None:
        message = " ".join(p for p in (exc.context, exc.problem) if p)
        return Diagnostic(at.line, at.col, "E101", message, _HINT)
    (line, col), message, hint = explained
    return Diagnostic(line, col, "E101", message, hint)


def _explain_problem(problem: str, context: str, at: Pos, context_at: Pos | None, lines: Lines) -> _Explained:
    """(position, message, hint) for the mistakes people make, or None to keep PyYAML's words."""
    text = lines[at.line]
    here = (at.line, at.col)
    token = re.match(r"found character '(.+)' that cannot start any token", problem)
    if token and token[1] == "\\t":
        if not text[:at.col - 1].strip():
            return (here, "tabs are not allowed for indentation in YAML; use spaces",
                    "replace the tab with spaces (YAML counts only spaces; most editors can convert indentation "
                    "to spaces)")
        return here, "a tab cannot separate the parts of a line in YAML; use a space", "replace the tab with a space"
    if token:
        value = text[at.col - 1:].rstrip()
        quoted = json.dumps(value) if "'" in value or '"' not in value else f"'{value}'"
        return (here, f"a value cannot start with {token[1]!r}: YAML reserves that character",
                f"put the value in quotes: {quoted}")
    if problem == "mapping values are not allowed here":
        return _explain_colon(at, lines)
    if problem.startswith("expected <block end>, but found "):
        return _explain_block_end(problem.rpartition("but found ")[2].strip("'"), at, lines)
    if problem == "could not find expected ':'" and context_at is not None:
        return _explain_no_colon(context_at, lines)
    if context.startswith("while scanning a quoted scalar") and problem.startswith("found unexpected") and context_at:
        quote = lines[context_at.line][context_at.col - 1:context_at.col]
        return ((context_at.line, context_at.col), f"the {quote} that starts this string is never closed",
                f"add the closing {quote} at the end of the value")
    escape = re.match(r"found unknown escape character '(.+)'", problem)
    if escape:
        return (here, f"unknown escape \\{escape[1]} in a double-quoted string",
                "write the character itself, double the backslash (\\\\), or use single quotes (no escapes)")
    flow = re.match(r"expected ',' or '([}\]])', but got '(.+)'", problem)
    if flow and context_at is not None:
        return _explain_flow(flow[1], flow[2], at, context_at, lines)
    if context == "expected a single document in the stream":
        return (here, f"a second YAML document starts on line {at.line} (`---`); a routes file is one document",
                "remove the `---` line, and merge what follows into the document above")
    return None


def _explain_colon(at: Pos, lines: Lines) -> _Explained:
    """'mapping values are not allowed here': a ':' where YAML cannot start a key."""
    line = _parse(lines, at.line)
    if line.key is not None and at.col - 1 > line.inner + len(line.key):
        value = line.value
        quoted = json.dumps(value) if "'" in value or '"' not in value else f"'{value}'"
        value_col = lines[at.line].find(value, line.inner + len(line.key)) + 1
        return ((at.line, value_col), f"the value of `{line.key}` contains ': ', which YAML reads as the start of "
                "another key", f"put the value in quotes: {line.key}: {quoted}")
    above = _previous(lines, at.line)
    if above is None:
        return None
    if above.key is not None and above.value and line.inner > above.inner:
        return ((at.line, line.inner + 1), f"{line.label} on line {at.line} is indented more than `{above.key}:` "
                f"on line {above.number}, so YAML reads it as more of the value of `{above.key}`",
                f"use {_spaces(above.inner)} to line it up with `{above.key}:` if it is another key; if it belongs "
                f"under `{above.key}`, remove the value after `{above.key}:`")
    if above.key is None:
        glued = re.match(r"^([^\s:]+):(\S.*)$", above.body)
        if glued:
            col = lines[above.number].find(above.body) + len(glued[1]) + 1
            return ((above.number, col), f"`{above.body}` needs a space after the ':'",
                    f"write {glued[1]}: {glued[2]}")
        if ":" not in above.body and above.inner <= line.inner:
            return ((above.number, above.inner + 1), f"line {above.number} (`{above.body}`) has no ':' after its "
                    f"key, so YAML reads it and line {at.line} as one text value", _with_colon(above.body))
    return None


def _explain_block_end(found: str, at: Pos, lines: Lines) -> _Explained:
    """'expected <block end>': a line that lines up with none of the blocks open above it."""
    line = _parse(lines, at.line)
    levels = _levels(lines, at.line)
    keys = [lv for lv in levels if lv.kind == "key"]
    items = [lv for lv in levels if lv.kind == "item"]
    if found == "<scalar>" and re.search(r"[\"'] +$", lines[at.line][:at.col - 1]):
        return ((at.line, at.col), "text follows the closing quote of a value",
                "put the whole value inside the quotes, or remove what follows the closing quote")
    if found in ("<block mapping start>", "?"):
        col = line.inner
        lined_items = [lv for lv in items if lv.col == col]
        options = _line_up([lv for lv in keys if lv.col != col], col,
                           lambda lv: f"{lv.line.label} (line {lv.line.number})")
        if lined_items:
            first = lined_items[0].line.number
            item = "start it with '- ' to make it an item of that list"
            return ((at.line, col + 1), f"{line.label} on line {at.line} lines up with the list items above it "
                    f"(line {first}), but it does not start with '- '", f"{options}; or {item}" if options else item)
        return ((at.line, col + 1), f"{line.label} on line {at.line} is indented {_spaces(col)}, which lines up with "
                "no key above it", options or "YAML nests by indentation: line it up with the keys it belongs with")
    if found in ("<block sequence start>", "-"):
        col = line.dashes[0] if line.dashes else line.inner
        above = _previous(lines, at.line)
        if above is not None and re.match(r"^-[^\s-]", above.body):
            return ((above.number, above.inner + 1), f"`{above.body}` needs a space after the '-' to be a list item",
                    f"write - {above.body[1:]}")
        options = _line_up([lv for lv in items if lv.col != col], col,
                           lambda lv: f"the item on line {lv.line.number}")
        fallback = "put the list under a key of its own: `key:` followed by indented `- item` lines"
        if found == "-":
            near = next((lv for lv in keys if lv.col == col), None)
            among = f" among the keys of a mapping ({near.line.label}, line {near.line.number})" if near else ""
            return ((at.line, col + 1), f"line {at.line} starts a list item (`- `){among}; a mapping cannot hold "
                    "list items", f"{options}, as a new item of that list" if options else fallback)
        return ((at.line, col + 1), f"the list item on line {at.line} is indented {_spaces(col)}, which lines up with "
                "no list above it", options or fallback)
    return None


def _explain_no_colon(start: Pos, lines: Lines) -> _Explained:
    """'could not find expected ':'': a line that is neither `key: value` nor `- item`."""
    line = _parse(lines, start.line)
    if any(lv.kind == "item" and lv.col == line.inner for lv in _levels(lines, start.line)):
        return ((start.line, start.col), f"line {start.line} (`{line.body}`) lines up with list items but does "
                "not start with '- '", f"write - {line.body}")
    return ((start.line, start.col), f"line {start.line} (`{line.body}`) is not `key: value`: the ':' is missing",
            f"{_with_colon(line.body)}, or remove the line")


def _with_colon(body: str) -> str:
    """'name t' -> 'write name: t'; 'stage' -> 'write stage: <value>'."""
    word = re.match(r"^([A-Za-z0-9_$][A-Za-z0-9_.$/-]*)(?: +(.*))?$", body)
    if word is None:
        return "write it as `key: value`"
    return f"write {word[1]}: {word[2] or '<value>'}"


def _explain_flow(close: str, got: str, at: Pos, start: Pos, lines: Lines) -> _Explained:
    """"expected ',' or '}'": an unclosed or mismatched {...} / [...], or entries without commas."""
    opening = "{" if close == "}" else "["
    if got in ("}", "]"):
        return ((at.line, at.col), f"the {opening} on line {start.line}, column {start.col} is closed with {got}",
                f"close it with {close}")
    if got == "<stream end>":
        return ((start.line, start.col), f"the {opening} on line {start.line}, column {start.col} is never closed",
                f"add {close} after its last entry")
    if at.line > start.line:
        return ((start.line, start.col), f"the {opening} on line {start.line}, column {start.col} is not closed "
                f"before line {at.line}", f"add {close} after its last entry; if it goes on to line {at.line}, "
                "put ',' between the entries")
    before = lines[at.line][:at.col - 1].rstrip()
    word = before.split()[-1] if before.split() else ""
    return ((at.line, at.col), f"entries inside {opening}{close} must be separated by ', '",
            f"add ',' before `{word}`" if word else "add ',' between the entries")


def _fast_eligible(text: str) -> bool:
    """Whether libyaml reads `text` as PyYAML does (_FastStrictLoader): no tab, no U+FEFF, something to read."""
    return FAST and "\ufeff" not in text and "\t" not in text and bool(text.strip())


def _load_fast(text: str) -> Document | None:
    """The document through libyaml, or None when anything at all is unusual (then PyYAML reads it)."""
    if "\x00" in text or _RAW_REFUSED_BMP.search(text) or (max(text) > "\uffff" and _RAW_REFUSED.search(text)):
        return None
    loader = None
    try:
        loader = _FastStrictLoader(text)
        root = loader.get_single_node()
    except Exception:  # noqa: BLE001 - any refusal or syntax error is reported by the exact path instead
        return None
    finally:
        if loader is not None:
            loader.dispose()
    if root is None:
        return None
    for node in _scalars(root):
        if node.style == "":  # libyaml's plain style; PyYAML's is None
            if not node.value:
                return None  # an empty value: libyaml marks it a column later than PyYAML does
            node.style = None
    problems: list[Diagnostic] = []
    source = SourceMap()
    data = _Converter(Lines(text), source, problems).convert(root, ())
    return None if problems else Document(data, source, fast=True, routes_total=loader.routes_total)


def _scalars(root: Node):
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, ScalarNode):
            yield node
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                stack.extend((key, value))


def read_file(path: str, fast: bool = False) -> tuple[Document | None, list[Diagnostic]]:
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_BYTES:
                return None, [_too_large(size)]
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        return None, [Diagnostic(0, 0, "E100", f"cannot read the file: {exc.strerror or exc}",
                                 "check the path")]
    if len(raw) > MAX_BYTES:  # a pipe or a device: no size until read
        return None, [Diagnostic(0, 0, "E100", f"the file is larger than the limit of {MAX_BYTES:,} bytes (1 MiB)",
                                 "split the API into several files")]
    text, problems = decode(raw)
    if text is None:
        return None, problems
    return load_text(text, fast=fast)
