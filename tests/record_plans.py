"""Record the Terraform plans tests/test_review.py summarizes: `python -m tests.record_plans [CASE ...]`.

For each case of tests/cases.py named (default: PLAN_CASES), the bundled routes.yaml is applied to a local AWS
(moto's server on 127.0.0.1, tests/localaws.py), the case's edit is planned with real Terraform, and
`terraform show -json` is written to tests/review/plans/<case>.json, trimmed to what summarize-plan reads (every
change but the no-ops of other types than routes and Cloud Map services; each integration's configured URI).
Review the regenerated pins (`pytest tests/test_review.py --update-snapshots`) after recording.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

PLAN_CASES = ("filter-changed", "route-added", "route-removed", "service-name", "route-key-renamed")
KEEP_NO_OP = ("aws_apigatewayv2_route", "aws_service_discovery_service")  # summarize-plan names routes and services
DROP = ("before_sensitive", "after_sensitive", "before_identity", "after_identity")


def trim(plan: dict) -> dict:
    changes = []
    for change in plan["resource_changes"]:
        if change["change"]["actions"] == ["no-op"] and change["type"] not in KEEP_NO_OP:
            continue
        changes.append({**change, "change": {k: v for k, v in change["change"].items() if k not in DROP}})
    uris = [{"address": r["address"], "type": r["type"],
             "expressions": {"integration_uri": r["expressions"]["integration_uri"]}}
            for r in plan.get("configuration", {}).get("root_module", {}).get("resources", [])
            if r["type"] == "aws_apigatewayv2_integration" and "integration_uri" in r.get("expressions", {})]
    return {"format_version": plan["format_version"], "terraform_version": plan["terraform_version"],
            "resource_changes": changes, "configuration": {"root_module": {"resources": uris}}}


def record(cases: list[str], out: Path) -> None:
    from .cases import CASES
    from .conftest import ROOT
    from .localaws import DEFAULT_REGION, LocalAccount, LocalStack, MotoServer
    from .synthesis import model_of
    from .terraform import terraform_env

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        moto = MotoServer(root / "moto.log")
        try:
            text = (ROOT / "routes.yaml").read_text()
            stack = LocalStack(root, moto, terraform_env(root), model_of(text).region or DEFAULT_REGION)
            localise = LocalAccount.create(moto, stack.region, text).localise
            stack.synth(localise(text))
            stack.terraform.init()
            stack.terraform.apply()
            for case in cases:
                stack.synth(localise(CASES[case][0](text)))
                stack.terraform.run("plan", "-input=false", "-out=tfplan")
                plan = json.loads(stack.terraform.run("show", "-json", "tfplan").stdout)
                (out / f"{case}.json").write_text(json.dumps(trim(plan), indent=1, sort_keys=True) + "\n")
                print(f"recorded {case}", file=sys.stderr)
        finally:
            moto.stop()


if __name__ == "__main__":
    from .conftest import ROOT as _ROOT
    record(sys.argv[1:] or list(PLAN_CASES), _ROOT / "tests" / "review" / "plans")
