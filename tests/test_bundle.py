"""The shipped handlers' deployment packages (compiler/terraform/bundle.py): one module per zip, byte-identical wherever and
whenever it is built, and runnable on its own (standard library and boto3 only)."""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile

import pytest

from compiler.handlers import settings as fanout_settings
from compiler.language import functions
from compiler.language.model import AttributeFilter, FanOut, IntegrationOptions
from compiler.terraform import bundle
from tests.synthesis import model_of

from .conftest import ROOT

NAMES = sorted(bundle.HANDLER_ENTRY)
BUILD = "import sys; from compiler.terraform.bundle import handler_zip; sys.stdout.buffer.write(handler_zip(sys.argv[1]))"


def _build_elsewhere(name: str, cwd, tz: str, umask: int) -> bytes:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TZ": tz, "PYTHONHASHSEED": "random", "SOURCE_DATE_EPOCH": ""}
    return subprocess.run([sys.executable, "-c", BUILD, name], cwd=cwd, env=env, umask=umask, capture_output=True,
                          check=True, timeout=60).stdout


@pytest.mark.parametrize("name", NAMES)
def test_the_zip_is_byte_identical_across_processes_folders_time_zones_and_umasks(tmp_path, name):
    (tmp_path / "a").mkdir()
    (tmp_path / "b" / "deeper").mkdir(parents=True)
    first = _build_elsewhere(name, tmp_path / "a", "UTC", 0o022)
    second = _build_elsewhere(name, tmp_path / "b" / "deeper", "Pacific/Kiritimati", 0o077)
    assert first == second == bundle.handler_zip(name)
    assert bundle.source_code_hash(first) == bundle.source_code_hash(second)


@pytest.mark.parametrize("name", NAMES)
def test_the_zip_holds_exactly_its_modules_at_its_root_with_fixed_metadata(name):
    data = bundle.handler_zip(name)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == sorted(bundle.HANDLER_FILES[name])
        assert f"{name}.py" in bundle.HANDLER_FILES[name]
        for info in infos:
            assert archive.read(info) == (ROOT / "compiler" / "handlers" / info.filename).read_bytes()
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == 0o100644 and info.create_system == 3
            assert info.compress_type == zipfile.ZIP_STORED  # no zlib in the bytes: the same on every machine
            assert info.extra == b"" and info.comment == b""
        assert archive.comment == b""
        assert archive.testzip() is None
    assert bundle.HANDLER_ENTRY[name] == f"{name}.handler"


def test_source_code_hash_is_base64_of_sha256():
    data = bundle.handler_zip("fanout")
    assert bundle.source_code_hash(data) == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert bundle.source_code_hash(b"") == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    hashes = {bundle.source_code_hash(bundle.handler_zip(name)) for name in NAMES}
    assert len(hashes) == len(NAMES)


def test_an_unknown_handler_is_refused():
    with pytest.raises(KeyError, match="fanout"):
        bundle.handler_zip("../bundle")


@pytest.mark.parametrize("name", NAMES)
def test_handlers_import_only_the_standard_library_boto3_and_what_their_zip_holds(name):
    """A relative import may name only a module the same zip holds (and the unpacked zip must run: below)."""
    shipped = {file.removesuffix(".py") for file in bundle.HANDLER_FILES[name]}
    for file in bundle.HANDLER_FILES[name]:
        tree = ast.parse((ROOT / "compiler" / "handlers" / file).read_text())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    assert node.level == 1 and node.module in shipped, f"{file}: from {'.' * node.level}{node.module}"
                else:
                    imported.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
        assert not imported - set(sys.stdlib_module_names) - {"boto3", "botocore"} - shipped, (file, imported)


