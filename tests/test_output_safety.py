"""synth replaces its output directory: it must only ever replace its own, and never lose it or Terraform's files.

Most tests drive the swap (`synth.replace_output`) with a fake generator, in-process or in a small subprocess
that a test kills for real at each step named by the CLOUDMAP_ROUTES_TEST_PAUSE_AT hook. The CLI refusals, two
kills, SIGTERM and one concurrency test run the real `main.py synth`.
"""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from compiler.terraform import synth

from .conftest import ROOT
from .helpers import process_group as group

STACK = os.path.join("stacks", "routes")
# A synth with a fake generator: argv = OUT CONTENT; FAKE_NO_EXCHANGE=1 forces the three-rename fallback.
FAKE = """
import os, sys, time
from compiler.terraform import synth
if os.environ.get("FAKE_NO_EXCHANGE"):
    synth._exchange = lambda a, b: False
def generate(work):
    time.sleep(float(os.environ.get("FAKE_SLEEP", "0")))
    os.makedirs(os.path.join(work, "stacks", "routes"))
    with open(os.path.join(work, "stacks", "routes", "cdk.tf.json"), "w") as f:
        f.write(sys.argv[2])
synth.replace_output(sys.argv[1], generate, os.path.join("stacks", "routes"))
"""


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def cli(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True, cwd=cwd,
                          env=env(), timeout=120)


def tree(path: pathlib.Path) -> dict[str, str]:
    """Every entry under `path` (hidden ones too) -> its content, link target or "dir"."""
    found = {}
    for item in sorted(path.rglob("*")):
        key = str(item.relative_to(path))
        found[key] = ("-> " + os.readlink(item) if item.is_symlink() else "dir" if item.is_dir()
                      else item.read_text())
    return found


def owned_output(out: pathlib.Path, content: str = "old") -> pathlib.Path:
    """An output as synth leaves it, after `terraform init` added its working files."""
    stack = out / STACK
    (stack / ".terraform" / "providers").mkdir(parents=True)
    (out / synth.MARKER).write_text(synth.MARKER_TEXT)
    (stack / "cdk.tf.json").write_text(content)
    (stack / ".terraform" / "providers" / "terraform-provider-aws").write_text("provider binary")
    (stack / ".terraform" / "providers" / "current").symlink_to("terraform-provider-aws")
    (stack / ".terraform.lock.hcl").write_text("lock")
    (stack / "terraform.tfstate.d" / "staging").mkdir(parents=True)
    (stack / "terraform.tfstate.d" / "staging" / "terraform.tfstate").write_text("workspace state")
    return out


def assert_whole(out: pathlib.Path, contents: tuple[str, ...]) -> str:
    """`out` is a complete output (one of `contents`) with every Terraform file intact; return its content."""
    stack = out / STACK
    assert synth.is_owned(str(out))
    assert (stack / "cdk.tf.json").read_text() in contents
    assert (stack / ".terraform" / "providers" / "terraform-provider-aws").read_text() == "provider binary"
    assert os.readlink(stack / ".terraform" / "providers" / "current") == "terraform-provider-aws"
    assert (stack / ".terraform.lock.hcl").read_text() == "lock"
    assert (stack / "terraform.tfstate.d" / "staging" / "terraform.tfstate").read_text() == "workspace state"
    return (stack / "cdk.tf.json").read_text()


def fake_replace(out: pathlib.Path, content: str) -> None:
    def generate(work: str) -> None:
        os.makedirs(os.path.join(work, STACK))
        pathlib.Path(work, STACK, "cdk.tf.json").write_text(content)
    synth.replace_output(str(out), generate, STACK)


