"""One routes.yaml with `environments` -> one document per environment, every position kept.

An environment is the document with its overrides merged in, the way JSON Merge Patch (RFC 7386) merges:
a mapping merges key by key, `null` removes a key, and anything else (a list, a value) replaces what the document
says. Only the keys in `schema.OVERRIDABLE` may be overridden; routes are shared, written once.

The merge works on the source map too: a value that comes from an override keeps the override's own line and
column (and its `loc` names the override: environments.prod.vpc_link.subnet_ids[0]), so every later stage reports
a problem with an overridden value exactly where the override is written, without knowing environments exist.
Each environment is checked on its own; `combine` then reports a problem that every environment has once, and one
that only some have with their names in front: "environment prod: ...".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable

from ..core.diagnostics import Diagnostic, did_you_mean, loc_text
from .arns import bucket_problem, state_key_problem
from .loader import Document, Path, SourceMap
from .model import default_vpc_link_name
from .schema import ENVIRONMENT, ENVIRONMENT_NAME, OVERRIDABLE, ROOT, Map, Obj, Terraform, Type
from .spec import INVALID, _check

KEY = "environments"
MAX_NAME_BYTES = 128  # CreateVpcLink Name


@dataclass
class Environment:
    """One environment's document (overrides merged in) and what the merge found wrong with its overrides."""

    name: str
    document: Document
    state: str | None = None
    problems: list[Diagnostic] = field(default_factory=list)
    locs: dict[str, str] = field(default_factory=dict)  # loc_text(document path) -> loc_text(override path)


def declared(document: Document) -> tuple[dict[str, dict] | None, list[Diagnostic]]:
    """The environments a document declares (name -> its overrides, as written), or None when it declares none;
    with the problems of the `environments` block itself, each reported once."""
    data = document.data
    if not isinstance(data, dict) or KEY not in data:
        return None, []
    problems: list[Diagnostic] = []
    source = document.source
    block = data[KEY]
    path: Path = (KEY,)

    def report(at: Path, code: str, message: str, hint: str = "", at_key: bool = False) -> None:
        pos = source.key(at) if at_key else source.value(at)
        problems.append(Diagnostic(pos.line, pos.col, code, message, hint, loc=loc_text(at)))

    if not isinstance(block, dict) or not block:
        report(path, "E201" if not isinstance(block, dict) else "E206",
               "environments must be a mapping of environment names to their overrides" if not isinstance(block, dict)
               else "environments needs at least 1 environment",
               "for example: environments: {dev: {region: eu-west-1}, prod: {region: eu-central-1}}")
        return {}, problems
    limit = ROOT.fields[KEY].type.max_items
    if len(block) > limit:
        report(path, "E206", f"environments has {len(block)} entries; at most {limit} are allowed")
    found: dict[str, dict] = {}
    folded: dict[str, str] = {}  # lower-cased name -> the name as first written
    for name, entry in block.items():
        at = path + (name,)
        if not _name_usable(name, folded, lambda *args: report(at, *args, at_key=True)):
            continue
        if entry is None:  # `dev:` with nothing under it: the document as it is
            found[name] = {}
            continue
        if not isinstance(entry, dict):
            report(at, "E201", f"environment {name} must be a mapping of overrides",
                   "for example: " + name + ": {region: eu-west-1}")
            continue
        overrides: dict[str, Any] = {}
        for key, value in entry.items():
            if key not in ENVIRONMENT.fields:
                shared = key in ROOT.fields
                report(at + (key,), "E200", f"unknown key {key!r} in environment {name}" +
                       (f": {key} is shared by every environment" if shared else ""),
                       f"an environment overrides {', '.join(OVERRIDABLE)} and sets state" if shared
                       else did_you_mean(key, ENVIRONMENT.fields), at_key=True)
                continue
            if key == "state":
                checked = _check(ENVIRONMENT.fields["state"].type, value, at + (key,), source, problems)
                if checked is not INVALID and _state_location(checked, at + (key,), report):
                    overrides[key] = checked
                continue
            if key in ("services", "authorizers") and isinstance(value, dict) and isinstance(data.get(key), dict):
                what = key[:-1]
                for entry_key in list(value):
                    if entry_key not in data[key]:
                        report(at + (key, entry_key), "E302", f"environment {name} overrides {what} "
                               f"{entry_key!r}, which is not declared under {key}",
                               did_you_mean(entry_key, data[key]) or f"declare it under {key} first: an environment "
                               f"changes what the document declares", at_key=True)
                value = {k: v for k, v in value.items() if k in data[key]}
            overrides[key] = value
        found[name] = overrides
    _shared_state(found, report)
    return found, problems


