"""What every subcommand shares, as users of terraform, cdktf and checkov expect it: every positional and option
described in --help, the exit codes in each --help's epilog, -q/--quiet, --strict where there are warnings, and
colour only on a terminal and never with NO_COLOR."""

from __future__ import annotations

import argparse
import os
import re
import sys

import pytest

from compiler.cli import common, parser

from .conftest import ROOT
from .helpers import run_main, run_on_a_terminal


def subcommands(top: argparse.ArgumentParser | None = None, prefix: tuple[str, ...] = ()):
    """(name path, parser) of every subcommand, nested ones (`local up`) included."""
    top = top or parser()
    for action in top._actions:  # noqa: SLF001 -- argparse keeps subparsers only here
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for name, sub in action.choices.items():
                yield prefix + (name,), sub
                yield from subcommands(sub, prefix + (name,))


def leaves():
    """The subcommands that run (not `local` itself, which only holds up/down/status)."""
    return [(path, sub) for path, sub in subcommands() if not any(
        isinstance(a, argparse._SubParsersAction) for a in sub._actions)]  # noqa: SLF001


LEAVES = leaves()
IDS = [" ".join(path) for path, _ in LEAVES]


@pytest.mark.parametrize("path, sub", LEAVES, ids=IDS)
def test_every_positional_and_option_is_described(path, sub):
    for action in sub._actions:  # noqa: SLF001
        if isinstance(action, argparse._HelpAction):  # noqa: SLF001
            continue
        assert action.help and action.help != argparse.SUPPRESS, f"{' '.join(path)} {action.dest} has no help"
    assert sub.description, f"{' '.join(path)} has no description"


@pytest.mark.parametrize("path, sub", LEAVES, ids=IDS)
def test_every_subcommand_lists_its_exit_codes(path, sub):
    epilog = sub.epilog or ""
    assert epilog.startswith("exit codes:\n"), f"{' '.join(path)}: no exit codes in --help"
    listed = [int(code) for code in re.findall(r"^  (\d+) ", epilog, re.MULTILINE)]
    assert 0 in listed and 2 in listed or path == ("local", "status")  # ok and usage (status: running or not)
    assert {130, 143} <= set(listed)
    shown = run_main(*path, "--help")
    assert shown.returncode == 0 and "exit codes:\n  0   " in shown.stdout  # not re-wrapped into one line


@pytest.mark.parametrize("path, sub", LEAVES, ids=IDS)
def test_every_subcommand_takes_quiet(path, sub):
    assert {"-q", "--quiet"} <= {s for a in sub._actions for s in a.option_strings}  # noqa: SLF001


def test_exit_code_constants_are_the_documented_ones():
    assert (common.OK, common.INVALID, common.USAGE, common.INTERRUPTED, common.TERMINATED) == (0, 1, 2, 130, 143)


# --- --quiet and --strict ------------------------------------------------------------------------------------------

def test_quiet_drops_the_ok_and_wrote_lines_but_not_warnings_or_errors(tmp_path):
    assert run_main("check", "-q").stderr == ""
    synth = run_main("synth", "--quiet", "--out", str(tmp_path / "out"))
    assert synth.returncode == 0 and synth.stderr == "" and (tmp_path / "out" / "stacks" / "routes").is_dir()
    warned = run_main("check", "-q", "tests/diagnostics/warnings-only.yaml")
    assert warned.returncode == 0 and "warning W402" in warned.stderr and ": ok (" not in warned.stderr
    invalid = run_main("check", "-q", "tests/diagnostics/route-keys.yaml")
    assert invalid.returncode == 1 and "error E300" in invalid.stderr


@pytest.mark.parametrize("argv", [["check"], ["synth", "--out", "{out}"], ["local", "up", "--dir", "{out}"]])
def test_strict_fails_on_warnings_before_anything_is_written_or_started(argv, tmp_path):
    argv = [a.replace("{out}", str(tmp_path / "out")) for a in argv]
    lenient = run_main(*argv, "tests/diagnostics/warnings-only.yaml") if argv[0] == "check" else None
    if lenient is not None:
        assert lenient.returncode == 0
    strict = run_main(*argv, "tests/diagnostics/warnings-only.yaml", "--strict")
    assert strict.returncode == 1, strict.stderr
    assert "6 warning(s), and --strict fails on warnings" in strict.stderr
    assert not (tmp_path / "out").exists()
    clean = run_main(*argv[:1], "--strict", "routes.yaml") if argv[0] == "check" else None
    if clean is not None:
        assert clean.returncode == 0


# --- colour ----------------------------------------------------------------------------------------------------------

def on_a_terminal(argv: list[str], **env: str) -> str:
    """Run main.py with stderr (and stdout) on a pseudo-terminal; return what it wrote."""
    env = {**{k: v for k, v in os.environ.items() if k != "NO_COLOR"}, "PYTHONPATH": str(ROOT), "TERM": "xterm", **env}
    return run_on_a_terminal([sys.executable, str(ROOT / "main.py"), *argv], ROOT, env, 60)[1]


WARNINGS = ["check", "tests/diagnostics/warnings-only.yaml"]


def test_on_a_terminal_severities_are_coloured():
    shown = on_a_terminal(WARNINGS)
    assert ": \x1b[33mwarning\x1b[0m W402: " in shown
    assert ": \x1b[31merror\x1b[0m E300: " in on_a_terminal(["check", "tests/diagnostics/route-keys.yaml"])
    assert "main.py: \x1b[31merror\x1b[0m: --local-aws" in on_a_terminal(["synth", "--local-aws", "http://10.0.0.1:1"])


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"NO_COLOR": "anything"}, {"TERM": "dumb"}])
def test_no_colour_with_no_color_or_a_dumb_terminal(env):
    shown = on_a_terminal(WARNINGS, **env)
    assert "warning W402" in shown and "\x1b[" not in shown


def test_an_empty_no_color_does_not_turn_colour_off():
    assert "\x1b[33mwarning\x1b[0m" in on_a_terminal(WARNINGS, NO_COLOR="")  # "present and not an empty string"


def test_no_colour_into_a_pipe():
    piped = run_main(*WARNINGS)
    assert "warning W402" in piped.stderr and "\x1b[" not in piped.stderr + piped.stdout
