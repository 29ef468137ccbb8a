"""The pictures (compiler.pictures) without a browser: the graph model read from routes.yaml, Mermaid escaping of
hostile text (each label decodes back to exactly what was written, and nothing in it is Mermaid syntax), SVG that
is well-formed XML with non-overlapping nodes, HTML pages whose policy admits only their own inline style and
script, and the `graph` command. tests/test_pages.py renders the same output in Chromium."""

from __future__ import annotations

import html.parser
import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from compiler.core.text import visible
from compiler.language import compile_file
from compiler.pictures import graph, mermaid, svg
from compiler.pictures import html as pages
from compiler.pictures.graph import Instance, Mark, Stage
from compiler.pictures.layout import layout

from .conftest import ROOT
from .helpers import git, git_repo, run_main
from .hostile_pictures import HOSTILE, hostile_graph, mermaid_text

SVG_NS = "{http://www.w3.org/2000/svg}"


def model_of(path: str):
    model, diagnostics = compile_file(str(ROOT / path))
    assert model is not None, diagnostics
    return model


def drawn(path: str, **kwargs) -> graph.Graph:
    model = model_of(path)
    return graph.build(graph.paths_of(model), graph.static_instances(model), **kwargs)


# -- the graph model --------------------------------------------------------------------------------------------


def test_every_route_is_a_chain_route_authorization_integration_to_its_service_and_filter():
    model = model_of("routes.yaml")
    picture = drawn("routes.yaml")
    by_id = {n.id: n for n in picture.nodes}
    after = {e.source: e.target for e in picture.edges if by_id[e.source].stage is not Stage.SERVICE}
    assert sorted(n.title for n in picture.of_stage(Stage.ROUTE)) == sorted(r.key.text for r in model.routes)
    for route in model.routes:
        start = next(n for n in picture.of_stage(Stage.ROUTE) if n.route == route.id)
        authorization = by_id[after[start.id]]
        integration = by_id[after[authorization.id]]
        service = by_id[after[integration.id]]
        assert [authorization.stage, integration.stage, service.stage] == [
            Stage.AUTHORIZATION, Stage.INTEGRATION, Stage.SERVICE]
        assert integration.title == ("fan-out" if route.fan_out else "proxy")
        assert service.title == route.service
        assert service.lines[0] == (f"filter {route.filter}" if route.filter else "filter: all instances")
        assert authorization.title == "jwt operators"
        assert authorization.lines == ((f"scopes {', '.join(route.scopes)}",) if route.scopes else ())
    # GET / and the fan-out both reach raft with no filter: one node, two edges into it
    shared = [n for n in picture.of_stage(Stage.SERVICE) if n.lines == ("filter: all instances",)]
    assert len(shared) == 1 and sum(e.target == shared[0].id for e in picture.edges) == 2


def test_static_instances_are_reached_by_the_filters_that_match_them():
    picture = drawn("examples/http-static.yaml")
    by_id = {n.id: n for n in picture.nodes}
    reached = {}
    for edge in picture.edges:
        if by_id[edge.target].stage is Stage.INSTANCE:
            reached.setdefault(by_id[edge.source].lines[0], set()).add(by_id[edge.target].title)
    assert reached == {"filter: all instances": {"node-1", "node-2", "node-3"}, "filter leader=true": {"node-1"},
                       "filter leader=false": {"node-2", "node-3"}}


def test_a_service_without_instances_gets_a_node_saying_where_they_come_from():
    picture = drawn("routes.yaml")
    (missing,) = picture.of_stage(Stage.INSTANCE)
    assert (missing.title, missing.state) == ("no instance of raft", "missing")
    assert "--live reads Cloud Map" in missing.lines
    assert all(e.blocked for e in picture.edges if e.target == missing.id)


