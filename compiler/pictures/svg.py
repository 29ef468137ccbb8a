"""A laid-out graph as one self-contained SVG document: presentation attributes only (no stylesheet, so the same
markup works inline under a page's strict Content-Security-Policy), a generic monospace font (nothing fetched),
and every text from routes.yaml or AWS escaped for XML.

Each node is a `<g class="node STAGE ...">` with `data-route` (the route id, for nodes that belong to one route),
its full text in a `<title>` (the tooltip, where a drawn line was shortened), and one `<text>` line per label
line. Classes carry the mark (`added`, `changed`, `removed`) and an instance's health, so pages and tests find
them in the DOM.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape

from . import palette
from .graph import Edge, Graph, Mark, Node, Stage, mark_note, printable
from .layout import CHAR_WIDTH, FONT_SIZE, HEADING, LINE_HEIGHT, MARGIN, PAD_X, PAD_Y, Box, Layout, layout

FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
HEADINGS = {Stage.ROUTE: "route", Stage.AUTHORIZATION: "authorization", Stage.INTEGRATION: "integration",
            Stage.SERVICE: "service + filter", Stage.INSTANCE: "instances"}
def xml(text: str) -> str:
    """Text for an XML (or HTML) text node or a quoted attribute value."""
    return escape(printable(text), quote=True)


def node_class(node: Node) -> str:
    """`route`, `service changed`, `instance unhealthy`: the stage, then the mark, then an instance's health."""
    parts = [node.stage.value]
    if node.mark is not Mark.NONE:
        parts.append(node.mark.value)
    if node.state:
        parts.append(node.state)
    return " ".join(parts)


def _colours(node: Node) -> tuple[str, str, str]:
    """(fill, stroke, stroke-width) of a node: the mark wins over the stage's or the health's colours."""
    name = node.mark.value if node.mark is not Mark.NONE else node.state or node.stage.value
    fill, stroke = palette.NODES[name]
    return fill, stroke, "3" if name in palette.MARKS else "1.5"


