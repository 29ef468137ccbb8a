"""`diff`, `summarize-plan` and synth's local-mode and state options against hostile or broken input.

Each test pins one defect of issue 10: the loopback check of --local-aws and the --state check, git option
injection, Markdown and terminal injection, tracebacks on unreadable or malformed input, the size limit, one exit
code for a missing file, structurally wrong plans, resources the tool does not manage, and the consequence texts.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import pytest

from compiler.cli.common import local_endpoint_problem
from compiler.cli.synth import state_problem
from compiler.language.loader import MAX_BYTES
from compiler.review import render as review_render
from compiler.review import versions as review_versions
from compiler.review.diff import diff_models
from compiler.review.planfile import PLAN_MAX_BYTES, PLAN_MAX_DEPTH, summarize_plan
from compiler.review.render import render
from compiler.review.summary import ResourceChange, RouteChange, Summary
from compiler.terraform.catalogue import is_managed
from compiler.terraform.catalogue import of as resource_type
from compiler.terraform.plan import build

from .conftest import EXAMPLES, ROOT
from .helpers import git_repo, run_main
from .synthesis import model_of

BUNDLED = (ROOT / "routes.yaml").read_text()


def run(*args: str, cwd=ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    """main.py with a minimal environment: nothing from the caller's (AWS settings, say) reaches it."""
    return run_main(*args, cwd=cwd, env=env, inherit_env=False, timeout=60)


