"""cloudmap-routes: compile routes.yaml into Terraform JSON for API Gateway HTTP API -> VPC link -> Cloud Map.

The pipeline, each stage callable alone (tests and debugging can stop after any of them):

    loader.read_file   YAML text   -> plain data + source positions      (compiler.loader)
    spec.check         plain data  -> shape-checked spec with defaults   (compiler.spec, compiler.schema)
    validator.validate spec        -> validated model (frozen)           (compiler.validator: compiler.rules,
                                                                          compiler.routekeys, compiler.model)
    plan.build         model       -> resource plan with stable ids      (compiler.plan)
    emit / synth       plan        -> CDKTF constructs -> Terraform JSON (compiler.emit, compiler.synth)

Only `emit`, `bindings` and `synth` import cdktf/jsii; everything before them is plain Python.
"""

from __future__ import annotations

from .diagnostics import Diagnostic, at_file
from .model import Model


def compile_text(text: str, file: str = "routes.yaml") -> tuple[Model | None, list[Diagnostic]]:
    from . import loader
    return _from_document(*loader.load_text(text), file)


def compile_file(path: str) -> tuple[Model | None, list[Diagnostic]]:
    from . import loader
    return _from_document(*loader.read_file(path), path)


def _from_document(document, problems, file: str) -> tuple[Model | None, list[Diagnostic]]:
    from . import spec, validator
    if document is None:
        return None, at_file(problems, file)
    checked, shape_problems = spec.check(document)
    model, problems = validator.validate(checked, shape_problems)
    return model, at_file(problems, file)