def _name_usable(name: str, folded: dict[str, str], report) -> bool:
    """An environment name names a directory and a state file: the pattern, and no other name but for case."""
    if not re.match(ENVIRONMENT_NAME, name):
        report("E204", f"environment name {name!r} is not valid", "1-64 letters, digits, '-' or '_', starting with "
               "a letter: it names the stack directory (cdktf.out/stacks/<name>) and the state file")
        return False
    first = folded.setdefault(name.lower(), name)
    if first != name:
        report("E318", f"environments {first} and {name} differ only in case: on a case-insensitive file system "
               f"(macOS, Windows) they share the stack directory cdktf.out/stacks/{first} and the state file "
               f"terraform.{first}.tfstate", "give the environment a name of its own")
        return False
    return True


def _state_location(state: str, at: Path, report) -> bool:
    """An environment's `state:` must be an object S3 and Terraform's backend accept (as `synth --state` must)."""
    bucket, _, key = state.removeprefix("s3://").partition("/")
    problem = bucket_problem(bucket) or state_key_problem(key)
    if problem:
        report(at, "E204", f"state {state!r}: {problem}", "for example: s3://my-tf-state/routes/prod.tfstate")
    return not problem


def _shared_state(found: dict[str, dict], report) -> None:
    """Two environments with one S3 state object would be one Terraform state: the second stack's plan would take
    over (and delete) the first's resources. Refused at the second."""
    owners: dict[str, str] = {}
    for name, overrides in found.items():
        state = overrides.get("state")
        if state is None:
            continue
        first = owners.setdefault(state, name)
        if first != name:
            report((KEY, name, "state"), "E318", f"environments {first} and {name} keep their state in one S3 object "
                   f"({state}): the second stack's plan would take over, and delete, the first's resources",
                   f"give {name} a state key of its own, e.g. {state.rsplit('/', 1)[0]}/{name}.tfstate")


def merge(document: Document, name: str, overrides: dict) -> Environment:
    """The document as environment `name` sees it: its overrides merged in, with their positions."""
    data = {k: v for k, v in document.data.items() if k != KEY}
    original = document.source
    source = SourceMap({p: v for p, v in original.values.items() if p[:1] != (KEY,)},
                       {p: v for p, v in original.keys.items() if p[:1] != (KEY,)},
                       {p: v for p, v in original.scalars.items() if p[:1] != (KEY,)})
    mine = (KEY, name)  # the positions of this environment's overrides, the only ones merge copies
    written = SourceMap({p: v for p, v in original.values.items() if p[:2] == mine},
                        {p: v for p, v in original.keys.items() if p[:2] == mine},
                        {p: v for p, v in original.scalars.items() if p[:2] == mine})
    merger = _Merger(name, written, source)
    for key in OVERRIDABLE:
        if key in overrides:
            merger.apply(data, key, overrides[key], ROOT.fields[key].type, (key,), (KEY, name, key))
    merged = Document(data, source)
    merger.check_names(merged)
    return Environment(name, merged, overrides.get("state"), merger.problems, merger.locs)


