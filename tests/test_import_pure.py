"""`import` without AWS: import id formats, positions in the written file, reading this tool's functions back, and
writing the two files (never through a link, whole or not at all). The local-AWS proofs are in test_import.py and
test_import_own.py.
"""

from __future__ import annotations

import os
import stat

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler.adopt import Refused, Setup, adoption, owned
from compiler.adopt.read import Function
from compiler.cli import adopt as cli_adopt
from compiler.core import names
from compiler.core.files import write_problem
from compiler.core.names import DATA, MANAGED
from compiler.handlers.settings import Settings, environment
from compiler.terraform import catalogue
from compiler.terraform.plan import build

from .conftest import EXAMPLES
from .helpers import run_main
from .synthesis import model_of

# --- import ids: one format per type, in the catalogue -------------------------------------------------------


def test_every_catalogued_managed_type_has_an_import_id_format_and_data_sources_none():
    for (mode, name), record in catalogue.TYPES.items():
        if mode == MANAGED:
            assert record.import_id and "{" in record.import_id, name
        else:
            assert mode == DATA and record.import_id == "", name


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_type_an_example_emits_is_catalogued_with_an_import_id(path):
    plan = build(model_of(path.read_text()))
    for block in plan.blocks:
        if block.mode == MANAGED:
            assert catalogue.TYPES[(MANAGED, block.type)].import_id, block.type


PART = st.text(alphabet=st.characters(codec="ascii", categories=("L", "N")) | st.sampled_from("-_."), min_size=1,
               max_size=12)
LAST = st.text(alphabet=st.characters(codec="ascii", exclude_categories=("Cc",)), min_size=1, max_size=30)


@given(st.sampled_from(sorted(n for (m, n) in catalogue.TYPES if m == MANAGED)), st.data())
def test_an_import_id_is_built_and_parsed_back_by_its_format(type_, data):
    record = catalogue.TYPES[(MANAGED, type_)]
    keys = catalogue._PART.findall(record.import_id)
    parts = {k: data.draw(PART) for k in keys[:-1]} | {keys[-1]: data.draw(LAST)}  # the last part takes the rest
    built = record.import_id_of(**parts)
    assert record.parse_import_id(built) == parts


def test_the_formats_are_the_providers():
    of = catalogue.of
    assert of("aws_iam_role_policy").import_id_of(role_name="r", policy_name="p") == "r:p"
    assert of("aws_iam_role_policy_attachment").import_id_of(
        role_name="r", policy_arn="arn:aws:iam::aws:policy/service-role/X") == "r/arn:aws:iam::aws:policy/service-role/X"
    assert of("aws_lambda_permission").import_id_of(function_name="f", statement_id="s") == "f/s"
    assert of("aws_service_discovery_private_dns_namespace").import_id_of(namespace_id="ns-1", vpc_id="vpc-1") == \
        "ns-1:vpc-1"
    assert of("aws_apigatewayv2_api_mapping").parse_import_id("m1/api.example.com") == {
        "api_mapping_id": "m1", "domain_name": "api.example.com"}
    with pytest.raises(TypeError):
        of("aws_apigatewayv2_route").import_id_of(api_id="a")  # a part missing is the caller's bug


# --- positions point into the file as written ---------------------------------------------------------------

SERVICE_ARN = "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-1"


def console_setup(**changes) -> Setup:
    """A setup as read: one static instance with leader=true, a route filtering leader=false (W401), a service
    without health check (W402), no stage and no stack tag (two header lines of changes)."""
    service = {"Id": "srv-1", "Arn": SERVICE_ARN, "Name": "app", "NamespaceId": "ns-1"}
    fields = dict(
        api={"ApiId": "a1", "Name": "app-api", "ProtocolType": "HTTP"}, stage=None, stage_names=[],
        routes=[{"RouteId": "r1", "RouteKey": "GET /", "Target": "integrations/i1"}],
        integrations={"i1": {"IntegrationId": "i1", "IntegrationType": "HTTP_PROXY", "ConnectionType": "VPC_LINK",
                             "ConnectionId": "l1", "IntegrationUri": SERVICE_ARN + "?leader=false"}},
        authorizers={}, vpc_link={"VpcLinkId": "l1", "Name": "app", "SubnetIds": ["subnet-0a1b2c3d"],
                                  "SecurityGroupIds": ["sg-0a1b2c3d"]},
        services={"srv-1": service},
        instances={"srv-1": [{"Id": "t-1", "Attributes": {"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INSTANCE_PORT": "80",
                                                          "leader": "true"}}]},
        namespaces={"ns-1": {"Id": "ns-1", "Arn": "arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-1",
                             "Name": "app", "Type": "HTTP"}})
    return Setup(**{**fields, **changes})