def test_an_unhealthy_instance_is_kept_out_unless_the_fan_out_calls_unhealthy_ones_too():
    def path(route_id: str, include_unhealthy: bool, checked: bool = True) -> graph.RoutePath:
        return graph.RoutePath(route_id, f"GET /{route_id}", "no authorization", (), include_unhealthy, (), "app",
                               "app", graph.AttributeFilter(), checked, include_unhealthy)

    def blocked(*paths: graph.RoutePath) -> set[bool]:
        picture = graph.build(paths, {"app": [Instance("sick", "10.0.0.1:80", (), "UNHEALTHY")]})
        return {e.blocked for e in picture.edges if e.target.startswith("n")}

    assert blocked(path("proxy", False)) == {True}
    assert blocked(path("everyone", True)) == {False}
    assert blocked(path("unchecked", False, checked=False)) == {False}  # no health check: Cloud Map returns all


def test_marks_highlight_the_route_its_chain_and_the_service_it_reaches():
    model = model_of("routes.yaml")
    picture = graph.build(graph.paths_of(model), marks={"leader": Mark.CHANGED})
    marked = {n.id for n in picture.nodes if n.mark is Mark.CHANGED}
    leader = {n.id for n in picture.nodes if n.route == "leader"}
    assert len(leader) == 3 and leader < marked
    (service,) = marked - leader
    assert picture.nodes[[n.id for n in picture.nodes].index(service)].lines == ("filter leader=true",)
    assert {(e.source, e.target) for e in picture.edges if e.mark is Mark.CHANGED} == {
        (e.source, e.target) for e in picture.edges if e.source in leader}
    assert not any(n.mark is not Mark.NONE for n in picture.nodes if n.id not in marked)


def test_a_removed_route_is_drawn_from_the_base_revision():
    base, head = model_of("routes.yaml"), model_of("examples/http-static.yaml")
    marks = {"reload": Mark.REMOVED}
    paths = graph.compared(graph.paths_of(base), graph.paths_of(head), marks)
    picture = graph.build(paths, marks=marks)
    removed = [n for n in picture.of_stage(Stage.ROUTE) if n.mark is Mark.REMOVED]
    assert [n.title for n in removed] == ["POST /admin/reload"]


# -- Mermaid ----------------------------------------------------------------------------------------------------

NODE_LINE = re.compile(r"  ([a-z][a-z0-9]*)(\[\"|\{\{\"|\[\[\"|\[\(\"|\(\[\")(.*)(\"\]|\"\}\}|\"\]\]|\"\)\]|\"\]\))")
EDGE_LINE = re.compile(r"  ([a-z][a-z0-9]*) (-->|==>|-\.->\|no traffic\|) ([a-z][a-z0-9]*)")
STYLE_LINE = re.compile(r"  (classDef [a-z]+ [a-z0-9:#,. -]+|class [a-z0-9,]+ [a-z]+)")


def test_mermaid_labels_of_hostile_text_decode_to_exactly_that_text_and_hold_no_syntax():
    picture = hostile_graph()
    text = mermaid.render(picture)
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    labels = {}
    for line in lines[1:]:
        node = NODE_LINE.fullmatch(line)
        assert node or EDGE_LINE.fullmatch(line) or STYLE_LINE.fullmatch(line), f"not ours: {line!r}"
        if node:
            labels[node.group(1)] = node.group(3)
    assert set(labels) == {n.id for n in picture.nodes}
    for node in picture.nodes:
        label = labels[node.id]
        assert re.fullmatch(r"[A-Za-z0-9 ,/=+()#;<>-]*", label), label
        ascii_text = all(graph.printable(t).isascii() for t in (node.title, *node.lines))
        assert not (ascii_text and re.search(r"#\d", label)), label  # ASCII never reads as `#<digit>`
        assert not set(label.replace("<br/>", "")) & set("<>\"%`[]{}|&\n"), label
        assert mermaid_text(label) == [graph.printable(t) for t in (node.title, *node.lines)] + (
            [node.mark.value.upper()] if node.mark is not Mark.NONE else [])
    assert sum(bool(EDGE_LINE.fullmatch(line)) for line in lines) == len(picture.edges)


