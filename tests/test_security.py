"""A real scanner over the real output: checkov (offline) reports no failed check on the bundled example."""

from __future__ import annotations

import json
import subprocess

import pytest

from .conftest import ROOT
from .synthesis import synth_text


@pytest.fixture(scope="module")
def scan(tmp_path_factory, checkov):
    def run(text: str) -> dict:
        folder = tmp_path_factory.mktemp("scan")
        (folder / "cdk.tf.json").write_text(synth_text(text))
        result = subprocess.run([str(checkov), "--config-file", str(ROOT / ".checkov.yaml"), "-d", str(folder),
                                 "-o", "json"], capture_output=True, text=True, timeout=600)
        assert result.returncode in (0, 1), result.stderr
        return json.loads(result.stdout)
    return run


def test_checkov_finds_nothing_on_the_bundled_example(scan):
    report = scan((ROOT / "routes.yaml").read_text())
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["skipped"] == 0
    assert report["summary"]["passed"] >= 10  # it really looked: the API, stage, routes, logs were checked


def test_checkov_would_catch_an_unauthenticated_route(scan):
    """The scan is not vacuous: an unauthenticated public route is a failed check."""
    text = (ROOT / "routes.yaml").read_text().replace("  - route: GET /\n    service: raft\n",
                                                      "  - route: GET /\n    service: raft\n    public: true\n"
                                                      "    authorization: none\n")
    failed = {c["check_id"] for c in scan(text)["results"]["failed_checks"]}
    assert "CKV_AWS_309" in failed


@pytest.mark.parametrize("example", ["admin-allowlist", "admin-mtls"])
def test_checkov_finds_nothing_on_the_admin_examples(scan, example):
    """Fan-out functions, the allow-list authorizer and mutual TLS: every check passes or is skipped in
    .checkov.yaml with its reason (the Lambda checks that do not apply to these functions)."""
    report = scan((ROOT / "examples" / f"{example}.yaml").read_text())
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    passed = {c["check_id"] for c in report["results"]["passed_checks"]}
    # It looked at the functions: in a VPC is skipped for all (the allow-list needs none), these are not.
    assert {"CKV_AWS_50", "CKV_AWS_364", "CKV_AWS_338", "CKV_AWS_158"} <= passed


def test_every_skipped_check_says_why():
    """A skip in .checkov.yaml is a decision: each entry carries its reason as a comment on its line."""
    lines = (ROOT / ".checkov.yaml").read_text().splitlines()
    skips = [line for line in lines[lines.index("skip-check:") + 1:] if line.strip().startswith("- ")]
    assert skips, "no skip-check entries found"
    for line in skips:
        check, _, reason = line.strip()[2:].partition("#")
        assert check.strip().startswith("CKV") and len(reason.strip()) > 40, line