def paused(args: list[str], step: str, **extra: str) -> subprocess.Popen:
    """Start a process in its own group and return once it is paused at `step`."""
    process = subprocess.Popen(args, cwd=ROOT, env=env(CLOUDMAP_ROUTES_TEST_PAUSE_AT=step, **extra),
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    seen = []
    for line in process.stderr:
        seen.append(line)
        if line.strip() == f"cloudmap-routes: paused at {step}":
            return process
    process.wait()
    pytest.fail(f"never paused at {step}: exit {process.returncode}\n{''.join(seen)}")


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL what we started (a killed Python leaves jsii's node behind for a while)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


# --- ownership: only a directory synth created is ever replaced ---------------------------------------------

@pytest.mark.parametrize("case", ["cwd", "non-empty", "symlink", "file", "under-a-file", "marker-is-a-link"])
def test_refusals_touch_nothing_and_say_how_to_fix(case, tmp_path):
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main")
    (project / "routes.yaml").write_text((ROOT / "routes.yaml").read_text())
    owned_output(project / "real.out")
    (project / "notes.txt").write_text("mine")
    (project / "linked.out").symlink_to("real.out")
    (project / "foreign").mkdir()
    (project / "foreign" / synth.MARKER).symlink_to(project / "real.out" / synth.MARKER)
    out, expected = {"cwd": (".", "is not empty and synth did not create it"),
                     "non-empty": (str(project), "is not empty and synth did not create it"),
                     "symlink": ("linked.out", "is a symbolic link"),
                     "file": ("notes.txt", "is a file, not a directory"),
                     "under-a-file": ("notes.txt/x", "notes.txt is not a directory"),
                     "marker-is-a-link": ("foreign", "is not empty and synth did not create it")}[case]
    before = tree(tmp_path)
    result = cli("synth", "routes.yaml", "--out", out, cwd=project)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"main.py: error: output directory '{out}'"), result.stderr
    assert expected in result.stderr and "--out" in result.stderr
    assert "Traceback" not in result.stderr
    assert tree(tmp_path) == before  # not even a lock file


@pytest.mark.parametrize("stack", ["", "../../e", "1routes", "a" * 65, "routes/x"])
def test_bad_stack_names_are_refused(stack, tmp_path):
    result = cli("synth", "routes.yaml", "--out", str(tmp_path / "out"), "--stack", stack)
    assert result.returncode == 2
    assert "argument --stack: stack name" in result.stderr and "starting with a letter" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(synth.OutputError):  # the library entry point refuses too
        synth.synthesize(None, str(tmp_path / "out"), stack)


def test_an_empty_directory_is_adopted_and_marked(tmp_path):
    (tmp_path / "out").mkdir()
    fake_replace(tmp_path / "out", "new")
    assert (tmp_path / "out" / STACK / "cdk.tf.json").read_text() == "new"
    assert synth.is_owned(str(tmp_path / "out"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_terraform_files_survive_as_links_and_siblings_are_left_alone(tmp_path):
    out = owned_output(tmp_path / "out")
    (tmp_path / "out.old").mkdir()  # a user's directory with the name the old code deleted without a word
    (tmp_path / "out.old" / "keep.txt").write_text("mine")
    provider = out / STACK / ".terraform" / "providers" / "terraform-provider-aws"
    inode = provider.stat().st_ino
    fake_replace(out, "new")
    assert assert_whole(out, ("new",)) == "new"
    assert provider.stat().st_ino == inode  # hard-linked: a provider binary is not copied
    assert tree(tmp_path / "out.old") == {"keep.txt": "mine"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out.old"]


def test_leftovers_are_swept_only_when_they_are_ours(tmp_path):
    out = owned_output(tmp_path / "out")

    def make(name: str, marker: bool = True, content: bool = True) -> None:
        (tmp_path / name).mkdir()
        if marker:
            (tmp_path / name / synth.MARKER).write_text(synth.MARKER_TEXT)
        if content:
            (tmp_path / name / "stacks").mkdir()
    ours = [".synth-out.0123abcd", ".synth-out.0123abce.trash", ".synth-out.0123abcf.ready"]
    for name in ours:
        make(name)
    make(".synth-out.deadbeef", content=False, marker=False)  # killed before it wrote the marker: empty
    theirs = [".synth-out.0123abc0", ".synth-other.0123abcd", ".synth-out.xyz", ".synth-out.0123abcd.old",
              ".synth-out.0123abcd.ready.x"]
    make(theirs[0], marker=False)
    for name in theirs[1:]:
        make(name)
    (tmp_path / ".synth-out.11111111").symlink_to(".synth-other.0123abcd")  # a link to an owned tree
    theirs.append(".synth-out.11111111")
    before = {name: tree(tmp_path / name) for name in theirs}
    fake_replace(out, "new")
    assert_whole(out, ("new",))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out", *theirs])
    assert {name: tree(tmp_path / name) for name in theirs} == before


# --- SIGKILL at every step of the swap -----------------------------------------------------------------------

EXCHANGE_STEPS = ["locked", "generated", "carried", "exchanged", "removing"]
FALLBACK_STEPS = ["locked", "generated", "carried", "ready", "set-aside", "removing"]


def test_this_machine_exchanges_directories_atomically(tmp_path):
    """The exchange-mode kill tests below are only meaningful where RENAME_EXCHANGE works."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "from-a").touch()
    assert synth._exchange(str(tmp_path / "a"), str(tmp_path / "b"))
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["from-a"]


@pytest.mark.parametrize("mode,step", [("exchange", s) for s in EXCHANGE_STEPS] +
                         [("fallback", s) for s in FALLBACK_STEPS])
def test_sigkill_at_any_step_leaves_a_whole_output_and_the_next_synth_recovers(mode, step, tmp_path):
    out = owned_output(tmp_path / "out")
    extra = {"FAKE_NO_EXCHANGE": "1"} if mode == "fallback" else {}
    process = paused([sys.executable, "-c", FAKE, str(out), "new"], step, **extra)
    kill_group(process)
    if step == "set-aside":  # the fallback's one window: `out` is missing, the old output is set aside whole
        assert not out.exists()
        [retired] = tmp_path.glob(".synth-out.*.retired")
        assert_whole(retired, ("old",))
    else:
        expected = ("new",) if step in ("exchanged", "removing") else ("old",)
        assert_whole(out, expected)
    again = subprocess.run([sys.executable, "-c", FAKE, str(out), "newer"], cwd=ROOT, env=env(**extra),
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert assert_whole(out, ("newer",)) == "newer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("step", ["carried", "exchanged"])
def test_sigkill_of_the_real_synth(step, tmp_path):
    out = owned_output(tmp_path / "cdktf.out")
    process = paused([sys.executable, "main.py", "synth", "routes.yaml", "--engine", "cdktf", "--out", str(out)], step)
    kill_group(process)
    if step == "carried":
        assert_whole(out, ("old",))
    else:
        assert '"aws_apigatewayv2_api"' in assert_whole(out, ((out / STACK / "cdk.tf.json").read_text(),))
    assert len(list(tmp_path.glob(".synth-cdktf.out.*"))) == 1  # the killed run's work (or old) tree
    result = cli("synth", "routes.yaml", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert '"aws_apigatewayv2_api"' in assert_whole(out, ((out / STACK / "cdk.tf.json").read_text(),))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


# --- SIGTERM: no orphaned node, no leftovers -------------------------------------------------------------------

@pytest.mark.parametrize("when", ["paused after generating", "while jsii works"])
def test_sigterm_stops_jsii_node_and_leaves_the_output_as_it_was(when, tmp_path):
    out = owned_output(tmp_path / "cdktf.out")
    before = tree(tmp_path)
    argv = [sys.executable, "main.py", "synth", "routes.yaml", "--engine", "cdktf", "--out", str(out)]
    if when == "paused after generating":
        process = paused(argv, "generated")
    else:
        process = subprocess.Popen(argv, cwd=ROOT, env=env(), stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)
        deadline = time.monotonic() + 60
        while not any(p.endswith(" node") for p in group(process.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # node is loading the provider bindings now (that takes over a second)
    assert any(p.endswith(" node") for p in group(process.pid)), "jsii's node never started"
    try:
        process.send_signal(signal.SIGTERM)  # to Python alone, as `kill PID` or a supervisor does
        stderr = process.communicate(timeout=60)[1]
        # At once: without the handler node notices the closed pipe only ~0.1 s later (seconds if it is busy).
        assert group(process.pid) == [], "jsii's node outlived the synth it served"
    finally:
        kill_group(process)
    assert process.returncode == 143, stderr
    assert f"main.py: error: interrupted by SIGTERM; {out} left as it was" in stderr
    assert "Traceback" not in stderr
    assert tree(tmp_path) == before  # the work directory is gone, the old output untouched


def test_sigterm_waits_while_files_are_written_and_during_the_swap(tmp_path, monkeypatch):
    """In-process: SIGTERM inside a deferred block (cdktf writing files, the swap) takes effect right after it."""
    out = owned_output(tmp_path / "out")
    handler = signal.getsignal(signal.SIGTERM)

    def generate(work: str) -> None:
        with synth._sigterm_deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler has run by now, and only parked the exception
            os.makedirs(os.path.join(work, STACK))
            pathlib.Path(work, STACK, "cdk.tf.json").write_text("new")
            written.append(work)
    written: list[str] = []
    with pytest.raises(synth.Terminated) as caught, synth._sigterm_raises(str(out)):
        synth.replace_output(str(out), generate, STACK)
    assert written and not caught.value.replaced
    assert assert_whole(out, ("old",)) == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]

    exchange = synth._exchange

    def exchange_after_sigterm(a: str, b: str) -> bool:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
        return exchange(a, b)
    monkeypatch.setattr(synth, "_exchange", exchange_after_sigterm)
    with pytest.raises(synth.Terminated) as caught, synth._sigterm_raises(str(out)):
        fake_replace(out, "new")
    assert caught.value.replaced
    assert str(caught.value) == f"interrupted by SIGTERM; {out} holds the new output"
    assert assert_whole(out, ("new",)) == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert signal.getsignal(signal.SIGTERM) == handler  # put back as it was


# --- concurrency -------------------------------------------------------------------------------------------------

def test_concurrent_fake_synths_take_turns(tmp_path):
    out = owned_output(tmp_path / "out")

    def start(i: int, sleep: str) -> subprocess.Popen:
        extra = {"FAKE_NO_EXCHANGE": "1"} if i % 2 else {}  # the fallback's renames interleave worst
        return subprocess.Popen([sys.executable, "-c", FAKE, str(out), f"run {i}"], cwd=ROOT,
                                env=env(FAKE_SLEEP=sleep, **extra), stderr=subprocess.PIPE, text=True)
    processes = [start(0, "2")]
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".synth-out.*")) and time.monotonic() < deadline:
        time.sleep(0.02)  # the first one holds the lock now, generating for 2 s
    processes += [start(i, "0.1") for i in range(1, 4)]
    results = [(p.wait(timeout=60), p.stderr.read()) for p in processes]
    assert [rc for rc, _ in results] == [0] * 4, results
    assert sum("waiting for another synth" in err for _, err in results) >= 1
    assert_whole(out, tuple(f"run {i}" for i in range(4)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_two_real_synths_into_one_directory(tmp_path):
    out = owned_output(tmp_path / "cdktf.out")
    argv = [sys.executable, "main.py", "synth", "routes.yaml", "--engine", "cdktf", "--out", str(out)]
    processes = [subprocess.Popen(argv, cwd=ROOT, env=env(), stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in processes]
    assert [rc for rc, _ in results] == [0, 0], results
    assert sum("waiting for another synth" in err for _, err in results) == 1, results
    assert '"aws_apigatewayv2_api"' in assert_whole(out, ((out / STACK / "cdk.tf.json").read_text(),))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


# The holder removes the lock file before releasing it; a waiter that locked the removed file must notice and lock
# the new one. Each run increments a counter under the lock without any atomicity of its own (read, pause,
# write): two holders at once would lose an increment.
COUNTER = """
import os, sys, time
from compiler.terraform import synth
out, counter = sys.argv[1], sys.argv[2]
parent, name = os.path.split(os.path.abspath(out))
for _ in range(int(sys.argv[3])):
    with synth._locked(out, parent, name):
        with open(counter) as f:
            n = int(f.read())
        time.sleep(0.002)
        with open(counter, "w") as f:
            f.write(str(n + 1))
"""


def test_the_lock_file_is_removed_and_still_admits_one_synth_at_a_time(tmp_path):
    counter = tmp_path / "counter"
    counter.write_text("0")
    runs, rounds = 6, 40
    processes = [subprocess.Popen([sys.executable, "-c", COUNTER, str(tmp_path / "out"), str(counter), str(rounds)],
                                  cwd=ROOT, env=env(), stderr=subprocess.PIPE, text=True) for _ in range(runs)]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in processes]
    assert [rc for rc, _ in results] == [0] * runs, results
    assert counter.read_text() == str(runs * rounds)  # no increment lost: never two holders
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter"]  # and no lock file left behind
