"""Diagnostics: the one shape every problem takes, from the YAML reader to the validator.

Every stage returns its diagnostics as values; nothing raises for bad input. A diagnostic has a stable
code (documented in CODES, tested), a location in the source file, a message and an optional hint, and, when
the problem is about a value of the document, its `loc`: the path from the root, `routes[3].filter.leader`
(pydantic/cattrs style; `loc_text`). Rendering follows the compiler convention editors understand:
``file:line:col: severity CODE: message``; `--format json` adds the loc.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Iterable, Union

ERROR = "error"
WARNING = "warning"

# Stable codes. E1xx: reading the file and YAML structure. E2xx: the schema (keys, types, ranges; E25x overrides).
# E3xx: semantic rules across fields. W4xx: warnings (reported, never fail the run).
CODES: dict[str, str] = {
    "E100": "the file cannot be read (missing, too large, not UTF-8, empty)",
    "E101": "YAML syntax error",
    "E102": "duplicate mapping key",
    "E103": "YAML anchors and aliases are not allowed",
    "E104": "YAML tags are not allowed",
    "E105": "mapping keys must be plain strings",
    "E106": "nesting is too deep",
    "E107": "character not allowed in a key, a value or the file (control character, line separator, lone "
            "surrogate, noncharacter)",
    "E200": "unknown key",
    "E201": "wrong type",
    "E202": "missing required key",
    "E203": "value is not one of the allowed choices",
    "E204": "value does not match the required pattern or length",
    "E205": "number out of range",
    "E206": "list has too few or too many items, or repeats an item",
    # E25x: `overrides:` against the pinned provider's schema (compiler.terraform.overrides)
    "E250": "override names an argument the provider's schema does not have",
    "E251": "override value has the wrong type for the provider's schema",
    "E252": "override nests a block wrongly (a block as a value, too many or too few blocks, a required argument "
            "missing in a block)",
    "E253": "override sets an attribute the provider computes",
    "E254": "override sets an argument routes.yaml owns, one no configuration may set, or a Terraform meta-argument",
    "E300": "malformed route key",
    "E301": "duplicate route",
    "E302": "reference to something undeclared",
    "E303": "attribute filter key not accepted by Cloud Map",
    "E304": "attribute filter value not accepted by Cloud Map",
    "E305": "attribute key reserved by AWS",
    "E306": "DNS records not allowed for this namespace or registration",
    "E307": "health check configuration not allowed",
    "E308": "static instance problem",
    "E309": "quota exceeded",
    "E310": "conflicting or incomplete options",
    "E311": "logical id collision",
    "E312": "unsupported route option for this route",
    "E313": "admin route without authorization",
    "E314": "text that CDKTF would turn into a reference (its token marker)",
    "E315": "environment not declared, or not chosen where a command reads one",
    "E316": "route keys API Gateway refuses side by side (two variable names at one level of the path)",
    "E317": "two environments would give AWS one name where it keeps names unique (account and region, VPC, "
            "namespace, function)",
    "E318": "two environments would share a stack directory or a Terraform state",
    "E319": "an ARN in another partition or region than where AWS needs it",
    "W400": "YAML boolean or number used as a Cloud Map attribute value",
    "W401": "filter matches none of the service's static instances",
    "W402": "service has no health check",
    "W403": "filter on an attribute that ECS never sets",
    "W404": "route without authorization",
    "W405": "filter key is an ECS system attribute",
    "W406": "fan-out route without a declared way to reach Cloud Map from the VPC (endpoint or NAT)",
    "W407": "mutual TLS on the custom domain while the execute-api endpoint is still enabled",
    "W408": "two environments create Cloud Map namespaces of one name that clients cannot tell apart",
    "W409": "static instance on a loopback address: `serve` reaches it, a deployed VPC link cannot",
    "W410": "routes.yaml names no region, and an ARN it gives works in one region only",
}


def loc_text(path: tuple[Union[str, int], ...]) -> str:
    """A path from the document's root as a reader finds it in the file: routes[2].filter.leader ("" for the root)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass(frozen=True, order=True)
class Diagnostic:
    line: int  # 1-based; 0 when the problem is about the whole file
    col: int  # 1-based
    code: str
    message: str
    hint: str = ""
    file: str = ""
    loc: str = ""  # loc_text of the value's path; "" when the problem is not about one value (reading, YAML)

    @property
    def severity(self) -> str:
        return WARNING if self.code.startswith("W") else ERROR

    def render(self) -> str:
        # A problem about the whole file (it is missing, empty, too large) has no position: `routes.yaml: error ...`
        where = f"{self.file}:{self.line}:{self.col}" if self.line else self.file
        text = f"{where}: {self.severity} {self.code}: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    def as_dict(self) -> dict:
        return {"severity": self.severity, **asdict(self)}


def at_file(diagnostics: Iterable[Diagnostic], file: str) -> list[Diagnostic]:
    """Stamp diagnostics with the file they belong to and sort them by position."""
    from dataclasses import replace

    return sorted(replace(d, file=file) for d in diagnostics)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity == ERROR for d in diagnostics)


def render_text(diagnostics: list[Diagnostic], limit: int = 50) -> str:
    """All diagnostics, one per line, then a count; long lists end in '... and N more'."""
    shown = [d.render() for d in diagnostics[:limit]]
    if len(diagnostics) > limit:
        shown.append(f"... and {len(diagnostics) - limit} more")
    errors = sum(d.severity == ERROR for d in diagnostics)
    warnings = len(diagnostics) - errors
    shown.append(f"{errors} error(s), {warnings} warning(s)")
    return "\n".join(shown)


def render_json(diagnostics: list[Diagnostic]) -> str:
    return json.dumps([d.as_dict() for d in diagnostics], indent=2, sort_keys=True)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest choice, or listing the choices when none is close."""
    import difflib

    options = sorted(set(choices))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    if not options:
        return ""
    listed = ", ".join(repr(o) for o in options[:12])
    return f"expected one of: {listed}" + (", ..." if len(options) > 12 else "")
