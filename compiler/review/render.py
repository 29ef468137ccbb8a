"""A Summary as text (a terminal) or Markdown (a PR comment). Every value a template prints passes through
`finalize`: `visible` for text, `markdown` for Markdown. A value the template wants as code goes through the
`code` filter, which escapes it too and marks it as done."""

from __future__ import annotations

from typing import Any

from ..core.text import markdown, visible
from .summary import Summary


class _Rendered(str):
    """Markdown already made safe by `_code`; finalize prints it as it is."""


def _code(value: Any) -> _Rendered:
    """A value shown as code. A backtick code span renders nothing inside it (no HTML, links or mentions), so
    it is used as is when the text has no backtick, pipe, control character or edge space; otherwise the text is
    escaped inside a <code> element."""
    text = visible(str(value))
    if text and text == text.strip() and not set(text) & {"`", "|", "\\"}:
        return _Rendered(f"`{text}`")
    return _Rendered(f"<code>{markdown(text)}</code>")


def _finalize_markdown(value: Any) -> str:
    return value if isinstance(value, _Rendered) else markdown(str(value))


def _finalize_text(value: Any) -> str:
    return visible(str(value))


def render(summary: Summary, fmt: str, picture: str = "") -> str:
    """`picture`: Markdown of its own (a ```mermaid block, compiler.pictures), printed under the route table."""
    import jinja2

    as_markdown = fmt == "markdown"
    env = jinja2.Environment(loader=jinja2.PackageLoader("compiler.review", "templates"), trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
                             finalize=_finalize_markdown if as_markdown else _finalize_text)
    env.filters["code"] = _code if as_markdown else str
    return env.get_template(f"summary.{'md' if as_markdown else 'txt'}.j2").render(s=summary, picture=_Rendered(picture))