@pytest.mark.parametrize("text", HOSTILE)
def test_mermaid_escape_keeps_only_safe_characters(text):
    escaped = mermaid.escape(text)
    assert re.fullmatch(r"([A-Za-z0-9 ,/=+()-]|#\d+;|#[A-Za-z]+;)*", escaped)
    assert mermaid_text(escaped) == [graph.printable(text)]


def test_the_fence_is_a_mermaid_code_block():
    text = mermaid.fenced(drawn("routes.yaml"))
    assert text.startswith("```mermaid\nflowchart LR\n") and text.endswith("\n```\n")
    assert text.count("```") == 2


# -- SVG --------------------------------------------------------------------------------------------------------


def test_svg_of_hostile_text_is_well_formed_and_prints_the_text_as_written():
    picture = hostile_graph()
    root = ET.fromstring(svg.document(picture))
    assert root.tag == f"{SVG_NS}svg"
    tags = {element.tag.removeprefix(SVG_NS) for element in root.iter()}
    assert tags <= {"svg", "title", "rect", "defs", "marker", "path", "g", "text"}, tags  # no script, no links
    groups = [g for g in root.iter(f"{SVG_NS}g") if "node" in g.get("class", "").split()]
    assert len(groups) == len(picture.nodes)
    for group, node in zip(groups, picture.nodes):
        drawn_text = [t.text for t in group.iter(f"{SVG_NS}text")]
        shown = [visible(t).replace("\ufffe", "\\ufffe") for t in (node.title, *node.lines)]
        assert drawn_text[:len(shown)] == [t if len(t) <= 44 else t[:43] + "\u2026" for t in shown]
        assert group.find(f"{SVG_NS}title").text == "\n".join(shown)
        assert group.get("data-route", "") == node.route


@pytest.mark.parametrize("path", ["routes.yaml", "examples/http-static.yaml", "examples/secure.yaml"])
def test_svg_nodes_never_overlap_and_every_line_fits_its_box(path):
    laid = layout(drawn(path))
    boxes = list(laid.boxes.values())
    for a, b in itertools.combinations(boxes, 2):
        apart = a.x + a.width <= b.x or b.x + b.width <= a.x or a.y + a.height <= b.y or b.y + b.height <= a.y
        assert apart, (a.node.title, b.node.title)
    for box in boxes:
        assert all(len(line) * 7.3 + 20 <= box.width + 0.01 for line in box.lines)
        assert box.x + box.width <= laid.width and box.y + box.height <= laid.height


def test_columns_go_left_to_right_in_stage_order():
    laid = layout(drawn("examples/http-static.yaml"))
    assert [stage for stage, _, _ in laid.columns] == list(Stage)
    assert all(a[1] + a[2] < b[1] for a, b in zip(laid.columns, laid.columns[1:]))


# -- HTML -------------------------------------------------------------------------------------------------------


class Parsed(html.parser.HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.data: dict[str, list[str]] = {"style": [], "script": []}
        self._open: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._open.append(tag)

    def handle_endtag(self, tag):
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data):
        if self._open and self._open[-1] in self.data:
            self.data[self._open[-1]].append(data)


