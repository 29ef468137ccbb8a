"""`diff` and `summarize-plan`: route-level summaries of a change, for pull requests (compiler.review)."""

from __future__ import annotations

import os
import sys

from ..core.diagnostics import has_errors, render_text
from .common import DEFAULT_FILE, INVALID, OK, USAGE, add_command, error, warning


def add_diff(commands) -> None:
    diff = add_command(
        commands, "diff", "route-level summary of the change between two routes.yaml versions",
        "Compare two versions of a routes.yaml (files, or git revisions of one) route by route: routes added, "
        "removed and changed (service, filter, authorization, integration), and the Terraform resources each "
        "change replaces. Reads no AWS account.",
        ((OK, "the summary was printed (whether or not routes change)"), (INVALID, "either version is invalid"),
         (USAGE, "a bad argument, or a revision git cannot show")))
    diff.add_argument("base", help="a file, or a git revision of one: origin/main:routes.yaml")
    diff.add_argument("head", nargs="?", default=DEFAULT_FILE,
                      help="the new version: a file or a git revision of one (default routes.yaml)")
    diff.add_argument("--format", choices=("text", "markdown"), default="text",
                      help="text (default), or markdown for a pull request comment")
    diff.add_argument("--env", metavar="NAME", default=None,
                      help="the environment to compare, for a file with environments")
    diff.set_defaults(run=lambda args: run_diff(args.base, args.head, args.format, args.env))


def add_summarize_plan(commands) -> None:
    plan = add_command(
        commands, "summarize-plan", "route-level summary of `terraform show -json` output",
        "Summarize a Terraform plan of a synthesized stack route by route: what each route's resources do "
        "(create, update, replace, delete). Resources of types cloudmap-routes does not manage are named in a "
        "warning, not described.",
        ((OK, "the summary was printed"), (INVALID, "the file is not `terraform show -json` output of a plan"),
         (USAGE, "a bad argument")))
    plan.add_argument("plan", help="the JSON file written by: terraform show -json PLANFILE > plan.json")
    plan.add_argument("file", nargs="?", default=None,
                      help=f"the routes.yaml the plan was made from, whose routes the changes are attributed to "
                           f"(default {DEFAULT_FILE}, when there is one)")
    plan.add_argument("--format", choices=("text", "markdown"), default="text",
                      help="text (default), or markdown for a pull request comment")
    plan.add_argument("--env", metavar="NAME", default=None,
                      help="the environment the plan is of, for a file with environments")
    plan.set_defaults(run=lambda args: run_summarize_plan(args.plan, args.format, args.file, args.env))


def run_diff(base_spec: str, head_spec: str, fmt: str, environment: str | None = None) -> int:
    from ..core.text import visible
    from ..review.diff import diff_models
    from ..review.render import render
    from ..review.versions import UsageError, compile_version, findings, version_text
    models, found = [], []
    for spec in (base_spec, head_spec):
        try:
            model, diagnostics = compile_version(spec, environment)
        except UsageError as exc:
            error(f"diff: {visible(str(exc))}")
            return USAGE
        if model is None or has_errors(diagnostics):
            print(render_text(diagnostics), file=sys.stderr)
            print(f"{visible(spec)}: invalid; no summary", file=sys.stderr)
            return INVALID
        models.append(model)
        found.append(findings(diagnostics, version_text(spec)))
    summary = diff_models(models[0], models[1], f"{base_spec} -> {head_spec}", (found[0], found[1]))
    sys.stdout.write(render(summary, fmt, _picture(models[0], models[1], summary) if fmt == "markdown" else ""))
    return OK


def _picture(base, head, summary) -> str:
    """The Mermaid picture of the routes that change, for under the Markdown table."""
    from ..pictures import graph, mermaid
    marks = {c.route_id: graph.Mark(c.kind) for c in summary.routes}
    return mermaid.fenced(graph.of_change(graph.paths_of(base), graph.paths_of(head), marks)) if marks else ""


def run_summarize_plan(path: str, fmt: str, file: str | None = None, environment: str | None = None) -> int:
    from ..core.text import visible
    from ..language import compile_file
    from ..review.planfile import PlanError, load_plan, summarize_plan
    from ..review.render import render
    try:
        plan, problems = load_plan(path)
        if problems:
            print(render_text(problems), file=sys.stderr)
            return INVALID
        model = None
        if file is not None or os.path.exists(DEFAULT_FILE):  # the routes the changes are attributed to
            model, diagnostics = compile_file(file or DEFAULT_FILE, environment)
            if model is None or has_errors(diagnostics):
                print(render_text(diagnostics), file=sys.stderr)
                print(f"{visible(file or DEFAULT_FILE)}: invalid; no summary", file=sys.stderr)
                return INVALID
        summary = summarize_plan(plan, f"terraform plan ({os.path.basename(path)})", model)
    except PlanError as exc:
        error(f"{visible(path)}: not terraform show -json output: {exc}")
        return INVALID
    if summary.unmanaged:
        listed = ", ".join(f"{visible(c.address)} ({c.action})" for c in summary.unmanaged)
        warning(f"{visible(path)}: {len(summary.unmanaged)} resource(s) in the plan are not of a type "
                f"cloudmap-routes manages; the summary does not describe them: {listed}")
    sys.stdout.write(render(summary, fmt, _plan_picture(plan, summary) if fmt == "markdown" else ""))
    return OK


def _plan_picture(plan, summary) -> str:
    """The Mermaid picture of the routes the plan changes, for under the Markdown table."""
    from ..pictures import mermaid
    from ..pictures.planned import plan_graph
    changes = [(c.route_id, c.kind) for c in summary.routes]
    return mermaid.fenced(plan_graph(plan, changes)) if changes else ""