class _Merger:
    def __init__(self, name: str, original: SourceMap, source: SourceMap) -> None:
        self.name, self.original, self.source = name, original, source
        self.problems: list[Diagnostic] = []
        self.locs: dict[str, str] = {}

    def report(self, at: Path, code: str, message: str, hint: str = "") -> None:
        pos = self.original.key(at)
        self.problems.append(Diagnostic(pos.line, pos.col, code, message, hint, loc=loc_text(at)))

    def apply(self, target: dict, key: str, value: Any, t: Type | None, path: Path, origin: Path) -> None:
        """Merge `value` (written at `origin`) into target[key] (the document's `path`)."""
        current = target.get(key)
        if isinstance(value, dict) and current is None and isinstance(t, (Obj, Map)):
            current = {}  # as RFC 7386 does: an override of a key the document leaves out merges into nothing
            for table, into in ((self.original.values, self.source.values), (self.original.keys, self.source.keys)):
                if origin in table:
                    into[path] = table[origin]
            self.locs[loc_text(path)] = loc_text(origin)
        if isinstance(value, dict) and isinstance(current, dict) and isinstance(t, Obj):
            merged = target[key] = dict(current)
            for k, v in value.items():
                f = t.fields.get(k)
                if v is None and f is not None:
                    if f.required:
                        self.report(origin + (k,), "E310", f"null removes {loc_text(path + (k,))}, which every "
                                    "environment needs", "give it a value instead of null")
                        continue
                    merged.pop(k, None)
                    self._drop(path + (k,))
                    continue
                self._apply_field(merged, k, v, f, path + (k,), origin + (k,))
            return
        if isinstance(value, dict) and isinstance(current, dict) and isinstance(t, Map) and isinstance(t.values, Obj):
            merged = target[key] = dict(current)
            for k, v in value.items():
                if v is None:
                    self.report(origin + (k,), "E310", f"null cannot remove {loc_text(path + (k,))}: routes are "
                                "shared, and what they use every environment has",
                                "override its keys instead")
                    continue
                self.apply(merged, k, v, t.values, path + (k,), origin + (k,))
            return
        if isinstance(value, dict) and isinstance(current, dict) and isinstance(t, Map):
            merged = target[key] = dict(current)  # tags: entry by entry, null removes one
            for k, v in value.items():
                if v is None:
                    merged.pop(k, None)
                    self._drop(path + (k,))
                else:
                    self.apply(merged, k, v, t.values, path + (k,), origin + (k,))
            return
        if value is None and path == (key,) and not ROOT.fields[key].required:
            target.pop(key, None)  # `namespace: null`: this environment has none
            self._drop(path)
            return
        if value is None and path == (key,):
            self.report(origin, "E310", f"null removes {key}, which every environment needs",
                        "give it a value instead of null")
            return
        target[key] = value
        self._drop(path)
        self._copy(origin, path)

    def _apply_field(self, target: dict, key: str, value: Any, f: Any, path: Path, origin: Path) -> None:
        """One key of an object: raw Terraform arguments (`overrides:`) merge as JSON Merge Patch at every depth."""
        if f is not None and isinstance(f.type, Terraform):
            self._merge_patch(target, key, value, f.type, path, origin)
        else:
            self.apply(target, key, value, f.type if f else None, path, origin)

    def _merge_patch(self, target: dict, key: str, value: Any, t: Terraform, path: Path, origin: Path) -> None:
        """Raw Terraform arguments (`overrides:`) merge as RFC 7386 says, at every depth: mappings key by key,
        `null` removes a key, anything else (a list, a value) replaces; onto a value that is not a mapping, the
        patch applies to an empty one."""
        if not isinstance(value, dict):
            target[key] = value
            self._drop(path)
            self._copy(origin, path)
            return
        current = target.get(key)
        if not isinstance(current, dict):
            self._drop(path)
            current = {}
            for table, into in ((self.original.values, self.source.values), (self.original.keys, self.source.keys)):
                if origin in table:
                    into[path] = table[origin]
            self.locs[loc_text(path)] = loc_text(origin)
        merged = target[key] = dict(current)
        for k, v in value.items():
            if v is None:
                merged.pop(k, None)
                self._drop(path + (k,))
            else:
                self._merge_patch(merged, k, v, t, path + (k,), origin + (k,))

    def _drop(self, path: Path) -> None:
        if path not in self.source.values:
            return  # nothing at path, so nothing below it either
        n = len(path)
        for table in (self.source.values, self.source.keys, self.source.scalars):
            for p in [p for p in table if p[:n] == path]:
                del table[p]

    def _copy(self, origin: Path, path: Path) -> None:
        n = len(origin)
        for table, into in ((self.original.values, self.source.values), (self.original.keys, self.source.keys),
                            (self.original.scalars, self.source.scalars)):
            for p, v in table.items():
                if p[:n] == origin:
                    into[path + p[n:]] = v
                    self.locs[loc_text(path + p[n:])] = loc_text(p)

    def check_names(self, document: Document) -> None:
        """Names that include the environment by default must still fit where they go."""
        data = document.data
        api, link = data.get("api"), data.get("vpc_link")
        if not (isinstance(api, dict) and isinstance(api.get("name"), str) and isinstance(link, dict)):
            return
        if "name" in link:
            return
        name = default_vpc_link_name(api["name"], self.name)
        size = len(name.encode("utf-8", "surrogatepass"))
        if size > MAX_NAME_BYTES:
            pos = document.source.value(("api", "name"))
            self.problems.append(Diagnostic(pos.line, pos.col, "E204", f"the VPC link would be named {name[:40]!r}... ({size} bytes); AWS allows "
                                            f"{MAX_NAME_BYTES}", "set vpc_link.name, or shorten api.name",
                                            loc="api.name"))


