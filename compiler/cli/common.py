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


def error(text: str) -> None:
    """`main.py: error: ...` on stderr: the one form of a message that stops a command."""
    print(f"{prog()}: error: {text}", file=sys.stderr)


def warning(text: str) -> None:
    print(f"{prog()}: warning: {text}", file=sys.stderr)


def info(text: str) -> None:
    """An informational line (what synth wrote, warnings). On stderr, like every diagnostic, except when the cdktf
    CLI runs us (it sets CDKTF_CONTEXT_JSON): it shows whatever arrives on stderr as [ERROR], so stdout then."""
    print(text, file=sys.stdout if CDKTF_CONTEXT_ENV in os.environ else sys.stderr, flush=True)


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


def add_command(commands, name: str, summary: str, description: str, codes: tuple[tuple[int, str], ...]):
    """A subcommand's parser: `summary` in the command list, `description` (wrapped here) and the exit codes
    (verbatim) in its --help."""
    import argparse
    import textwrap

    return commands.add_parser(name, help=summary, description=textwrap.fill(description, 100),
                               epilog=exit_codes_epilog(*codes), formatter_class=argparse.RawDescriptionHelpFormatter)
