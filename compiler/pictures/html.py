"""Self-contained HTML pages: everything inline (CSS, SVG, the live page's script), nothing fetched from another
origin, under a Content-Security-Policy that admits exactly the page's own style and script by their hashes.

    default-src 'none'                    nothing loads unless named below: no images, fonts, frames or objects
    style-src 'sha256-...'                the page's one <style> element (the SVG uses presentation attributes)
    script-src 'sha256-...' (live only)   the page's one <script> element; no inline handlers, no eval
    connect-src 'self'     (live only)    the script polls the page's own origin for the state it shows
    base-uri 'none'; form-action 'none'

(W3C CSP Level 3, "hash-source": "a hash-source matches an inline script or style block whose content hashes to
the given value"; a <meta http-equiv> policy applies to everything after it, so it comes first in <head>.) Every
text from routes.yaml or AWS is escaped for HTML here, and the live script writes what it receives with
`textContent` and `setAttribute` only, never as markup.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Optional

from . import svg
from .graph import Graph, Mark, Stage
from .svg import xml

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#2d3748;
background:#f7fafc;margin:0;padding:20px 28px}
h1{font-size:20px;margin:0 0 4px}p.sub{color:#4a5568;margin:0 0 16px}
.picture{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:8px;margin-bottom:20px}
.picture svg{display:block;max-width:100%;height:auto}
table{border-collapse:collapse;background:#fff;border:1px solid #e2e8f0;min-width:60%;margin-bottom:20px}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #e2e8f0;vertical-align:top}
th{background:#edf2f7;font-weight:600}td code{font:12px "DejaVu Sans Mono",Menlo,Consolas,monospace}
tr.added td:first-child{border-left:5px solid #276749}tr.changed td:first-child{border-left:5px solid #c05621}
tr.removed td:first-child{border-left:5px solid #9b2c2c}tr.removed td{text-decoration:line-through}
.badge{display:inline-block;font-size:11px;font-weight:700;text-transform:uppercase;border-radius:9px;
padding:0 7px;margin-left:6px}.badge.added{background:#c6f6d5;color:#22543d}
.badge.changed{background:#fefcbf;color:#7b341e}.badge.removed{background:#fed7d7;color:#742a2a}
.health{font-weight:600}.health.healthy{color:#2f855a}.health.unhealthy{color:#c53030}
.health.unknown{color:#718096}.bad{color:#c53030;font-weight:600}.muted{color:#718096}
"""


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def policy(style: str, script: Optional[str] = None) -> str:
    parts = ["default-src 'none'", f"style-src {_hash(style)}", "img-src data:", "base-uri 'none'",
             "form-action 'none'"]
    if script is not None:
        parts += [f"script-src {_hash(script)}", "connect-src 'self'"]
    return "; ".join(parts)


def page(title: str, body: str, script: Optional[str] = None, style: str = STYLE) -> str:
    """A whole document; `body` is markup already escaped by its maker."""
    tail = f"<script>{script}</script>\n" if script is not None else ""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{xml(policy(style, script))}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{xml(title)}</title>\n'
            f"<style>{style}</style>\n</head>\n<body>\n{body}\n{tail}</body>\n</html>\n")


def badge(mark: Mark) -> str:
    return f' <span class="badge {mark.value}">{mark.value}</span>' if mark is not Mark.NONE else ""


def _lines(node) -> str:
    return "<br>".join(f"<code>{xml(line)}</code>" for line in (node.title, *node.lines))


def route_table(graph: Graph) -> str:
    """One row per route: its chain of nodes as text (what the picture draws, readable without it)."""
    by_id = {n.id: n for n in graph.nodes}
    targets: dict[str, list[str]] = {}
    for edge in graph.edges:
        targets.setdefault(edge.source, []).append(edge.target)
    rows = ['<table class="routes"><thead><tr><th>route</th><th>authorization</th><th>integration</th>'
            "<th>service + filter</th></tr></thead><tbody>"]
    for route in graph.of_stage(Stage.ROUTE):
        authorization = by_id[targets[route.id][0]]
        integration = by_id[targets[authorization.id][0]]
        service = by_id[targets[integration.id][0]]
        mark = f' class="{route.mark.value}"' if route.mark is not Mark.NONE else ""
        rows.append(f'<tr data-route="{xml(route.route)}"{mark}><td>{_lines(route)}{badge(route.mark)}</td>'
                    f"<td>{_lines(authorization)}</td><td>{_lines(integration)}</td><td>{_lines(service)}</td></tr>")
    rows.append("</tbody></table>")
    return "\n".join(rows)


def graph_page(graph: Graph, subtitle: str = "") -> str:
    """`graph --format html`: the picture and the same routes as a table."""
    sub = f'<p class="sub">{xml(subtitle)}</p>' if subtitle else ""
    body = (f"<h1>{xml(graph.title or 'routing')}</h1>\n{sub}\n"
            f'<div class="picture">{svg.render(graph, titled=False)}</div>\n{route_table(graph)}')
    return page(graph.title or "routing", body)
