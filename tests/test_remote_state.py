"""Remote state, proved: the S3 backend synth writes (`--state s3://BUCKET/KEY`: encrypted, S3-native locking with
`use_lockfile`) initialises, applies and locks for real against the local AWS's S3 (moto's server on 127.0.0.1).

In local mode the backend gets the same loopback endpoint as the provider, path-style addressing, test credentials
and no STS, IMDS or region checks (plan.local_s3_backend); without local mode it gets none of them
(tests/test_review_hardening.py pins both shapes).

The lock is held by Terraform itself: an `apply` of a pending change that waits at its confirmation prompt, on a
pipe this test controls, which is what a teammate's unconfirmed apply looks like. A second `plan` must then fail with
Terraform's lock error, and the lock a killed apply leaves behind must be cleared by `terraform force-unlock`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time

import pytest

from .conftest import ROOT
from .localaws import DEFAULT_REGION, LocalAccount, MotoServer
from .synthesis import model_of
from .terraform import Terraform

BUCKET, KEY = "team-tf-state", "routes/static-api.tfstate"
LOCK_KEY = KEY + ".tflock"  # the object the S3 backend's use_lockfile writes with If-None-Match: *
EXTRA_ROUTE = "\n  - route: GET /zone-a\n    service: kv\n    filter: {zone: a}\n    public: true\n"


class S3Stack:
    """examples/http-static.yaml synthesized in local mode with S3 state, in its own directory."""

    def __init__(self, root, moto: MotoServer, env: dict[str, str]) -> None:
        text = (ROOT / "examples" / "http-static.yaml").read_text()
        self.region = model_of(text).region or DEFAULT_REGION
        self.text = LocalAccount.create(moto, self.region, text).localise(text)
        self.root, self.moto = root, moto
        self.s3 = moto.client("s3", self.region)
        self.terraform = Terraform(root / "cdktf.out" / "stacks" / "routes", env)

    def synth(self, text: str) -> None:
        from compiler.terraform.synth import synthesize
        synthesize(model_of(text), str(self.root / "cdktf.out"), "routes", local_endpoint=self.moto.url,
                   state=f"s3://{BUCKET}/{KEY}", engine="direct")

    def keys(self) -> list[str]:
        return sorted(o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


@pytest.fixture(scope="module")
def stack(tmp_path_factory, moto, tf_env):
    stack = S3Stack(tmp_path_factory.mktemp("remote-state"), moto, tf_env)
    stack.s3.create_bucket(Bucket=BUCKET)  # the state bucket exists before the first init, as in an account
    stack.synth(stack.text)
    stack.terraform.init()
    stack.terraform.apply()
    return stack


def test_apply_keeps_the_state_in_the_bucket_encrypted(stack):
    assert stack.keys() == [KEY]
    state = json.loads(stack.s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read())
    assert "aws_apigatewayv2_api" in {r["type"] for r in state["resources"]}
    assert stack.s3.head_object(Bucket=BUCKET, Key=KEY)["ServerSideEncryption"] == "AES256"  # `encrypt = true`
    # No state file anywhere (.terraform/terraform.tfstate is init's record of the backend settings, not state).
    assert [p for p in stack.root.rglob("*.tfstate*") if ".terraform" not in p.parts] == []
    settings = json.loads((stack.terraform.workdir / ".terraform" / "terraform.tfstate").read_text())
    assert settings["backend"]["type"] == "s3"
    assert stack.terraform.plan_changes() == []  # a fresh plan reads it back: nothing to do


class Holder:
    """`terraform apply` of a pending change, waiting at its prompt with the state lock held (until killed)."""

    def __init__(self, terraform: Terraform) -> None:
        # Its own process group: killing it takes the provider plugins it started along.
        self.process = subprocess.Popen(["terraform", "apply", "-no-color"], cwd=terraform.workdir, env=terraform.env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, start_new_session=True)
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for char in iter(lambda: self.process.stdout.read(1), ""):
            self.output.append(char)

    def wait_for_prompt(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while "Enter a value:" not in "".join(self.output):
            assert self.process.poll() is None, "".join(self.output)
            assert time.monotonic() < deadline, "".join(self.output)
            time.sleep(0.1)

    def kill(self) -> None:
        """What a CI runner that dies mid-apply does: no chance to release the lock."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def test_a_second_plan_fails_on_the_lock_and_force_unlock_clears_a_stale_one(stack):
    stack.synth(stack.text + EXTRA_ROUTE)
    holder = Holder(stack.terraform)
    try:
        holder.wait_for_prompt()
        assert "Plan: 2 to add, 0 to change, 0 to destroy." in "".join(holder.output)
        assert stack.keys() == [KEY, LOCK_KEY]
        lock = json.loads(stack.s3.get_object(Bucket=BUCKET, Key=LOCK_KEY)["Body"].read())
        assert lock["Operation"] == "OperationTypeApply" and lock["Path"] == f"{BUCKET}/{KEY}"

        second = stack.terraform.run("plan", "-input=false", "-lock-timeout=0s", ok=(1,))
        assert "Error acquiring the state lock" in second.stderr
        assert f"ID:        {lock['ID']}" in second.stderr  # the id force-unlock needs is in the message

        holder.kill()
        assert stack.keys() == [KEY, LOCK_KEY]  # a killed apply leaves its lock behind
        assert "Error acquiring the state lock" in stack.terraform.run(
            "plan", "-input=false", "-lock-timeout=0s", ok=(1,)).stderr
    finally:
        holder.kill()

    unlocked = stack.terraform.run("force-unlock", "-force", lock["ID"])
    assert "successfully unlocked" in unlocked.stdout
    assert stack.keys() == [KEY]
    # Unlocked, plans work again; the killed apply changed nothing: the route it was about to add is still pending.
    assert sorted(stack.terraform.plan_changes()) == [("aws_apigatewayv2_integration.get_zone_a", ("create",)),
                                                      ("aws_apigatewayv2_route.get_zone_a", ("create",))]
