"""Text a person reads, made safe: nothing a terminal acts on, nothing Markdown gives a meaning to."""

from __future__ import annotations

import string
import unicodedata

_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})  # controls, format (bidi, zero-width), surrogates, separators
_PUNCTUATION = frozenset(string.punctuation)


def visible(text: str) -> str:
    r"""Control and invisible characters as escapes (`\x1b`, `\n`, `\u202e`): nothing a terminal acts on."""
    if text.isascii() and text.isprintable():
        return text
    out = []
    for ch in text:
        if ch in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[ch])
        elif unicodedata.category(ch) in _INVISIBLE:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def markdown(text: str) -> str:
    """Text that GitHub renders as exactly that text, in a paragraph, a list item or a table cell.

    Every ASCII punctuation character is backslash-escaped (CommonMark renders `\\X` as X for all of them), so no
    emphasis, link, image, HTML tag, entity, code span, table pipe or `www.`/`http:` autolink can start; control
    characters are shown as escapes, so no line break can end a table row; `@` and `#` get a zero-width space after
    them, so no @mention, team mention or issue reference notifies anyone.
    """
    escaped = "".join("\\" + ch if ch in _PUNCTUATION else ch for ch in visible(text))
    return escaped.replace("\\@", "\\@&#8203;").replace("\\#", "\\#&#8203;")