# --- 1. --local-aws and --state -----------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://127.0.0.1:${jsonencode(1)}", "http://127.0.0.1:%{if true}1%{endif}", "http://127.0.0.1:4566${x}",
    "http://127.0.0.1", "http://localhost/", "http://127.0.0.1:0", "http://127.0.0.1:65536", "http://127.0.0.1:04566",
    "http://127.0.0.1:4566/path", "http://127.0.0.1:4566?x=1", "http://127.0.0.1:4566#f", "http://127.0.0.1:4566//",
    "http://user:pw@127.0.0.1:4566", "http://127.0.0.1@evil.example:80", "http://evil.example#@127.0.0.1:80",
    "http://127.0.0.1.evil.example:4566", "http://localhost.evil.example:80", "http://10.0.0.1:4566",
    "http://::1:4566", "http://[::2]:4566", "ftp://127.0.0.1:21", "127.0.0.1:4566", "http://127.0.0.1:4566 ",
    "http://127.0.0.1:4566\n", "http://127.0.0.1:45\t66", "http://127.0.0.1:٤٥٦٦",
])
def test_local_aws_accepts_only_an_exact_loopback_url(url):
    assert local_endpoint_problem(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:4566", "https://localhost:1/", "http://[::1]:65535"])
def test_local_aws_loopback_urls_pass(url):
    assert local_endpoint_problem(url) == ""


def test_an_interpolated_port_is_refused_before_anything_is_synthesized(tmp_path):
    result = run("synth", "--local-aws", "http://127.0.0.1:${file(\"/etc/passwd\")}", "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert result.stderr.startswith("main.py: error: --local-aws 'http://127.0.0.1:${file(\"/etc/passwd\")}': ")
    assert not (tmp_path / "o").exists()


def test_the_environment_variable_is_checked_the_same_way(tmp_path):
    result = run("synth", "--out", str(tmp_path / "o"), env={"CLOUDMAP_ROUTES_LOCAL_AWS": "http://127.0.0.1:${x}"})
    assert result.returncode == 2
    assert result.stderr.startswith("main.py: error: CLOUDMAP_ROUTES_LOCAL_AWS 'http://127.0.0.1:${x}': ")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("local", [("--local-aws", "http://127.0.0.1:4566"), ()])
def test_local_mode_with_s3_state_keeps_the_state_in_the_local_s3(tmp_path, local):
    """Local mode + --state: the S3 backend talks to the same loopback server, with test credentials and no
    STS, IMDS or region calls (tests/test_remote_state.py applies it); never the real AWS."""
    env = {} if local else {"CLOUDMAP_ROUTES_LOCAL_AWS": "http://127.0.0.1:4566"}
    result = run("synth", *local, "--state", "s3://my-tf-state/routes.tfstate", "--out", str(tmp_path / "o"),
                 "--engine", "direct", env=env)
    assert result.returncode == 0, result.stderr
    backend = json.loads((tmp_path / "o" / "stacks" / "routes" / "cdk.tf.json").read_text())["terraform"]["backend"]
    assert backend == {"s3": {
        "bucket": "my-tf-state", "key": "routes.tfstate", "encrypt": True, "use_lockfile": True, "region": "eu-west-1",
        "endpoints": {"s3": "http://127.0.0.1:4566"}, "use_path_style": True, "access_key": "test",
        "secret_key": "test", "skip_credentials_validation": True, "skip_requesting_account_id": True,
        "skip_metadata_api_check": True, "skip_region_validation": True}}


def test_s3_state_without_local_mode_has_no_local_settings(tmp_path):
    result = run("synth", "--state", "s3://my-tf-state/routes.tfstate", "--out", str(tmp_path / "o"), "--engine",
                 "direct")
    assert result.returncode == 0, result.stderr
    backend = json.loads((tmp_path / "o" / "stacks" / "routes" / "cdk.tf.json").read_text())["terraform"]["backend"]
    assert backend == {"s3": {"bucket": "my-tf-state", "key": "routes.tfstate", "encrypt": True,
                              "region": "eu-west-1", "use_lockfile": True}}


def test_local_mode_with_s3_state_refuses_a_non_loopback_endpoint(tmp_path):
    result = run("synth", "--local-aws", "http://10.0.0.1:4566", "--state", "s3://my-tf-state/routes.tfstate",
                 "--out", str(tmp_path / "o"), "--engine", "direct")
    assert result.returncode == 2
    assert result.stderr.startswith("main.py: error: --local-aws 'http://10.0.0.1:4566': only http(s)://HOST:PORT")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("state", [
    "s3://Bucket/key", "s3://ab/key", "s3://" + "a" * 64 + "/k", "s3://-bucket/k", "s3://bucket-/k",
    "s3://my..bucket/k",
    "s3://192.168.1.1/k", "s3://xn--bucket/k", "s3://bucket-s3alias/k", "s3://my_bucket/k", "s3://bucket/${var.x}",
    "s3://bucket/%{if x}y%{endif}", "s3://bucket/../k", "s3://bucket/a/../k", "s3://bucket/./k", "s3://bucket//k",
    "s3://bucket/k/", "s3://bucket/k\n", "s3://bucket/a b", "s3://bucket/" + "k" * 1025, "s3://bucket/",
    "s3://bucket", "gs://bucket/k", "s3:/bucket/k", "s3://${x}/k",
])
def test_state_is_a_strict_s3_bucket_and_key(state):
    assert state_problem(state)


@pytest.mark.parametrize("state", ["s3://my-tf-state/routes/raft-api.tfstate", "s3://a.b-c1/x_y(1)!*'.tfstate",
                                   "s3://abc/" + "k" * 1024])
def test_plain_s3_state_passes(state):
    assert state_problem(state) == ""


def test_an_interpolated_state_key_is_refused_on_the_command_line(tmp_path):
    result = run("synth", "--state", "s3://my-tf-state/${path.cwd}", "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert result.stderr.startswith("main.py: error: --state 's3://my-tf-state/${path.cwd}': expected s3://BUCKET/KEY")


# --- 2. git option injection ---------------------------------------------------------------------------------

def test_a_revision_that_looks_like_an_option_is_refused_and_writes_nothing(tmp_path):
    repo = git_repo(tmp_path / "repo", {"routes.yaml": BUNDLED.encode()})
    target = tmp_path / "written"
    result = run("diff", "--", f"--output={target}:routes.yaml", "routes.yaml", cwd=repo)
    assert result.returncode == 2
    assert result.stderr == (f"main.py: error: diff: '--output={target}:routes.yaml': a git revision cannot start "
                             "with '-'\n")
    assert not target.exists()


def test_git_is_called_with_end_of_options(tmp_path, monkeypatch):
    """Even without the check above, git reads the spec as a revision, never as an option."""
    repo = git_repo(tmp_path / "repo", {"routes.yaml": BUNDLED.encode()})
    target = tmp_path / "written"
    monkeypatch.chdir(repo)
    raw, why = review_versions._git_blob(f"--output={target}:routes.yaml", MAX_BYTES)
    assert raw is None and "invalid object name" in why
    assert not target.exists()
    assert review_versions._git_blob("HEAD:routes.yaml", MAX_BYTES) == (BUNDLED.encode(), "")


def test_a_git_tree_is_not_read_as_a_file(tmp_path):
    repo = git_repo(tmp_path / "repo", {"routes.yaml": BUNDLED.encode()})
    result = run("diff", "HEAD:", "routes.yaml", cwd=repo)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == ("HEAD:: error E100: cannot read the file: no such file, and git "
                                             "cannot read it as REV:PATH: git cat-file HEAD:: bad file")


# --- 3. Markdown and terminal injection ----------------------------------------------------------------------

EVIL = ("a`b`|c <img src=x onerror=alert(1)> [link](http://evil.example) ![i](http://x/i.png) **bold** _it_ "
        "@octocat @org/team #12 owner/repo#3 www.evil.example https://evil.example foo@bar.com <script>x</script> "
        "&amp; ~~s~~ $x^2$ \\| \n| new | row |\r\x1b[2J \u202eevil")


def evil_summary() -> Summary:
    resource = ResourceChange(EVIL, "replace", (EVIL,), "consequence")
    return Summary(EVIL, [RouteChange(EVIL, EVIL, "changed", [EVIL, EVIL], True, [resource])], [resource],
                   [ResourceChange(EVIL, "create")])


def unescaped(text: str) -> str:
    """What is left of Markdown once every backslash escape (`\\X`) is removed: the markup the template wrote."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def test_markdown_escapes_every_user_string():
    markdown = render(evil_summary(), "markdown")
    markup = unescaped(markdown)
    for raw in ("<img", "<script", "](", "![", "**bold**", "_it_", "~~", "$x", "@octocat", "@org", "#12", "repo#3",
                "www.", "https:", "foo@bar", "&amp;", "\x1b", "\r", "\u202e"):
        assert raw not in markup, raw
    tags = re.findall(r"<([^<>]*)>", markup)  # only the template's own tags are left
    assert markup.count("<") == len(tags)
    assert set(tags) == {"br", "code", "/code", "details", "/details", "summary", "/summary"}
    for line in markdown.splitlines():
        if line.startswith("| ") and not line.startswith("| route") and not line.startswith("| resource"):
            cells = unescaped(line).count("|") - 1  # no user text adds a cell or ends the row
            assert cells == (5 if line.count("<br>") or "changed" in line else 3), line


def test_markdown_code_spans_are_used_only_for_inert_text():
    assert render(Summary("t", [], [ResourceChange("aws_apigatewayv2_route.get_root", "update", ())]), "markdown") \
        .count("| `aws_apigatewayv2_route.get_root` | update |") == 1
    code = review_render._code("a`b")
    assert code == "<code>a\\`b</code>"
    assert review_render._code("x|y") == "<code>x\\|y</code>"


def test_text_output_shows_control_characters_as_escapes():
    text = render(evil_summary(), "text")
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
    assert "\\x1b[2J" in text and "\\u202eevil" in text and "\\n| new | row |\\r" in text


def test_diff_of_a_hostile_routes_file_is_escaped_end_to_end(tmp_path):
    """What the schema lets through: a scope is any printable ASCII but space, `"` and `\\`; a TLS name a host."""
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text(BUNDLED.replace(
        "    scopes: [raft/admin]\n    timeout_ms: 5000",
        "    scopes: [raft/admin, '<img/src=x/onerror=alert(1)>', '|`x`@octocat[l](http://e.vil)',"
        " '**b**_i_~~s~~$x$#1']\n"
        "    tls_server_name: www.evil.example\n    timeout_ms: 5000", 1))
    markdown = run("diff", "routes.yaml", str(hostile), "--format", "markdown")
    assert markdown.returncode == 0, markdown.stderr
    markup = unescaped(markdown.stdout)
    for raw in ("<img", "](", "@octocat", "**b**", "_i_", "~~", "$x", "#1", "www.", "http:"):
        assert raw not in markup, raw
    assert "\\<img\\/src\\=x\\/onerror\\=alert\\(1\\)\\>\\, \\|\\`x\\`\\@&#8203;octocat" in markdown.stdout
    row = next(line for line in markdown.stdout.splitlines() if line.startswith("| `GET /leader`"))
    assert unescaped(row).count("|") == 6  # five cells: no user text adds one


def test_summarize_plan_escapes_what_the_plan_says(tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"format_version": "1.2", "resource_changes": [
        route_change("leader", "update", {"route_key": "GET /a", "target": "integrations/i1"},
                     {"route_key": "GET /<img src=x>|\n| x\x1b[2J", "target": "integrations/i1"})]}))
    result = run("summarize-plan", str(plan), "--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert "<img" not in unescaped(result.stdout) and "\x1b" not in result.stdout
    assert "route key\\: GET \\/a \\-\\> GET \\/\\<img src\\=x\\>\\|\\\\n\\| x\\\\x1b\\[2J" in result.stdout
    text = run("summarize-plan", str(plan))
    assert "\x1b" not in text.stdout and "route key: GET /a -> GET /<img src=x>|\\n| x\\x1b[2J" in text.stdout


# --- 4, 5, 6. unreadable, oversized and missing inputs --------------------------------------------------------

def first_line(result: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    return result.stderr.splitlines()[0]


@pytest.mark.parametrize("command", [["check"], ["diff", "routes.yaml"], ["diff", "--", "{path}", "routes.yaml"],
                                     ["summarize-plan"]])
def test_a_missing_file_is_the_same_error_and_exit_code_in_every_command(command):
    argv = [a.replace("{path}", "no-such.yaml") for a in command] + ([] if "{path}" in command else ["no-such.yaml"])
    result = run(*argv)
    assert result.returncode == 1
    assert first_line(result) == "no-such.yaml: error E100: cannot read the file: No such file or directory"


def test_diff_of_a_directory_is_a_located_error(tmp_path):
    result = run("diff", str(tmp_path), "routes.yaml")
    assert result.returncode == 1
    assert first_line(result) == f"{tmp_path}: error E100: cannot read the file: Is a directory"


def test_diff_of_a_fifo_does_not_hang(tmp_path):
    fifo = tmp_path / "routes.fifo"
    os.mkfifo(fifo)
    result = run("diff", "routes.yaml", str(fifo))
    assert result.returncode == 1
    assert first_line(result) == f"{fifo}: error E100: cannot read the file: not a regular file"


def test_diff_of_a_path_under_a_file_is_a_located_error():
    result = run("diff", "routes.yaml/child.yaml", "routes.yaml")
    assert result.returncode == 1
    assert first_line(result) == "routes.yaml/child.yaml: error E100: cannot read the file: Not a directory"


def test_summarize_plan_of_a_directory_or_fifo(tmp_path):
    fifo = tmp_path / "plan.fifo"
    os.mkfifo(fifo)
    for path, why in ((tmp_path, "Is a directory"), (fifo, "not a regular file")):
        result = run("summarize-plan", str(path))
        assert result.returncode == 1
        assert first_line(result) == f"{path}: error E100: cannot read the file: {why}"


def test_a_non_utf8_git_blob_is_located(tmp_path):
    repo = git_repo(tmp_path / "repo", {"routes.yaml": b"version: 1\napi:\n  name: caf\xe9\n"})
    (repo / "head.yaml").write_text(BUNDLED)
    result = run("diff", "HEAD:routes.yaml", "head.yaml", cwd=repo)
    assert result.returncode == 1
    assert first_line(result) == "HEAD:routes.yaml:3:12: error E100: byte 0xe9 is not valid UTF-8"


def test_a_non_utf8_file_is_located_as_check_locates_it(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"version: 1\n\xff\n")
    diff, check = run("diff", str(bad), "routes.yaml"), run("check", str(bad))
    assert diff.returncode == check.returncode == 1
    assert first_line(diff) == first_line(check) == f"{bad}:2:1: error E100: byte 0xff is not valid UTF-8"


def test_diff_reads_files_through_checks_size_limit(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (16 * 1024 * 1024))
    started = time.monotonic()
    diff, check = run("diff", str(big), "routes.yaml"), run("check", str(big))
    assert time.monotonic() - started < 30
    assert diff.returncode == check.returncode == 1
    assert first_line(diff) == first_line(check)
    assert first_line(diff).startswith(f"{big}: error E100: the file is ") and f"{MAX_BYTES:,}" in first_line(diff)


def test_diff_reads_git_blobs_through_the_size_limit(tmp_path):
    repo = git_repo(tmp_path / "repo", {"routes.yaml": b"#" * (4 * 1024 * 1024)})
    started = time.monotonic()
    result = run("diff", "HEAD:routes.yaml", "routes.yaml", cwd=repo)
    assert time.monotonic() - started < 30
    assert result.returncode == 1
    assert first_line(result) == (f"HEAD:routes.yaml: error E100: the blob is larger than the limit of "
                                  f"{MAX_BYTES:,} bytes (1 MiB)")


# --- 7. summarize-plan on plans of the wrong shape ------------------------------------------------------------

def route_change(name: str, action: str, before: dict | None, after: dict | None, **extra) -> dict:
    actions = {"replace": ["delete", "create"]}.get(action, [action])
    return {"address": f"aws_apigatewayv2_route.{name}", "mode": "managed", "type": "aws_apigatewayv2_route",
            "name": name, "change": {"actions": actions, "before": before, "after": after, **extra}}


GOOD_CHANGE = route_change("leader", "update", {"route_key": "GET /a"}, {"route_key": "GET /b"})


def plan_with(**change) -> dict:
    return {"format_version": "1.2", "resource_changes": [{**GOOD_CHANGE, **change}]}


def nested(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = {"x": value}
    return value


MALFORMED = {
    "top-level-array": ([], "expected an object, found an array at $"),
    "no-format-version": ({"resource_changes": []}, "missing 'format_version' at $"),
    "format-version-2": ({"format_version": "2.0"}, "format_version '2.0' is not 1.x at $.format_version"),
    "resource-changes-object": ({"format_version": "1.2", "resource_changes": {"a": 1}},
                                "expected an array or null, found an object at $.resource_changes"),
    "change-missing": ({"format_version": "1.2", "resource_changes": [
        {k: v for k, v in GOOD_CHANGE.items() if k != "change"}]}, "missing 'change' at $.resource_changes[0]"),
    "change-string": (plan_with(change="update"),
                      "expected an object, found a string at $.resource_changes[0].change"),
    "actions-string": (plan_with(change={"actions": "update"}),
                       "expected an array, found a string at $.resource_changes[0].change.actions"),
    "actions-empty": (plan_with(change={"actions": []}), "no actions at $.resource_changes[0].change.actions"),
    "action-number": (plan_with(change={"actions": [1]}),
                      "expected a string, found a number at $.resource_changes[0].change.actions[0]"),
    "before-list": (plan_with(change={"actions": ["update"], "before": [], "after": {}}),
                    "expected an object or null, found an array at $.resource_changes[0].change.before"),
    "after-unknown-true": (plan_with(change={"actions": ["update"], "before": {}, "after": {}, "after_unknown": True}),
                           "expected an object or null, found a boolean at $.resource_changes[0].change.after_unknown"),
    "address-missing": ({"format_version": "1.2", "resource_changes": [
        {k: v for k, v in GOOD_CHANGE.items() if k != "address"}]}, "missing 'address' at $.resource_changes[0]"),
    "type-number": (plan_with(type=7), "expected a string, found a number at $.resource_changes[0].type"),
    "route-key-number": (plan_with(change={"actions": ["update"], "before": {"route_key": "GET /"},
                                           "after": {"route_key": 5}}),
                         "expected a string or null, found a number at $.resource_changes[0].change.after.route_key"),
    "replace-paths-string": (plan_with(change={"actions": ["delete", "create"], "before": {}, "after": {},
                                               "replace_paths": "name"}),
                             "expected an array or null, found a string at $.resource_changes[0].change.replace_paths"),
    "deep-before": (plan_with(change={"actions": ["update"], "before": nested(PLAN_MAX_DEPTH + 5), "after": {}}),
                    f"nesting deeper than {PLAN_MAX_DEPTH} levels at $.resource_changes[0].change.before"
                    + ".x" * (PLAN_MAX_DEPTH + 1)),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_a_plan_of_the_wrong_shape_is_located_not_a_traceback(tmp_path, name):
    data, where = MALFORMED[name]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(data))
    result = run("summarize-plan", str(plan))
    assert result.returncode == 1
    assert result.stderr == f"main.py: error: {plan}: not terraform show -json output: {where}\n"


@pytest.mark.parametrize("text, where", [
    ("[" * 100_000 + "]" * 100_000, "nesting too deep to read at $"),
    ('{"format_version": "1.2",',
     "invalid JSON (Expecting property name enclosed in double quotes) at line 1 column 26"),
    ('{"format_version": ' + "1" * 5000 + "}", "invalid JSON ("),
])
def test_a_plan_that_is_not_json_is_located(tmp_path, text, where):
    plan = tmp_path / "plan.json"
    plan.write_text(text)
    result = run("summarize-plan", str(plan))
    assert result.returncode == 1
    assert result.stderr.startswith(f"main.py: error: {plan}: not terraform show -json output: {where}")


def test_a_huge_or_non_utf8_plan_is_a_located_file_error(tmp_path):
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as handle:
        handle.truncate(PLAN_MAX_BYTES + 1)
    result = run("summarize-plan", str(huge))
    assert result.returncode == 1
    assert first_line(result) == f"{huge}: error E100: the file is over the {PLAN_MAX_BYTES}-byte limit for a plan"
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"format_version": "1.2", "x": "caf\xe9"}')
    result = run("summarize-plan", str(latin))
    assert result.returncode == 1
    assert first_line(result) == f"{latin}: error E100: byte 0xe9 at offset 35 is not valid UTF-8"


def test_resources_the_tool_does_not_manage_are_warned_about(tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"format_version": "1.2", "resource_changes": [
        GOOD_CHANGE,
        {"address": "aws_s3_bucket.logs", "mode": "managed", "type": "aws_s3_bucket", "name": "logs",
         "change": {"actions": ["delete"], "before": {"id": "logs"}, "after": None}},
        {"address": "data.aws_region.current", "mode": "data", "type": "aws_region", "name": "current",
         "change": {"actions": ["read"], "before": None, "after": {}}}]}))
    markdown = run("summarize-plan", str(plan), "--format", "markdown")
    assert markdown.returncode == 0, markdown.stderr
    assert markdown.stderr == (f"main.py: warning: {plan}: 1 resource(s) in the plan are not of a type cloudmap-routes "
                               "manages; the summary does not describe them: aws_s3_bucket.logs (delete)\n")
    assert ("> **1 resource(s) in the plan are not of a type cloudmap-routes manages; this summary does not describe "
            "them:** `aws_s3_bucket.logs` delete") in markdown.stdout
    text = run("summarize-plan", str(plan))
    assert "?? not managed by cloudmap-routes (not described here): delete aws_s3_bucket.logs\n" in text.stdout


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_resource_type_the_plan_emits_counts_as_managed(example):
    blocks = build(model_of(example.read_text())).blocks
    assert all(is_managed(b.type) for b in blocks if b.mode == "managed"), \
        sorted({b.type for b in blocks if b.mode == "managed" and not is_managed(b.type)})
    assert not is_managed("aws_s3_bucket") and not is_managed("aws_iam_user")


def test_replace_paths_are_read_from_the_change_object():
    change = route_change("leader", "replace", {"api_id": "a"}, {"api_id": None}, replace_paths=[["api_id"]])
    summary = summarize_plan({"format_version": "1.2", "resource_changes": [change]}, "t")
    assert [(c.address, c.action, c.attributes) for c in summary.resources] == [
        ("aws_apigatewayv2_route.leader", "replace", ("api_id",))]


# --- 9. consequences of the lead's decisions D1-D3 -------------------------------------------------------------

def test_consequences_describe_create_before_destroy_and_force_destroy():
    assert "create_before_destroy" in resource_type("aws_apigatewayv2_vpc_link").on_replace
    assert "once it is AVAILABLE" in resource_type("aws_apigatewayv2_vpc_link").on_replace
    assert "with its route (the route is deleted first" in resource_type("aws_apigatewayv2_integration").on_replace
    service = resource_type("aws_service_discovery_service")
    for text in (service.on_replace, service.on_delete):
        assert "force_destroy deregisters every instance still registered: their traffic stops" in text
        assert "ECS services registered to it must be recreated" in text


def test_a_deleted_cloud_map_service_is_flagged_with_its_consequence():
    change = {"address": "aws_service_discovery_service.old", "mode": "managed",
              "type": "aws_service_discovery_service", "name": "old",
              "change": {"actions": ["delete"], "before": {"id": "srv-1"}, "after": None}}
    summary = summarize_plan({"format_version": "1.2", "resource_changes": [change]}, "t")
    assert [(r.address, r.consequence) for r in summary.replacements] == [
        ("aws_service_discovery_service.old", resource_type("aws_service_discovery_service").on_delete)]


def test_each_route_is_summarized_with_its_own_integration():
    head = BUNDLED.replace('leader: "false"', 'leader: "true"')  # follower now has leader's filter: no sharing
    summary = diff_models(model_of(BUNDLED), model_of(head), "t")
    assert [(r.route_id, [c.address for c in r.resources]) for r in summary.routes] == [
        ("follower", ["aws_apigatewayv2_integration.follower"])]


def test_an_escaped_literal_is_not_a_reference_to_a_replaced_resource():
    """`$${...}` in a description is text (plan.tf_literal): a replaced service does not update the API."""
    text = BUNDLED.replace("description: Public entry to the raft cluster",
                           'description: "see ${aws_service_discovery_service.raft.arn}"')
    head = text.replace("  raft:\n    registered_by", "  raft:\n    name: raft-v2\n    registered_by")
    summary = diff_models(model_of(text), model_of(head), "t")
    assert "aws_apigatewayv2_api.api" not in {c.address for c in summary.resources}
