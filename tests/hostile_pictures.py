"""Hostile text for the pictures: strings that would break out of a Mermaid label, an SVG text node or an HTML
page if any renderer let them through. Every text field of a picture carries them (tests/test_pictures.py and
tests/test_pages.py); routes.yaml admits some of them only in filter values, AWS anywhere (instance ids and
attributes)."""

from __future__ import annotations

import html
import re

from compiler.language.model import AttributeFilter
from compiler.pictures.graph import Graph, Instance, RoutePath, build

HOSTILE = (
    '"]; click r0 call pwn(); %%',  # close the label and the shape, a click statement, a comment
    'a"] --> evil["x',  # an edge to a node of its own
    '%%{init: {"securityLevel": "loose"}}%%',  # a directive that would loosen Mermaid's security
    '<img src=x onerror="window.__pwned=1">',  # HTML in a label
    "<script>window.__pwned=1</script>",
    "`**bold**` [link](javascript:window.__pwned=1)",  # a Markdown string
    'line\nclick r1 href "javascript:window.__pwned=1"',  # a new statement after a line break
    "#quot; &amp; &lt;b&gt; #35;",  # entity codes and HTML entities, which must print as written
    "]]>}}{{)( ]]> <![CDATA[ x",  # shapes and XML's CDATA
    "\u00fcn\u00efc\u00f8d\u00e9 \u2713 \u202e rtl \x1b[31m red \ufffe",  # bidi override, terminal escape, non-char
)


def hostile_graph() -> Graph:
    """A route per hostile string, with that string in every text the picture prints of it."""
    paths = [RoutePath(f"id{i}", f"GET /{text}", text, (text,), i % 2 == 0, (text,), f"service {text}", text,
                       AttributeFilter(((text, text),)), True) for i, text in enumerate(HOSTILE)]
    instances = {f"service {text}": [Instance(text, text, ((text, text),), "HEALTHY")] for text in HOSTILE}
    return build(paths, instances, title="hostile " + HOSTILE[3])


def mermaid_text(label: str) -> list[str]:
    """The lines of a Mermaid label as Mermaid shows them: `#name;` and `#123;` are HTML's entities (Mermaid hands
    them to the browser as `&name;`, `&#123;`), read here by Python's HTML5 table, not by the escaper's; the
    zero-width space the escaper puts after a backslash is dropped."""
    lines = []
    for part in label.split("<br/>"):
        entities = re.sub(r"#([A-Za-z]+);", r"&\1;", re.sub(r"#(\d+);", r"&#\1;", part))
        lines.append(html.unescape(entities).replace("\\\u200b", "\\"))
    return lines