def test_the_unpacked_zips_run_alone(tmp_path):
    """Unpacked into an empty folder, in an isolated interpreter that cannot see this project: both modules
    import, the authorizer decides, and the fan-out handler answers (here: misconfigured, without boto3 calls)."""
    for name in NAMES:
        zipfile.ZipFile(io.BytesIO(bundle.handler_zip(name))).extractall(tmp_path)
    probe = ("import json, allowlist, fanout; "
             "e = {'requestContext': {'http': {'sourceIp': '10.1.2.3'}}}; "
             "print(json.dumps([allowlist.handler(e, None), fanout.handler({}, None)['statusCode'], "
             "sorted(m for m in __import__('sys').modules if m.startswith('compiler'))]))")
    env = {"PATH": os.environ.get("PATH", ""), "ALLOWED_CIDRS": "10.0.0.0/8"}
    result = subprocess.run([sys.executable, "-I", "-S", "-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r}); "
                             + probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [{"isAuthorized": True}, 500, []]


def test_fanout_environment_is_what_the_handler_reads_back():
    model = model_of(_FAN_OUT_YAML)
    route = next(r for r in model.routes if r.fan_out)
    env = functions.fanout_environment(model, route, "admin-ns", "raft")
    assert list(env) == sorted(env) and all(isinstance(v, str) for v in env.values())
    settings = fanout_settings.Settings.from_environ(env)
    assert settings == functions.fanout_settings(model, route, "admin-ns", "raft")
    assert (settings.namespace, settings.service, settings.filter, settings.stage, settings.strip_stage) == (
        "admin-ns", "raft", (("role", "node"),), "prod", True)
    assert (settings.per_instance_timeout_ms, settings.concurrency, settings.include_unhealthy,
            settings.max_body_bytes, settings.forward_headers) == (750, 3, True, 100, frozenset({"content-type",
                                                                                                  "x-trace"}))
    assert settings.total_timeout_ms == route.timeout_ms - 500


def test_fanout_settings_round_trip_through_the_environment():
    cases = [fanout_settings.Settings("ns", "svc"),
             fanout_settings.Settings("ns", "svc", (("a", "1"), ("b", "x y")), True, 100, 1, 200, False, "$default",
                             frozenset(), 0, "admin.internal"),
             fanout_settings.Settings("ns", "svc", forward_headers=None)]
    for settings in cases:
        assert fanout_settings.Settings.from_environ(fanout_settings.environment(settings)) == settings


def test_fanout_settings_are_checked():
    base = fanout_settings.environment(fanout_settings.Settings("ns", "svc"))
    for name, value in [("CONCURRENCY", "0"), ("CONCURRENCY", "-1"), ("PER_INSTANCE_TIMEOUT_MS", "1.5"),
                        ("FILTER", "[]"), ("FILTER", '{"a": 1}'), ("FILTER", "{"), ("INCLUDE_UNHEALTHY", "maybe"),
                        ("CLOUD_MAP_SERVICE", ""), ("MAX_BODY_BYTES", "-1")]:
        with pytest.raises(ValueError, match=name):
            fanout_settings.Settings.from_environ({**base, name: value})
    assert fanout_settings.Settings.from_environ({**base, "MAX_BODY_BYTES": "0"}).max_body_bytes == 0


def test_allowlist_environment():
    from compiler.language.model import Authorizer
    authorizer = Authorizer("admins", "allowlist", "$context.identity.sourceIp", cidrs=("10.0.0.0/8", "2001:db8::/32"))
    assert functions.allowlist_environment(authorizer) == {"ALLOWED_CIDRS": "10.0.0.0/8,2001:db8::/32"}


_FAN_OUT_YAML = """\
version: 1
api: {name: admin-api, stage: prod}
vpc_link: {subnet_ids: [subnet-0a1b2c3d4e5f60718], security_group_ids: [sg-0c3d4e5f607182930],
           vpc_id: vpc-0d4e5f60718293a4b, cloud_map_access: nat}
namespace: {type: http, name: admin-ns}
services:
  raft: {registered_by: other, app_attributes: [role]}
routes:
  - route: POST /admin/reload
    service: raft
    filter: {role: node}
    authorization: iam
    timeout_ms: 5000
    fan_out: {per_instance_timeout_ms: 750, concurrency: 3, include_unhealthy: true, max_body_bytes: 100,
              forward_headers: [Content-Type, X-Trace]}
"""


def test_the_model_types_the_bundle_reads_exist():  # a guard against renames in model.py
    assert {"per_instance_timeout_ms", "concurrency", "include_unhealthy", "forward_headers",
            "max_body_bytes"} <= set(FanOut.__dataclass_fields__)
    assert "strip_stage" in IntegrationOptions.__dataclass_fields__ and AttributeFilter.of({}).pairs == ()