def test_the_graph_page_is_self_contained_under_a_policy_naming_its_own_style():
    text = pages.graph_page(hostile_graph(), "subtitle " + HOSTILE[4])
    parsed = Parsed(text)
    tags = [t for t, _ in parsed.tags]
    assert "script" not in tags and "img" not in tags and "link" not in tags and "iframe" not in tags
    meta = [a for t, a in parsed.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert len(meta) == 1 and tags.index("meta") < tags.index("style")
    policy = dict(part.strip().split(" ", 1) for part in meta[0]["content"].split(";"))
    assert policy["default-src"] == "'none'" and "script-src" not in policy
    assert policy["style-src"] == pages._hash("".join(parsed.data["style"]))
    assert not [a for _, a in parsed.tags for k, v in a.items() if k in ("src", "href") or k.startswith("on")]
    assert "window.__pwned" not in "".join(parsed.data["script"])


def test_route_table_lists_every_route_with_its_mark():
    model = model_of("routes.yaml")
    picture = graph.build(graph.paths_of(model), marks={"leader": Mark.CHANGED})
    parsed = Parsed(pages.route_table(picture))
    rows = {a["data-route"]: a.get("class") for t, a in parsed.tags if t == "tr" and "data-route" in a}
    assert rows == {r.id: ("changed" if r.id == "leader" else None) for r in model.routes}


# -- the command ------------------------------------------------------------------------------------------------


def test_graph_prints_mermaid_by_default_and_svg_and_html_on_request():
    mermaid_text = run_main("graph", "routes.yaml")
    assert mermaid_text.returncode == 0, mermaid_text.stderr
    assert mermaid_text.stdout == mermaid.render(graph.build(
        graph.paths_of(model_of("routes.yaml")), graph.static_instances(model_of("routes.yaml")), title="raft-api"))
    for fmt, start in (("svg", "<?xml"), ("html", "<!DOCTYPE html>")):
        result = run_main("graph", "routes.yaml", "--format", fmt)
        assert result.returncode == 0 and result.stdout.startswith(start), result.stderr


def test_graph_of_an_invalid_file_reports_it_and_exits_1():
    result = run_main("graph", "tests/diagnostics/route-keys.yaml")
    assert result.returncode == 1 and result.stdout == ""
    assert "tests/diagnostics/route-keys.yaml:8:13: error E300" in result.stderr and "Traceback" not in result.stderr


def test_graph_refuses_a_local_aws_off_loopback():
    result = run_main("graph", "routes.yaml", "--local-aws", "http://10.0.0.1:5000")
    assert result.returncode == 2 and "only http(s)://HOST:PORT" in result.stderr


def test_graph_base_highlights_the_routes_that_change_from_a_git_revision(tmp_path):
    text = (ROOT / "examples" / "http-static.yaml").read_text()
    repo = git_repo(tmp_path / "repo", {"routes.yaml": text.encode()})
    changed = text.replace('filter: {leader: "false"}', 'filter: {zone: b}')
    assert changed != text
    (repo / "routes.yaml").write_text(changed)
    result = run_main("graph", "--base", "HEAD:routes.yaml", "routes.yaml", cwd=repo)
    assert result.returncode == 0, result.stderr
    changed_nodes = {k for ids, name in re.findall(r"^  class ([a-z0-9,]+) ([a-z]+)$", result.stdout, re.M)
                     if name == "changed" for k in ids.split(",")}
    follower = re.search(r'^  (r\d+)\["GET /follower<br/>id follower<br/>CHANGED"\]$', result.stdout, re.M)
    assert follower and follower.group(1) in changed_nodes
    assert not re.search(r'"GET /leader<br/>id leader<br/>CHANGED"', result.stdout)
    assert git(repo, "status", "--porcelain").stdout == b" M routes.yaml\n"  # read, nothing else written


# -- the review's picture ---------------------------------------------------------------------------------------


def test_diff_markdown_draws_the_routes_that_change_under_the_table(tmp_path):
    base = ROOT / "examples" / "http-static.yaml"
    head = tmp_path / "routes.yaml"
    head.write_text(base.read_text().replace('filter: {leader: "false"}', "filter: {zone: b}"))
    result = run_main("diff", str(base), str(head), "--format", "markdown")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    table, fence = text.index("| route | change |"), text.index("```mermaid\n")
    assert table < fence < text.index("<details>")
    block = text[fence:text.index("```\n", fence + 3) + 4]
    assert block == mermaid.fenced(graph.of_change(graph.paths_of(model_of(str(base))),
                                                   graph.paths_of(model_of(str(head))), {"follower": Mark.CHANGED}))
    assert '["GET /follower<br/>id follower<br/>CHANGED"]' in block and "GET /leader" not in block
    assert re.search(r'(s\d)\[\("kv<br/>filter zone=b<br/>\(reached after the change\)"\)\]', block)
    old = re.search(r'(s\d)\[\("kv<br/>filter leader=false<br/>\(reached before the change\)"\)\]', block)
    assert old and f"-.->|before| {old.group(1)}" in block


def test_diff_text_and_an_unchanged_diff_draw_nothing():
    assert "mermaid" not in run_main("diff", "routes.yaml", "examples/http-static.yaml").stdout
    same = run_main("diff", "routes.yaml", "routes.yaml", "--format", "markdown")
    assert same.returncode == 0 and "mermaid" not in same.stdout


def plan_picture(case: str) -> str:
    result = run_main("summarize-plan", f"tests/review/plans/{case}.json", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.index("| route | change |") < text.index("```mermaid\n") < text.index("<details>")
    return text[text.index("```mermaid\n"):]


def labels(block: str) -> dict[str, str]:
    return {node: "<br/>".join(mermaid_text(label)) for node, label in re.findall(r'^  ([a-z]\d+)\S*?"(.*)"', block,
                                                                                     re.M)}


def test_summarize_plan_draws_a_changed_filter_before_and_after():
    block = plan_picture("filter-changed")
    found = labels(block)
    assert found["r0"] == "GET /follower<br/>id follower<br/>CHANGED"
    assert found["a0"] == "jwt cjiyrvnr<br/>scopes raft/admin"  # the authorizer is not in the plan: its id
    old = next(n for n, t in found.items() if t == "raft<br/>filter leader=false<br/>(reached before the change)")
    new = next(n for n, t in found.items() if t == "raft<br/>filter leader=no<br/>(reached after the change)")
    assert f"  i0 ==> {new}" in block and f"  i0 -.->|before| {old}" in block


def test_summarize_plan_draws_a_removed_route_as_it_was_and_an_added_one_as_it_will_be():
    removed = labels(plan_picture("route-removed"))
    assert removed["r0"] == "GET /follower<br/>id follower<br/>REMOVED"
    assert "raft<br/>filter leader=false<br/>(reached before the change)" in removed.values()
    added = labels(plan_picture("route-added"))
    assert added["r0"] == "DELETE /leader<br/>id drop_leader<br/>ADDED"
    assert "raft<br/>filter leader=true<br/>(reached after the change)" in added.values()


def test_summarize_plan_names_a_fan_out_service_by_its_address_like_a_proxy():
    found = labels(plan_picture("service-name"))
    reload = next(n for n, t in found.items() if t.startswith("POST /admin/reload"))
    assert found["i" + reload[1:]].startswith("fan-out")
    assert not any(t.startswith("raft-v2") for t in found.values())  # the renamed Cloud Map service is still `raft`


@pytest.mark.parametrize("wrong", [5, "text", {"a": 1}, None, True])
def test_the_plan_picture_draws_values_of_an_unexpected_shape_as_absent(wrong):
    """A plan's values are untrusted (summarize-plan checks the ones its table reads, not these): a number, string
    or object where another shape was expected is drawn as not known, never raises."""
    import json

    from compiler.pictures.planned import UNKNOWN, plan_graph

    plan = json.loads(open("tests/review/plans/service-name.json").read())
    spoiled_keys = ("authorization_scopes", "environment", "references", "resources", "variables", "integration_uri",
                    "timeout_milliseconds", "route_key", "resource_changes", "expressions", "authorizer_id")

    def spoil(value):
        if isinstance(value, dict):
            return {k: wrong if k in spoiled_keys else spoil(v) for k, v in value.items()}
        return [spoil(v) for v in value] if isinstance(value, list) else value

    assert mermaid.render(plan_graph(spoil(plan), [("reload", "changed")]))  # nothing readable, nothing raised
    plan["resource_changes"] = spoil(plan["resource_changes"])
    plan["configuration"] = spoil(plan["configuration"])
    drawn = "\n".join("\n".join(mermaid_text(label)) for label in re.findall(r'"(.*)"', mermaid.render(
        plan_graph(plan, [("reload", "changed")]))))
    assert UNKNOWN in drawn