def test_warnings_point_at_the_lines_of_the_file_as_written_header_included():
    adopted = adoption(console_setup(), "us-east-1", "routes.yaml")
    lines = adopted.text.splitlines()
    assert lines[2] == "# The first plan also changes what routes.yaml cannot say as deployed:"
    found = {d.code: (d.line, d.col) for d in adopted.diagnostics}
    assert set(found) == {"W401", "W402"}, adopted.diagnostics
    # The service's key, and the filter's value (where check puts them).
    for code, key in (("W402", "app:"), ("W401", '{leader: "false"}')):
        line, column = found[code]
        assert lines[line - 1][column - 1:].startswith(key), (code, line, column, lines[line - 1])
    assert all(d.file == "routes.yaml" for d in adopted.diagnostics)


def test_the_cli_prints_those_positions(tmp_path, monkeypatch, capsys):
    """Through the command: the position printed is the written file's (the AWS reads are replaced)."""
    import compiler.adopt as adopt_package

    monkeypatch.setattr(adopt_package, "read_setup", lambda c, api_id: console_setup())
    monkeypatch.setattr(adopt_package, "clients", lambda region, local: type("C", (), {"region": "us-east-1"})())
    monkeypatch.chdir(tmp_path)
    assert cli_adopt.run_import("a1", "routes.yaml", "us-east-1", None, "routes", False, False) == 0
    lines = (tmp_path / "routes.yaml").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.strip().startswith("filter:"))
    column = lines[line - 1].index("{") + 1
    assert f"routes.yaml:{line}:{column}: warning W401" in capsys.readouterr().err


# --- this tool's functions, read back -----------------------------------------------------------------------

def test_a_fan_out_route_id_comes_from_the_route_key_or_the_function_name():
    api = "raft-admin"
    assert owned.route_id(api, "GET /raft/state", "raft-admin-fanout-get_raft_state") == "get_raft_state"
    assert owned.route_id(api, "GET /raft/state", "raft-admin-fanout-state") == "state"
    assert owned.route_id(api, "GET /raft/state", "raft-admin-fanout-State") is None  # no id gives that name
    assert owned.route_id(api, "GET /raft/state", "other-fanout-state") is None


def test_fan_out_options_are_written_only_where_they_differ_from_the_defaults():
    settings = Settings.from_environ(environment(Settings("ns", "raft", per_instance_timeout_ms=1500,
                                                          include_unhealthy=True)))
    assert owned.fan_out_options(settings) == {"per_instance_timeout_ms": 1500, "include_unhealthy": True}
    assert owned.fan_out_options(Settings("ns", "raft")) == {}


def test_an_allow_list_is_read_back_only_from_the_function_named_for_its_key():
    function = Function("allowlist", "arn:aws:lambda:us-east-1:123456789012:function:app-api-allowlist-ops",
                        config={"Environment": {"Variables": {"ALLOWED_CIDRS": "10.0.0.0/8,192.0.2.1"}}})
    assert owned.allowlist_cidrs("app-api", "ops", function) == ["10.0.0.0/8", "192.0.2.1"]
    assert owned.allowlist_cidrs("app-api", "other", function) is None
    assert names.function_name("app-api", "allowlist", "ops") == function.name


