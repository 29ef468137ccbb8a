"""Colour for a terminal, and only there: never when NO_COLOR is set, never into a pipe, a file or a dumb terminal.

NO_COLOR (https://no-color.org/): "Command-line software which adds ANSI color to its output by default should
check for a NO_COLOR environment variable that, when present and not an empty string (regardless of its value),
prevents the addition of ANSI color." Colour marks only what the tool itself writes (a severity, a verdict); the
text it colours has already been made visible (core.text.visible), so no escape of the user's reaches a terminal.
"""

from __future__ import annotations

import os
import re
from typing import TextIO

RED, YELLOW, GREEN, BOLD = "31", "33", "32", "1"
_SEVERITY = re.compile(r"^(\S.*?: )(error|warning)( [EW]\d{3}: )", re.MULTILINE)


def enabled(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def paint(text: str, code: str, stream: TextIO) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if enabled(stream) else text


def diagnostics(rendered: str, stream: TextIO) -> str:
    """`file:line:col: error E123: ...` lines with the severity coloured (errors red, warnings yellow)."""
    if not enabled(stream):
        return rendered
    return _SEVERITY.sub(lambda m: m.group(1) + paint(m.group(2), RED if m.group(2) == "error" else YELLOW, stream)
                         + m.group(3), rendered)
