"""What every subcommand shares: defaults, the one error prefix, the exit codes, and argument checks.

Exit codes (every subcommand): 0 done (warnings allowed), 1 the input is invalid or the check failed, 2 a usage
error (an argument refused before anything ran), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).

The program's name in messages is the name it was run by: `main.py` from a checkout (`python main.py`, what
`cdktf synth` runs and what the tests pin), `cloudmap-routes` for the installed console script (set_prog).
"""

from __future__ import annotations

import os
import re
import sys

from ..core import colour

PROG = "main.py"  # the checkout's entry point; the console script runs as CONSOLE_PROG
CONSOLE_PROG = "cloudmap-routes"
DEFAULT_FILE = "routes.yaml"
DEFAULT_OUT = "cdktf.out"
DEFAULT_STACK = "routes"
LOCAL_AWS_ENV = "CLOUDMAP_ROUTES_LOCAL_AWS"
CDKTF_CONTEXT_ENV = "CDKTF_CONTEXT_JSON"  # set by the cdktf CLI for the app it runs (cdktf.json's `app`)

OK, INVALID, USAGE, INTERRUPTED, TERMINATED = 0, 1, 2, 130, 143
_program = [PROG]  # the name messages start with; one element, set once per run by the entry point


def set_prog(name: str) -> None:
    _program[0] = name


def prog() -> str:
    return _program[0]


class Run:
    """What every subcommand's shared options say for this run (main sets it from the arguments): --quiet drops
    informational lines (what was written, `ok`, progress); errors, warnings and the command's data remain."""

    quiet = False


def configure(args) -> None:
    Run.quiet = bool(getattr(args, "quiet", False))


def error(text: str) -> None:
    """`main.py: error: ...` on stderr: the one form of a message that stops a command."""
    print(f"{prog()}: {colour.paint('error', colour.RED, sys.stderr)}: {text}", file=sys.stderr)


def warning(text: str) -> None:
    print(f"{prog()}: {colour.paint('warning', colour.YELLOW, sys.stderr)}: {text}", file=sys.stderr)


def _info_stream():
    """stderr, like every diagnostic, except when the cdktf CLI runs us (it sets CDKTF_CONTEXT_JSON): it shows
    whatever arrives on stderr as [ERROR], so stdout then."""
    return sys.stdout if CDKTF_CONTEXT_ENV in os.environ else sys.stderr


def info(text: str) -> None:
    """An informational line (what synth wrote); --quiet drops it."""
    if not Run.quiet:
        print(text, file=_info_stream(), flush=True)


def report(diagnostics, to_info: bool = False) -> None:
    """Diagnostics as `file:line:col: severity CODE: ...` lines, severities coloured on a terminal. On stderr,
    or where info lines go (`to_info`, for warnings of a command the cdktf CLI may run); never dropped by --quiet."""
    from ..core.diagnostics import render_text

    stream = _info_stream() if to_info else sys.stderr
    print(colour.diagnostics(render_text(diagnostics), stream), file=stream, flush=True)


def strict_failure(file: str, warnings: int, consequence: str) -> None:
    """The one message of --strict refusing a run for its warnings."""
    print(f"{file}: {warnings} warning(s), and --strict fails on warnings; {consequence}", file=sys.stderr)


def local_aws(flag: str | None) -> tuple[str | None, str]:
    """The local AWS endpoint (--local-aws, else $CLOUDMAP_ROUTES_LOCAL_AWS) and what is wrong with it, if anything."""
    url = flag or os.environ.get(LOCAL_AWS_ENV) or None
    return url, (url and local_endpoint_problem(url, "--local-aws" if flag else LOCAL_AWS_ENV)) or ""


def local_endpoint_problem(url: str, source: str = "--local-aws") -> str:
    """Local mode exists for an emulator on this machine; refuse anything that could reach elsewhere.

    The URL goes verbatim into the provider's endpoints (Terraform JSON), so it must be exactly
    http(s)://HOST:PORT or http(s)://HOST:PORT/ with HOST 127.0.0.1, localhost or [::1] and a port 1-65535:
    no userinfo, path, query, fragment, Terraform interpolation (`${`, `%{`), whitespace or control characters.
    """
    allowed = "only http(s)://HOST:PORT with HOST 127.0.0.1, localhost or [::1] and a port 1-65535 is allowed"
    if not url.isascii() or not url.isprintable() or " " in url:
        return f"{source} {url!r}: whitespace, control and non-ASCII characters are not allowed; {allowed}"
    if "${" in url or "%{" in url:
        return f"{source} {url!r}: Terraform interpolation (${{ or %{{) is not allowed; {allowed}"
    match = re.fullmatch(r"https?://(?:127\.0\.0\.1|localhost|\[::1\]):([1-9][0-9]{0,4})/?", url)
    if not match or int(match.group(1)) > 65535:
        return f"{source} {url!r}: {allowed}"
    return ""


EXIT_MEANINGS = {INTERRUPTED: "interrupted (Ctrl-C)", TERMINATED: "terminated (SIGTERM)"}


def exit_codes_epilog(*codes: tuple[int, str]) -> str:
    """The `exit codes:` block of a subcommand's --help: its own codes, then the two every command shares."""
    listed = [*codes, *((code, meaning) for code, meaning in EXIT_MEANINGS.items() if code not in dict(codes))]
    return "exit codes:\n" + "\n".join(f"  {code:<4}{meaning}" for code, meaning in listed)


def add_command(commands, name: str, summary: str, description: str, codes: tuple[tuple[int, str], ...],
                strict: str = "", quiet: bool = True):
    """A subcommand's parser: `summary` in the command list, `description` (wrapped here) and the exit codes
    (verbatim) in its --help; `-q/--quiet` (unless quiet=False), and `--strict` when `strict` says what it does."""
    import argparse
    import textwrap

    parser = commands.add_parser(name, help=summary, description=textwrap.fill(description, 100),
                                 epilog=exit_codes_epilog(*codes), formatter_class=argparse.RawDescriptionHelpFormatter)
    if quiet:
        parser.add_argument("-q", "--quiet", action="store_true",
                            help="print only errors, warnings and the command's own output (no progress, no "
                                 "`wrote`/`ok` lines)")
    if strict:
        parser.add_argument("--strict", action="store_true", help=f"warnings fail the run (exit 1): {strict}")
    return parser