def test_a_lambda_integration_on_an_api_this_tool_did_not_deploy_is_still_refused():
    arn = "arn:aws:lambda:us-east-1:123456789012:function:app-api-fanout-get_root"
    setup = console_setup(integrations={"i1": {
        "IntegrationId": "i1", "IntegrationType": "AWS_PROXY", "PayloadFormatVersion": "2.0",
        "IntegrationUri": f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations"}})
    with pytest.raises(Refused) as caught:
        adoption(setup, "us-east-1", "routes.yaml")
    assert any(r.startswith("route GET /: integration i1 is not a Cloud Map private integration")
               for r in caught.value.reasons), caught.value.reasons


# --- writing the files: never through a link, whole or not at all ---------------------------------------------

def cli_import(tmp_path, output, *extra):
    """The command with an unreachable local AWS: every check below happens before anything is read."""
    return run_main("import", "--api-id", "a1", "--output", str(output), "--local-aws", "http://127.0.0.1:9", *extra,
                    cwd=tmp_path)


@pytest.mark.parametrize("force", [False, True])
def test_a_dangling_link_at_the_output_is_refused_and_its_target_never_created(tmp_path, force):
    target = tmp_path / "elsewhere" / "created.yaml"
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "routes.yaml").symlink_to(target)
    result = cli_import(tmp_path, tmp_path / "routes.yaml", *(["--force"] if force else []))
    assert result.returncode == 2, result.stderr
    assert "is a symbolic link" in result.stderr and "Traceback" not in result.stderr
    assert not target.exists() and os.path.islink(tmp_path / "routes.yaml")


def test_a_link_at_the_imports_file_is_refused_even_with_force(tmp_path):
    victim = tmp_path / "victim.json"
    victim.write_text("keep me")
    (tmp_path / "routes.imports.tf.json").symlink_to(victim)
    result = cli_import(tmp_path, tmp_path / "routes.yaml", "--force")
    assert result.returncode == 2 and "routes.imports.tf.json is a symbolic link" in result.stderr
    assert victim.read_text() == "keep me" and not (tmp_path / "routes.yaml").exists()


def test_an_existing_file_is_kept_without_force_and_a_directory_always(tmp_path):
    (tmp_path / "routes.yaml").write_text("mine")
    assert "exists; pass --force to replace it" in cli_import(tmp_path, tmp_path / "routes.yaml").stderr
    assert (tmp_path / "routes.yaml").read_text() == "mine"
    (tmp_path / "dir.yaml").mkdir()
    result = cli_import(tmp_path, tmp_path / "dir.yaml", "--force")
    assert result.returncode == 2 and "is not a regular file" in result.stderr


def test_both_files_are_written_whole_with_the_usual_mode(tmp_path):
    files = {str(tmp_path / "routes.yaml"): "a: 1\n", str(tmp_path / "routes.imports.tf.json"): "{}\n"}
    assert cli_adopt._write(files, force=False) == ""
    assert sorted(os.listdir(tmp_path)) == ["routes.imports.tf.json", "routes.yaml"]  # no temporary file left
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(tmp_path / "routes.yaml").st_mode) == 0o666 & ~mask
    assert (tmp_path / "routes.yaml").read_text() == "a: 1\n"


def test_a_failure_while_putting_the_files_in_place_leaves_neither_nor_a_part(tmp_path, monkeypatch):
    import compiler.core.files as files_module

    calls = []

    def link(source, target):
        calls.append(target)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", target)
        return os.link(source, target)

    monkeypatch.setattr(files_module, "_link_new", link)
    files = {str(tmp_path / "routes.yaml"): "a: 1\n", str(tmp_path / "routes.imports.tf.json"): "{}\n"}
    problem = cli_adopt._write(files, force=False)
    assert "No space left on device" in problem
    assert os.listdir(tmp_path) == []  # the first file, created by this run alone, is removed again


def test_a_link_made_after_the_check_is_replaced_itself_never_its_target(tmp_path):
    """--force replaces a name with rename(2): even a link that appears between the check and the write is the
    entry replaced, and what it pointed to is untouched."""
    from compiler.core.files import Staged

    victim = tmp_path / "victim"
    victim.write_text("keep me")
    staged = Staged(str(tmp_path / "routes.yaml"), b"new\n")
    (tmp_path / "routes.yaml").symlink_to(victim)
    with pytest.raises(FileExistsError):  # the commit checks again, and refuses the link
        staged.commit(replace=True)
    assert victim.read_text() == "keep me" and sorted(os.listdir(tmp_path)) == ["routes.yaml", "victim"]


def test_write_problem_allows_a_new_file_and_a_regular_file_with_replace(tmp_path):
    assert write_problem(str(tmp_path / "new.yaml"), replace=False) == ""
    (tmp_path / "old.yaml").write_text("x")
    assert write_problem(str(tmp_path / "old.yaml"), replace=True) == ""

