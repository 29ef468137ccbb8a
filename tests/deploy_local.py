"""`make deploy-local`: start a local AWS and `cdktf deploy` routes.yaml into it, with every setting it needs.

    python -m tests.deploy_local [--file routes.yaml] [--env NAME] [--exit]

1. The local AWS: moto's server (tests/moto_launcher.py, as strict as AWS where our resources depend on it) on
   127.0.0.1, on a free port. Nothing here talks to anything but that address.
2. What routes.yaml expects to exist already (VPC, subnets, security group, KMS key, certificate, Lambda
   authorizer; tests/localaws.LocalAccount, plus any other vpc-/subnet-/sg- ids the file names) is created there,
   and a copy of routes.yaml with the real ids is written to .local-aws/routes.yaml; account guards
   (`allowed_account_ids`) name the local AWS's account, 123456789012.
3. .local-aws/ becomes a small cdktf project whose app is this checkout's `main.py synth routes.yaml`, and the cdktf
   CLI runs `deploy <stack> --auto-approve` there with the settings below (LOCAL_SETTINGS, printed for reuse).
   Everything stays in .local-aws/ (output, state), never in the project's own cdktf.out or state files.
4. The local AWS keeps running (Ctrl-C stops it) so that `cdktf diff`, `status` and `serve` can be tried against
   it; `--exit` stops it at once (tests, CI).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import shlex
import shutil
import signal
import subprocess
import sys

from .localaws import DEFAULT_REGION, LocalAccount, MotoServer

ROOT = pathlib.Path(__file__).resolve().parent.parent
CDKTF = ROOT / ".cdktf-cli" / "node_modules" / ".bin" / "cdktf"
WORK = ROOT / ".local-aws"
MARKER = ".cloudmap-routes-local"  # a directory carrying it is ours to empty on the next run
LOCAL_ACCOUNT = "123456789012"  # moto's account: what STS GetCallerIdentity answers


def local_settings(moto_url: str, tfrc: pathlib.Path | None) -> dict[str, str]:
    """What the cdktf CLI (and the Terraform it runs) needs to deploy into the local AWS, without a terminal."""
    settings = {
        "CLOUDMAP_ROUTES_LOCAL_AWS": moto_url,  # synth: every AWS endpoint of the provider at the local AWS
        "CHECKPOINT_DISABLE": "1",  # Terraform and cdktf: no version check over the network
        "CDKTF_SKIP_PROVIDER_LOCK": "true",  # cdktf: no `terraform providers lock` (it asks the registry)
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",  # jsii: no Node 20 banner on every synth
        "CI": "1",  # cdktf: no interactive UI
    }
    if tfrc is not None:
        settings["TF_CLI_CONFIG_FILE"] = str(tfrc)  # hashicorp/aws from this machine's provider mirror
    return settings


def localise(moto: MotoServer, region: str, text: str) -> str:
    """routes.yaml with every placeholder replaced by something that exists in the local AWS."""
    replacements = dict(LocalAccount.create(moto, region, text).replacements)
    ec2 = moto.client("ec2", region)
    extra_vpc = None
    for n, vpc in enumerate(sorted(set(re.findall(r"\bvpc-[0-9a-f]{8,17}\b", text)) - set(replacements)), start=1):
        replacements[vpc] = ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16")["Vpc"]["VpcId"]
    for n, subnet in enumerate(sorted(set(re.findall(r"\bsubnet-[0-9a-f]{8,17}\b", text)) - set(replacements))):
        extra_vpc = extra_vpc or ec2.create_vpc(CidrBlock="10.200.0.0/16")["Vpc"]["VpcId"]
        replacements[subnet] = ec2.create_subnet(VpcId=extra_vpc, CidrBlock=f"10.200.{n}.0/24")["Subnet"]["SubnetId"]
    for group in sorted(set(re.findall(r"\bsg-[0-9a-f]{8,17}\b", text)) - set(replacements)):
        extra_vpc = extra_vpc or ec2.create_vpc(CidrBlock="10.200.0.0/16")["Vpc"]["VpcId"]
        replacements[group] = ec2.create_security_group(GroupName=f"vpc-link-{group}", Description="VPC link",
                                                        VpcId=extra_vpc)["GroupId"]
    for placeholder in sorted(replacements, key=len, reverse=True):
        text = text.replace(placeholder, replacements[placeholder])
    # Account guards: the local AWS is one account. (ARNs keep theirs: `(?<!:)` skips arn:...:ACCOUNT:...)
    return re.sub(r"(?<![:\d])\d{12}(?!\d)", LOCAL_ACCOUNT, text)


def region_of(text: str, environment: str | None) -> str:
    from compiler.language import compile_stacks_text
    stacks, _ = compile_stacks_text(text, environments=[environment] if environment else None)
    return (stacks[0][1].region if stacks else None) or DEFAULT_REGION


def prepare(work: pathlib.Path, moto: MotoServer, text: str, environment: str | None) -> dict[str, str]:
    """Make `work` a cdktf project that deploys `text` into `moto`; return the environment to run cdktf with."""
    from .terraform import terraform_env
    (work / "routes.yaml").write_text(localise(moto, region_of(text, environment), text))
    app = f"{shlex.quote(sys.executable)} {shlex.quote(str(ROOT / 'main.py'))} synth routes.yaml"
    (work / "cdktf.json").write_text(json.dumps({
        "language": "python", "app": app, "projectId": "cloudmap-routes-local", "sendCrashReports": "false",
        "terraformProviders": [], "terraformModules": [], "codeMakerOutput": "imports", "context": {}}, indent=2) + "\n")
    env = terraform_env(work)  # writes work/terraform.tfrc when this machine has a provider mirror
    tfrc = work / "terraform.tfrc" if (work / "terraform.tfrc").exists() else None
    return {**env, **local_settings(moto.url, tfrc), "PYTHONPATH": str(ROOT)}


def fresh(work: pathlib.Path) -> None:
    """Empty `work` for a new run (the local AWS starts empty, so old state would describe nothing)."""
    if work.exists():
        if not (work / MARKER).exists():
            raise SystemExit(f"{work} exists and was not made by deploy-local; move it away first")
        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / MARKER).write_text("made by `make deploy-local`; emptied on its next run\n")


def cdktf(env: dict[str, str], work: pathlib.Path, *args: str, capture: bool = False,
          timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(CDKTF), *args], cwd=work, env=env, text=True, timeout=timeout,
                          capture_output=capture, stdin=subprocess.DEVNULL)


def settings_text(env: dict[str, str], moto_url: str) -> str:
    keys = list(local_settings(moto_url, pathlib.Path("x")))
    return "\n".join(f"  export {k}={shlex.quote(env[k])}" for k in keys if k in env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make deploy-local", description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", default="routes.yaml", help="the routes file to deploy (default routes.yaml)")
    parser.add_argument("--env", default=None, help="the environment to deploy, for a file with environments")
    parser.add_argument("--dir", default=str(WORK), help="where the project, output and state go (default .local-aws)")
    parser.add_argument("--exit", action="store_true", help="stop the local AWS right after the deploy")
    args = parser.parse_args(argv)
    if not CDKTF.exists():
        print(f"the cdktf CLI is missing: `make test` (or `make deploy-local`) installs it into {CDKTF.parent}",
              file=sys.stderr)
        return 2
    work = pathlib.Path(args.dir).resolve()
    text = (ROOT / args.file if not os.path.isabs(args.file) else pathlib.Path(args.file)).read_text()
    fresh(work)
    moto = MotoServer(work / "moto.log")
    try:
        env = prepare(work, moto, text, args.env)
        stack = args.env or "routes"
        print(f"local AWS: {moto.url} (moto, log in {work / 'moto.log'})\n"
              f"deploying stack {stack} of {args.file} from {work}, with:\n{settings_text(env, moto.url)}", flush=True)
        result = cdktf(env, work, "deploy", stack, "--auto-approve")
        if result.returncode != 0:
            print(f"cdktf deploy exited {result.returncode}", file=sys.stderr)
            return result.returncode
        print(f"\ndeployed stack {stack} into the local AWS at {moto.url}", flush=True)
        if args.exit:
            return 0
        cli = os.path.relpath(CDKTF, work)
        print(f"\nThe local AWS keeps running; in another terminal:\n  cd {work}\n{settings_text(env, moto.url)}\n"
              f"  {cli} diff {stack}\n  {shlex.quote(sys.executable)} {ROOT / 'main.py'} status routes.yaml "
              f"{'--env ' + args.env + ' ' if args.env else ''}--local-aws {moto.url}\n"
              "Press Ctrl-C to stop it (everything deployed goes with it).", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
        return 0
    finally:
        moto.stop()


if __name__ == "__main__":
    sys.exit(main())
