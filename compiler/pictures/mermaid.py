"""A graph as a Mermaid flowchart, the diagram GitHub renders from a ```mermaid block in comments and Markdown.

Labels come from routes.yaml and from AWS, so nothing in them may reach Mermaid's grammar. Mermaid's own escape is
the entity code: "Entity codes to escape characters ... Numbers given are base 10, so # can be encoded as #35;"
(mermaid.js.org/syntax/flowchart.html, "Special characters that break syntax"). Every character of a label that
is not a letter, a digit, a space or one of `,/-=+()` is written as its code, so a label cannot close its
quotes (`"`), its shape (`]`), start an edge (`-->` needs `>`), a comment or a directive (`%%`, `%%{init}%%`), a
Markdown string (a backtick), an HTML tag or entity (`<`, `&`), or a `click` statement (a statement starts only
after a line break, and line breaks are written as codes too, after `graph.printable` has shown control characters
as escapes). Node ids are the graph's own (`r0`, `s1`), never user text. The one markup a label holds is the `<br/>`
this module writes between lines. Nor does a label hold anything GitHub would read as a mention, a link or an
emphasis if it ever rendered the text outside the diagram (`@`, `.`, `:`, `_`, `*`, `~`, `$` are codes too), so a
review comment is as inert inside its picture as in its table (tests/test_review_hardening.py).

Mermaid also reads a backslash followed by `n` as a line break, even when the backslash is written as its code
(seen with mermaid 12.3 in Chromium: `line#92;nclick` draws two lines), so a backslash is followed by a zero-width
space: `\n` from `printable` stays the two characters it is.
"""

from __future__ import annotations

import re

from . import palette
from .graph import Edge, Graph, Mark, Node, Stage, mark_note, printable

_SAFE = re.compile(r"[A-Za-z0-9 ,/=+()-]")
_SHAPES = {Stage.ROUTE: ('["', '"]'), Stage.AUTHORIZATION: ('{{"', '"}}'), Stage.INTEGRATION: ('[["', '"]]'),
           Stage.SERVICE: ('[("', '")]'), Stage.INSTANCE: ('(["', '"])')}


def _class_style(name: str) -> str:
    fill, stroke = palette.NODES[name]
    wide = ",stroke-width:3px" if name in palette.MARKS else ""
    dashed = f",stroke-dasharray:{palette.DASHED[name]}" if name in palette.DASHED else ""
    return f"fill:{fill},stroke:{stroke},color:{palette.TEXT}{wide}{dashed}"


CLASSES = {name: _class_style(name) for name in palette.NODES}


# HTML's names for ASCII punctuation (Mermaid turns `#name;` into `&name;`): a code never reads `#<digit>`, which
# GitHub would take for an issue reference in the text around a diagram.
NAMES = {"!": "excl", '"': "quot", "#": "num", "$": "dollar", "%": "percnt", "&": "amp", "'": "apos", "*": "ast",
         ".": "period", ":": "colon", ";": "semi", "<": "lt", ">": "gt", "?": "quest", "@": "commat", "[": "lsqb",
         "\\": "bsol", "]": "rsqb", "^": "Hat", "_": "lowbar", "`": "grave", "{": "lcub", "|": "verbar", "}": "rcub",
         "~": "tilde", "\n": "NewLine", "\t": "Tab"}


def _code(ch: str) -> str:
    if ch == "\\":
        return "#bsol;#ZeroWidthSpace;"
    return f"#{NAMES[ch]};" if ch in NAMES else f"#{ord(ch)};"


def escape(text: str) -> str:
    """Text for inside a quoted Mermaid label: safe characters as they are, every other one as its entity code."""
    return "".join(ch if _SAFE.fullmatch(ch) else _code(ch) for ch in printable(text))


def label(node: Node) -> str:
    lines = [node.title, *node.lines]
    note = mark_note(node)
    if note:
        lines.append(note.upper() if node.stage is Stage.ROUTE else f"({note})")
    return "<br/>".join(escape(line) for line in lines)


def css_class(node: Node) -> str:
    if node.mark is not Mark.NONE:
        return node.mark.value
    return node.state if node.stage is Stage.INSTANCE else node.stage.value


def _edge(edge: Edge) -> str:
    arrow = ("-.->|no traffic|" if edge.blocked else "-.->|before|" if edge.before
             else "==>" if edge.mark is not Mark.NONE else "-->")
    return f"  {edge.source} {arrow} {edge.target}"


def render(graph: Graph) -> str:
    """The flowchart's text (without the ```mermaid fence)."""
    lines = ["flowchart LR"]
    for node in graph.nodes:
        opening, closing = _SHAPES[node.stage]
        lines.append(f"  {node.id}{opening}{label(node)}{closing}")
    lines += [_edge(e) for e in graph.edges]
    used = {css_class(n) for n in graph.nodes}
    lines += [f"  classDef {name} {style}" for name, style in CLASSES.items() if name in used]
    by_class: dict[str, list[str]] = {}
    for node in graph.nodes:
        by_class.setdefault(css_class(node), []).append(node.id)
    lines += [f"  class {','.join(ids)} {name}" for name, ids in by_class.items()]
    return "\n".join(lines) + "\n"


def fenced(graph: Graph) -> str:
    """The flowchart as a Markdown code block GitHub draws."""
    return f"```mermaid\n{render(graph)}```\n"