def _node(box: Box, prefix: str) -> str:
    node = box.node
    fill, stroke, width = _colours(node)
    name = node.mark.value if node.mark is not Mark.NONE else node.state
    dashed = f' stroke-dasharray="{palette.DASHED[name]}"' if name in palette.DASHED else ""
    route = f' data-route="{xml(node.route)}"' if node.route else ""
    out = [f'<g class="node {node_class(node)}" id="{prefix}{node.id}"{route}>',
           f"<title>{escape(chr(10).join(printable(line) for line in (node.title, *node.lines)))}</title>",
           f'<rect x="{box.x:g}" y="{box.y:g}" width="{box.width:g}" height="{box.height:g}" rx="6" '
           f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"{dashed}/>']
    for i, line in enumerate(box.lines):
        y = box.y + PAD_Y + (i + 0.75) * LINE_HEIGHT
        noted = bool(mark_note(node)) and i == len(box.lines) - 1
        weight = ' font-weight="bold"' if i == 0 or noted else ""
        colour = stroke if noted else palette.TEXT
        out.append(f'<text x="{box.x + PAD_X:g}" y="{y:g}" fill="{colour}"{weight}>{xml(line)}</text>')
    out.append("</g>")
    return "\n".join(out)


def _edge(edge: Edge, boxes: dict[str, Box], prefix: str) -> str:
    a, b = boxes[edge.source], boxes[edge.target]
    x1, y1, x2, y2 = a.x + a.width, a.middle, b.x, b.middle
    bend = (x2 - x1) / 2
    marked = edge.mark is not Mark.NONE
    colour = palette.BLOCKED_EDGE if edge.blocked else palette.NODES[edge.mark.value][1] if marked else palette.EDGE
    kind = " blocked" if edge.blocked else f" {edge.mark.value}" if marked else ""
    dashed = ' stroke-dasharray="5 4"' if edge.blocked or edge.before else ""
    marker = "blocked" if edge.blocked else edge.mark.value if marked else "arrow"
    return (f'<path class="edge{kind}" data-from="{prefix}{edge.source}" data-to="{prefix}{edge.target}" '
            f'd="M{x1:g},{y1:g} C{x1 + bend:g},{y1:g} {x2 - bend:g},{y2:g} {x2 - 2:g},{y2:g}" fill="none" '
            f'stroke="{colour}" stroke-width="{2.5 if marked else 1.5}"{dashed} marker-end="url(#{prefix}{marker})"/>')


def _markers(prefix: str) -> str:
    """Arrowheads, one per edge colour, sized in the picture's units (a wide edge keeps a normal head)."""
    colours = [("arrow", palette.EDGE), ("blocked", palette.BLOCKED_EDGE)] + [
        (mark, palette.NODES[mark][1]) for mark in palette.MARKS]
    return "<defs>" + "".join(
        f'<marker id="{prefix}{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" '
        f'markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/>'
        "</marker>" for name, colour in colours) + "</defs>"


def _legend(drawn: Layout, y: float) -> tuple[list[str], float]:
    """What the colours and dashes mean, for the marks and states the picture uses."""
    graph = drawn.graph
    items = [m.value for m in (Mark.ADDED, Mark.CHANGED, Mark.REMOVED) if any(n.mark is m for n in graph.nodes)]
    items += [s for s in ("healthy", "unhealthy", "unknown", "missing") if any(n.state == s for n in graph.nodes)]
    words = {"missing": "no instance known", "unknown": "health unknown"}
    out, x = [], MARGIN
    for item in items:
        fill, stroke = palette.NODES[item]
        out.append(f'<rect x="{x:g}" y="{y:g}" width="14" height="14" rx="3" fill="{fill}" stroke="{stroke}"/>')
        text = words.get(item, item)
        out.append(f'<text x="{x + 20:g}" y="{y + 11:g}" fill="{palette.MUTED}">{xml(text)}</text>')
        x += 20 + len(text) * CHAR_WIDTH + 24
    if any(e.blocked for e in graph.edges):
        out.append(f'<path d="M{x:g},{y + 7:g} h28" stroke="{palette.BLOCKED_EDGE}" stroke-width="1.5" '
                   'stroke-dasharray="5 4"/>')
        out.append(f'<text x="{x + 34:g}" y="{y + 11:g}" fill="{palette.MUTED}">matches, but gets no traffic</text>')
    return out, (24 if out else 0)


def render(graph: Graph, prefix: str = "g-", titled: bool = True) -> str:
    """The graph as an SVG document. `prefix` starts every id in it, so two pictures can share one page;
    `titled`: the graph's title is drawn (a page that has it as its heading leaves it out)."""
    graph = graph if titled else replace(graph, title="")
    drawn = layout(graph)
    legend, legend_height = _legend(drawn, drawn.height)
    width = max(drawn.width, MARGIN * 2 + 600 if legend else 0)
    height = drawn.height + legend_height
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="routing" width="{width:g}" height="{height:g}" '
             f'viewBox="0 0 {width:g} {height:g}" font-family="{FONT}" font-size="{FONT_SIZE}" role="img" '
             f'aria-label="{xml(graph.title or "routing")}">',
             f'<rect width="{width:g}" height="{height:g}" fill="#ffffff"/>',
             _markers(prefix)]
    if graph.title:
        parts.append(f'<text class="title" x="{MARGIN}" y="{MARGIN + 14}" font-size="15" font-weight="bold" '
                     f'fill="{palette.TEXT}">{xml(graph.title)}</text>')
    for stage, x, _ in drawn.columns:
        parts.append(f'<text class="heading" x="{x:g}" y="{drawn.top - HEADING / 2 + 4:g}" fill="{palette.MUTED}" '
                     f'font-weight="bold">{HEADINGS[stage]}</text>')
    parts += [_edge(e, drawn.boxes, prefix) for e in graph.edges]
    parts += [_node(drawn.boxes[n.id], prefix) for n in graph.nodes]
    parts += legend
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def document(graph: Graph) -> str:
    """A standalone .svg file."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + render(graph)
