"""A layered layout of a graph: one column per stage, left to right, nodes sized to their text.

The routes keep their order (by route key) and each route's authorization and integration stand on its row, so a
route's chain reads straight across. Service and instance nodes stand at the mean height of what points at them
(the barycenter rule of layered drawing: it keeps edges short and few of them crossing), then are pushed apart so
that no two overlap. Text is measured as a monospace font measures it (every character the same advance), so a
node is as wide as its longest line whatever font the viewer has, and no label runs out of its box.
"""

from __future__ import annotations

from dataclasses import dataclass

from .graph import Graph, Node, Stage, mark_note, shorten

FONT_SIZE = 12
CHAR_WIDTH = 7.3  # DejaVu Sans Mono and other monospace faces advance 0.6 em; a little slack for bold
LINE_HEIGHT = 16
PAD_X, PAD_Y = 10, 8
ROW_GAP = 14  # between two nodes of one column
COLUMN_GAP = 64  # room for the edges between two columns
MARGIN = 20
HEADING = 28  # the column headings above the nodes
TITLE = 30  # the picture's title


@dataclass(frozen=True)
class Box:
    node: Node
    x: float
    y: float
    width: float
    height: float
    lines: tuple[str, ...]  # what is drawn: title first, each shortened to fit

    @property
    def middle(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True)
class Layout:
    graph: Graph
    boxes: dict[str, Box]  # by node id
    columns: tuple[tuple[Stage, float, float], ...]  # (stage, x, width) of each column drawn
    width: float
    height: float
    top: float  # where the nodes start (below title and headings)


def drawn_lines(node: Node) -> tuple[str, ...]:
    note = mark_note(node)
    mark = (f"\u25cf {note}",) if note else ()
    return tuple(shorten(line) for line in (node.title, *node.lines, *mark))


def _size(lines: tuple[str, ...]) -> tuple[float, float]:
    return max(len(line) for line in lines) * CHAR_WIDTH + 2 * PAD_X, len(lines) * LINE_HEIGHT + 2 * PAD_Y


def layout(graph: Graph) -> Layout:
    stages = [s for s in Stage if graph.of_stage(s)]
    sizes = {n.id: (drawn_lines(n), *_size(drawn_lines(n))) for n in graph.nodes}
    top = MARGIN + (TITLE if graph.title else 0) + HEADING
    columns, x = [], MARGIN
    for stage in stages:
        width = max(sizes[n.id][1] for n in graph.of_stage(stage))
        columns.append((stage, x, width))
        x += width + COLUMN_GAP
    ys = _rows(graph, sizes, top)
    boxes = {}
    for stage, left, width in columns:
        for node in graph.of_stage(stage):
            lines, _, height = sizes[node.id]
            boxes[node.id] = Box(node, left, ys[node.id], width, height, lines)
    bottom = max(b.y + b.height for b in boxes.values()) if boxes else top
    return Layout(graph, boxes, tuple(columns), x - COLUMN_GAP + MARGIN, bottom + MARGIN, top)


def _rows(graph: Graph, sizes: dict, top: float) -> dict[str, float]:
    """The top of every node: route rows first, then each later column by the barycenter of its sources."""
    ys: dict[str, float] = {}
    chains: dict[str, list[Node]] = {}
    for node in graph.nodes:
        if node.stage in (Stage.ROUTE, Stage.AUTHORIZATION, Stage.INTEGRATION):
            chains.setdefault(node.route, []).append(node)
    y = top
    for chain in chains.values():  # in route order: the graph lists routes sorted
        height = max(sizes[n.id][2] for n in chain)
        for node in chain:
            ys[node.id] = y + (height - sizes[node.id][2]) / 2
        y += height + ROW_GAP
    for stage in (Stage.SERVICE, Stage.INSTANCE):
        wanted = {}
        for node in graph.of_stage(stage):
            sources = [ys[e.source] + sizes[e.source][2] / 2 for e in graph.edges if e.target == node.id
                       and e.source in ys]
            middle = sum(sources) / len(sources) if sources else top
            wanted[node.id] = middle - sizes[node.id][2] / 2
        ys.update(_spread(sorted(wanted, key=lambda n: wanted[n]), wanted, sizes, top))
    return ys


def _spread(order: list[str], wanted: dict[str, float], sizes: dict, top: float) -> dict[str, float]:
    """Each node at its wanted top, pushed down just enough that none overlaps the one above."""
    out, floor = {}, top
    for node in order:
        out[node] = max(wanted[node], floor)
        floor = out[node] + sizes[node][2] + ROW_GAP
    return out
