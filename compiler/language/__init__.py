"""The routes.yaml language: YAML text -> validated model. Each stage can be called alone (tests and debugging can
stop after any of them), and `compile_*` below chain them:

    loader.read_file    YAML text  -> plain data + source positions     (loader)
    environments.merge  plain data -> one document per environment      (environments; positions kept)
    spec.check          plain data -> shape-checked spec with defaults  (spec, against schema)
    validator.validate  spec       -> validated model (frozen)          (validator, running rules over routekeys)

The model (model.py) is what every later package reads: terraform plans it, reach explains it, review compares
it, live serves it. Nothing here imports cdktf, jsii, boto3 or a handler's runtime.
"""

from __future__ import annotations

from typing import Sequence

from ..core.diagnostics import Diagnostic, at_file
from .model import Model

Stack = tuple  # (environment name, or None for a file without environments; Model)


def compile_text(text: str, file: str = "routes.yaml",
                 environment: str | None = None) -> tuple[Model | None, list[Diagnostic]]:
    from . import loader
    return _compile(lambda fast: loader.load_text(text, fast=fast), file, _one(environment))


def compile_file(path: str, environment: str | None = None) -> tuple[Model | None, list[Diagnostic]]:
    """One model: of the file, or of its environment `environment` (a file with environments needs one: E315)."""
    from . import loader
    return _compile(lambda fast: loader.read_file(path, fast=fast), path, _one(environment))


def compile_stacks(path: str, environments: Sequence[str] | None = None) -> tuple[list[Stack] | None, list[Diagnostic]]:
    """Every stack the file describes, [(environment, model)]: one per environment (or those named), or
    [(None, model)] for a file without environments. Each environment is validated; diagnostics are reported once."""
    from . import loader
    return _compile(lambda fast: loader.read_file(path, fast=fast), path,
                    lambda d, p, f: _stacks(d, p, f, environments))


def compile_stacks_text(text: str, file: str = "routes.yaml",
                        environments: Sequence[str] | None = None) -> tuple[list[Stack] | None, list[Diagnostic]]:
    from . import loader
    return _compile(lambda fast: loader.load_text(text, fast=fast), file,
                    lambda d, p, f: _stacks(d, p, f, environments))


def _compile(load, file: str, compile_document=None):
    """Read fast (libyaml's events; PyYAML's parser where libyaml would place a position differently), then compile.
    Either read gives the same data and positions, so diagnostics are placed from it: a file is read once.

    A file with more routes than an API can hold was read with the first ROUTE_QUOTA only (loader): everything else
    is checked as usual, and the quota is reported at `routes` with the file's real count."""
    compile_document = compile_document or _from_document
    document, problems = load(True)
    model, diagnostics = compile_document(document, problems, file)
    if document is not None and document.routes_total is not None:
        from .rules import route_quota
        pos = document.source.value(("routes",))
        model, diagnostics = None, at_file(diagnostics + route_quota(document.routes_total, pos.line, pos.col), file)
    return model, diagnostics


def _one(environment: str | None):
    """compile_document for one model: the file's, or one environment's."""
    def compile_document(document, problems, file: str) -> tuple[Model | None, list[Diagnostic]]:
        from . import environments
        has_environments = document is not None and isinstance(document.data, dict) and environments.KEY in document.data
        if not has_environments and environment is None:
            return _from_document(document, problems, file)
        stacks, diagnostics = _stacks(document, problems, file, [environment] if environment else None)
        if environment is None:  # validated every environment; a caller that reads one must say which
            names = list(environments.declared(document)[0] or {})
            pos = document.source.key((environments.KEY,))
            diagnostics = at_file(diagnostics + [Diagnostic(
                pos.line, pos.col, "E315", f"this file declares environments ({', '.join(names)}); this reads one",
                "name the environment: --env " + (names[0] if names else "NAME"), loc=environments.KEY)], file)
            return None, diagnostics
        return (stacks[0][1] if stacks else None), diagnostics
    return compile_document


def _stacks(document, problems, file: str, only: Sequence[str] | None) -> tuple[list[Stack] | None, list[Diagnostic]]:
    from ..core.diagnostics import has_errors
    from . import environments, scopes, spec, validator
    if document is None:
        return None, at_file(problems, file)
    only = list(dict.fromkeys(only)) if only else None  # `--env dev --env dev` is one stack
    declared, found = environments.declared(document)
    if declared is None:
        if only:
            return None, at_file(list(problems) + [Diagnostic(0, 0, "E315", f"environment {only[0]!r}: this file "
                                                              "declares no environments")], file)
        model, diagnostics = _from_document(document, problems, file)
        return ([(None, model)] if model else None), diagnostics
    found = list(problems) + found
    unknown = environments.choose(declared, only or (), document)
    if unknown:
        return None, at_file(found + unknown, file)
    if not declared:  # the block itself is broken (reported): check the rest of the document as it is
        merged = environments.merge(document, "-", {})
        checked, shape_problems = spec.check(merged.document)
        _, diagnostics = validator.validate(checked, shape_problems)
        return None, at_file(found + diagnostics, file)
    merged = {name: environments.merge(document, name, declared[name]) for name in only or declared}
    per_environment, models = {}, []
    for name, environment in merged.items():
        model, per_environment[name] = _environment_model(environment)
        models.append((name, model))
    diagnostics = found + environments.combine(per_environment, {n: e.locs for n, e in merged.items()})
    if not has_errors(diagnostics):  # names two environments would both give AWS, where it keeps them unique
        diagnostics += scopes.collisions(models, lambda n, p: environments.locate(document, merged[n], p))
    if has_errors(diagnostics):
        return None, at_file(diagnostics, file)
    return models, at_file(diagnostics, file)


def _environment_model(environment) -> tuple[Model | None, list[Diagnostic]]:
    """One environment's document (its overrides merged in) -> its model, with its state, and diagnostics."""
    from dataclasses import replace

    from . import spec, validator
    checked, shape_problems = spec.check(environment.document)
    checked.environment = environment.name
    model, diagnostics = validator.validate(checked, environment.problems + shape_problems)
    return model and replace(model, state=environment.state), diagnostics


def _from_document(document, problems, file: str) -> tuple[Model | None, list[Diagnostic]]:
    from . import spec, validator
    if document is None:
        return None, at_file(problems, file)
    checked, shape_problems = spec.check(document)
    model, problems = validator.validate(checked, shape_problems)
    return model, at_file(problems, file)