def locate(document: Document, environment: Environment, path: Path) -> tuple[int, int, str]:
    """Where to report a problem with environment's value at document `path`: at its override when the environment
    writes one (or one of the keys above it), else at the environment's own key, whose overrides would fix it."""
    for n in range(len(path), 0, -1):
        written = environment.locs.get(loc_text(path[:n]))
        if written is not None:
            pos = environment.document.source.value(path[:n])
            return pos.line, pos.col, written
    pos = document.source.key((KEY, environment.name))
    return pos.line, pos.col, loc_text((KEY, environment.name))


def combine(found: dict[str, list[Diagnostic]], locs: dict[str, dict[str, str]] | None = None) -> list[Diagnostic]:
    """Each environment's diagnostics -> one list: a problem every environment has is reported once; one that only
    some have names them ("environment prod: ..."). Diagnostics about an override carry the override's loc."""
    locs = locs or {}
    where: dict[Diagnostic, list[str]] = {}
    for name, diagnostics in found.items():
        for d in dict.fromkeys(diagnostics):
            d = replace(d, loc=locs.get(name, {}).get(d.loc, d.loc)) if d.loc else d
            where.setdefault(d, [])
            if name not in where[d]:
                where[d].append(name)
    out = []
    for d, names in where.items():
        out.append(d if len(names) == len(found) else replace(d, message=f"{label(names)}: {d.message}"))
    return out


def label(names: Iterable[str]) -> str:
    names = list(names)
    return f"environment {names[0]}" if len(names) == 1 else f"environments {', '.join(names)}"


def choose(declared_names: Iterable[str], wanted: Iterable[str], document: Document) -> list[Diagnostic]:
    """E315 for each wanted environment the document does not declare."""
    declared_names = list(declared_names)
    pos = document.source.key((KEY,))
    return [Diagnostic(pos.line, pos.col, "E315", f"environment {name} is not declared under environments",
                       did_you_mean(name, declared_names), loc=KEY)
            for name in wanted if name not in declared_names]
