"""`graph`: draw the routing of a routes.yaml (compiler.pictures) as Mermaid, SVG or an HTML page, on stdout.

Instances are routes.yaml's static ones, or with `--live`/`--local-aws` what Cloud Map's DiscoverInstances
returns now (every instance of each service, with its health: the filters are applied in the picture, as API
Gateway applies them). With `--base REV` the routes that change from REV to FILE are highlighted, read as `diff`
reads its two revisions.
"""

from __future__ import annotations

import sys

from .common import DEFAULT_FILE, INVALID, OK, USAGE, add_command, error, local_aws, warning

FORMATS = ("mermaid", "svg", "html")


def add_graph(commands) -> None:
    graph = add_command(
        commands, "graph", "draw the routing: routes -> authorization -> integration -> service + filter -> "
        "instances (Mermaid, SVG or HTML)",
        "Draw FILE's routing on stdout: each route, its authorization, its integration and the service and filter it "
        "reaches. With --base, the routes that change are marked; with --live (or --local-aws), the instances "
        "DiscoverInstances returns now are drawn under their service, with their health.",
        ((OK, "drawn"), (INVALID, "FILE (or --base) is not valid routes.yaml"),
         (USAGE, "bad arguments, a version that cannot be read, or a local AWS that is not on loopback")))
    graph.add_argument("file", nargs="?", default=DEFAULT_FILE, help="routes.yaml (a file, or a git REV:PATH)")
    graph.add_argument("--format", choices=FORMATS, default="mermaid",
                       help="mermaid (for GitHub comments and Markdown), svg, or a self-contained html page")
    graph.add_argument("--base", metavar="REV", default=None,
                       help="highlight the routes that change from this version (a file or REV:PATH, as diff reads)")
    graph.add_argument("--env", metavar="NAME", default=None, help="the environment to draw, for a file with "
                       "environments")
    graph.add_argument("--live", action="store_true",
                       help="instances from Cloud Map's DiscoverInstances now (AWS, or $CLOUDMAP_ROUTES_LOCAL_AWS)")
    graph.add_argument("--local-aws", metavar="URL", default=None,
                       help="read the instances from a local AWS on loopback (implies --live)")
    graph.set_defaults(run=graph_command)


def graph_command(args) -> int:
    from ..core.diagnostics import has_errors, render_text
    from ..core.text import visible
    from ..review.versions import UsageError, compile_version
    local, problem = local_aws(args.local_aws) if (args.live or args.local_aws) else (None, "")
    if problem:
        error(problem)
        return USAGE
    models = {}
    for role, spec in (("base", args.base), ("head", args.file)):
        if spec is None:
            continue
        try:
            model, diagnostics = compile_version(spec, args.env)
        except UsageError as exc:
            error(f"graph: {visible(str(exc))}")
            return USAGE
        if diagnostics:
            print(render_text(diagnostics), file=sys.stderr)
        if model is None or has_errors(diagnostics):
            return INVALID
        models[role] = model
    picture, code = _picture(args, models, local)
    if picture is not None:
        sys.stdout.write(picture)
    return code


def _picture(args, models: dict, local: str | None) -> tuple[str | None, int]:
    from ..pictures import graph, html, mermaid, svg
    head = models["head"]
    if args.live or args.local_aws:
        read = _live_instances(head, local)
        if read is None:
            return None, USAGE
        instances, notes = read
    else:
        instances, notes = graph.static_instances(head), {}
    paths, marks = graph.paths_of(head), {}
    if "base" in models:
        marks = changes(models["base"], head)
        paths = graph.compared(graph.paths_of(models["base"]), paths, marks)
        instances = {**graph.static_instances(models["base"]), **instances}
    title = f"{head.api.name}" + (f" ({head.environment})" if head.environment else "")
    drawn = graph.build(paths, instances, marks, title, notes)
    if args.format == "svg":
        return svg.document(drawn), OK
    if args.format == "html":
        subtitle = f"{args.file}" + (f", changes from {args.base}" if args.base else "")
        return html.graph_page(drawn, subtitle), OK
    return mermaid.render(drawn), OK


def changes(base, head) -> dict:
    """Route id -> Mark for every route that changes from base to head, as `diff` sees the change."""
    from ..pictures.graph import Mark
    from ..review.diff import diff_models
    return {c.route_id: Mark(c.kind) for c in diff_models(base, head, "").routes}


def _live_instances(model, local: str | None):
    """({service key: [Instance]}, {service key: why none}) from DiscoverInstances, or None when AWS cannot be
    reached at all (reported)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ..core.aws import aws_client
    from ..core.text import visible
    from ..live.discovery import discover, resolve_service
    from ..pictures.graph import Instance
    try:
        client = aws_client("servicediscovery", model.region, local)
    except (BotoCoreError, ClientError, ValueError) as exc:
        error(f"graph: cannot read Cloud Map: {visible(str(exc))}")
        return None
    instances, notes = {}, {}
    for service in model.services:
        try:
            names = resolve_service(client, model, service)
            found = discover(client, names.namespace, names.name, {}, "ALL")
        except (BotoCoreError, ClientError, LookupError) as exc:
            warning(f"graph: DiscoverInstances for {visible(service.key)}: {visible(str(exc))}")
            notes[service.key] = "DiscoverInstances failed (see the warning)"
            continue
        instances[service.key] = [Instance(f.id, f.address_text if f.address else "", tuple(sorted(f.custom.items())),
                                           f.health) for f in found]
        if not found:
            notes[service.key] = "DiscoverInstances returns none"
    return instances, notes
