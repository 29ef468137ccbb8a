"""The pictures in a real browser: headless Chromium (tests/browser.py) loads each page from a server on 127.0.0.1,
and the tests assert on the rendered DOM: every route present, a changed route highlighted, hostile text shown as
text (nothing it says runs), no request to anywhere but the page's own origin, and no policy violation. Each test
saves a screenshot under its tmp dir (`screenshot.png`), which is how they were looked at while they were written.

Marked `browser`: `make test` runs them and installs Chromium first; without Chromium they skip, except under
`make test` (CLOUDMAP_ROUTES_FULL_SUITE=1), where they fail.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from compiler.pictures import graph, mermaid

from .browser import FULL_SUITE, Browser, StaticServer
from .conftest import ROOT
from .helpers import git_repo, run_main
from .hostile_pictures import hostile_graph

pytestmark = pytest.mark.browser

MERMAID_JS = ROOT / ".mermaid" / "mermaid-12.3.0.min.js"  # the Makefile's MERMAID_JS
CHANGED_STROKE = "rgb(192, 86, 33)"  # palette.NODES["changed"] stroke, #c05621


@pytest.fixture
def browser(tmp_path):
    chromium = Browser(tmp_path / "profile")
    yield chromium
    chromium.close()


@pytest.fixture
def site(tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    server = StaticServer(folder)
    yield folder, server
    server.close()


def load(browser: Browser, server: StaticServer, name: str, shot: pathlib.Path) -> None:
    browser.goto(server.url(name))
    browser.screenshot(shot)
    assert shot.stat().st_size > 10_000  # a picture, not a blank page
    assert browser.problems == [], browser.problems
    assert set(browser.requests) == {server.url(name)}, browser.requests


def graph_of(file: str, *args: str, cwd=ROOT) -> str:
    result = run_main("graph", file, *args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_graph_page_shows_every_route_and_highlights_the_one_that_changes(browser, site, tmp_path):
    folder, server = site
    text = (ROOT / "examples" / "http-static.yaml").read_text()
    repo = git_repo(tmp_path / "repo", {"routes.yaml": text.encode()})
    (repo / "routes.yaml").write_text(text.replace('filter: {leader: "false"}', "filter: {zone: b}"))
    (folder / "graph.html").write_text(graph_of("routes.yaml", "--format", "html", "--base", "HEAD:routes.yaml",
                                                cwd=repo))
    load(browser, server, "graph.html", tmp_path / "screenshot.png")
    drawn = browser.evaluate("Array.from(document.querySelectorAll('svg g.node.route'), "
                             "g => g.querySelector('text').textContent)")
    assert sorted(drawn) == ["GET /", "GET /follower", "GET /leader"]
    rows = browser.evaluate("Object.fromEntries(Array.from(document.querySelectorAll('table.routes tr[data-route]'),"
                            " r => [r.dataset.route, r.className]))")
    assert rows == {"get_root": "", "leader": "", "follower": "changed"}
    changed = browser.evaluate("Array.from(document.querySelectorAll('svg g.node.changed'), g => [g.dataset.route "
                               "|| null, getComputedStyle(g.querySelector('rect')).stroke])")
    assert [route for route, _ in changed] == ["follower", "follower", "follower", None]  # its chain and its service
    assert {stroke for _, stroke in changed} == {CHANGED_STROKE}
    # the new filter reaches node-2 only: the changed service node has one edge, to node-2
    service = browser.evaluate("document.querySelector('svg g.node.service.changed').id")
    targets = browser.evaluate(f"Array.from(document.querySelectorAll('path.edge[data-from=\"{service}\"]'), "
                               "p => document.getElementById(p.dataset.to).querySelector('text').textContent)")
    assert targets == ["node-2"]
    # every node's box holds its text: drawn inside the rect's width
    overflow = browser.evaluate("Array.from(document.querySelectorAll('svg g.node')).filter(g => { const r = "
                                "g.querySelector('rect').getBBox(); return Array.from(g.querySelectorAll('text'))"
                                ".some(t => { const b = t.getBBox(); return b.x + b.width > r.x + r.width; }); })"
                                ".map(g => g.id)")
    assert overflow == []


def test_the_svg_file_renders_alone_with_every_route(browser, site, tmp_path):
    folder, server = site
    (folder / "graph.svg").write_text(graph_of("routes.yaml", "--format", "svg"))
    load(browser, server, "graph.svg", tmp_path / "screenshot.png")
    drawn = browser.evaluate("Array.from(document.querySelectorAll('g.node.route'), "
                             "g => g.querySelector('text').textContent)")
    assert sorted(drawn) == ["GET /", "GET /follower", "GET /leader", "POST /admin/reload"]
    assert browser.evaluate("document.querySelectorAll('g.node.instance.missing').length") == 1


def test_hostile_text_in_a_graph_page_is_shown_as_text_and_runs_nothing(browser, site, tmp_path):
    from compiler.pictures import html
    folder, server = site
    picture = hostile_graph()
    (folder / "hostile.html").write_text(html.graph_page(picture, "hostile"))
    load(browser, server, "hostile.html", tmp_path / "screenshot.png")
    assert browser.evaluate("typeof window.__pwned") == "undefined"
    assert browser.evaluate("document.querySelectorAll('img, script, iframe, a, foreignObject').length") == 0
    titles = browser.evaluate("Array.from(document.querySelectorAll('svg g.node'), g => g.querySelector('title')"
                              ".textContent)")
    assert titles == ["\n".join(graph.printable(t) for t in (n.title, *n.lines)) for n in picture.nodes]
    cells = browser.evaluate("Array.from(document.querySelectorAll('table.routes tr[data-route] td:first-child "
                             "code:first-child'), c => c.textContent)")
    assert cells == [graph.printable(n.title) for n in picture.of_stage(graph.Stage.ROUTE)]


def mermaid_available() -> bool:
    if MERMAID_JS.exists():
        return True
    reason = f"{MERMAID_JS.relative_to(ROOT)} is missing (`make test` unpacks it from the npm package)"
    if FULL_SUITE:
        pytest.fail(f"{reason}; `make test` runs every test (CLOUDMAP_ROUTES_FULL_SUITE=1), so this is an error")
    pytest.skip(reason)


def test_mermaid_itself_draws_hostile_labels_as_the_text_they_are(browser, site, tmp_path):
    """Mermaid's own renderer (what GitHub runs) on the flowchart of hostile text: one node per graph node, each
    label reading exactly the text, nothing injected (no extra node, link, image or script, nothing run)."""
    mermaid_available()
    folder, server = site
    (folder / "mermaid.js").write_bytes(MERMAID_JS.read_bytes())
    picture = hostile_graph()
    (folder / "mermaid.html").write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><script src="mermaid.js"></script></head><body>'
        f'<div id="out"></div><script>const text = {json.dumps(mermaid.render(picture))};\n'
        'mermaid.initialize({startOnLoad: false, securityLevel: "strict"});\n'
        'mermaid.render("drawn", text).then(r => { document.getElementById("out").innerHTML = r.svg; '
        'window.done = "ok"; }, e => { window.done = "error: " + e; });</script></body></html>')
    browser.goto(server.url("mermaid.html"))
    assert browser.wait_until("window.done") == "ok"
    browser.screenshot(tmp_path / "screenshot.png")
    assert browser.evaluate("typeof window.__pwned") == "undefined"
    labels = browser.evaluate("Array.from(document.querySelectorAll('#out g.node'), g => [g.id, g.textContent])")
    assert len(labels) == len(picture.nodes)
    expected = {n.id: "".join(graph.printable(t) for t in (n.title, *n.lines)) for n in picture.nodes}
    for element_id, text in labels:
        node_id = next(i for i in expected if f"-{i}-" in element_id + "-")
        assert text.replace("\\\u200b", "\\") == expected[node_id], (element_id, text)
    assert browser.evaluate("document.querySelectorAll('#out img, #out script, #out a, #out iframe').length") == 0
    assert browser.evaluate("document.querySelectorAll('#out .edgePath, #out path.flowchart-link').length") == len(
        picture.edges)
