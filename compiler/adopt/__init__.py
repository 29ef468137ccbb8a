"""`main.py import`: adopt an HTTP API built by hand (console, CLI, another tool), or one this tool deployed whose
state is lost, into routes.yaml.

It reads the API (routes, integrations, authorizers, stage, VPC link, custom domain) and the Cloud Map namespace,
services and instances its integrations target, with Get*/List* calls only (read.py), and describes them as two
files' text:

- a routes.yaml that describes them (describe.py, with yamltext.py writing the YAML), with `#` comments where the
  deployed setup says something routes.yaml cannot (each such difference is also listed at the top: the first
  plan changes it);
- Terraform `import` blocks (Terraform >= 1.5) at exactly the addresses synth uses (`synth --imports FILE`): the
  written routes.yaml is compiled and planned exactly as synth will, and each block of that plan is paired with
  the AWS id found for it, in the import id format the catalogue gives its type (pair.py).

An API this tool deployed (it carries the `cloudmap-routes:stack` tag) is read with the fan-out functions and
allow-list authorizers the stack made for it (owned.py): their options are written back from the functions'
environments, and their roles, policies, log groups, security groups, rules and permissions are imported too.

What the language cannot express is refused, with every reason at once (Refused): a REST or WebSocket API, an
integration that is neither a Cloud Map private integration nor this tool's fan-out function, several stages or VPC
links, request or response parameters beyond the stage-prefix rewrite, authorizers of another shape. If the
routes.yaml written for a setup would not compile, that is refused too (with the diagnostics): a file `check`
rejects is never written.

This package returns values and raises typed errors; compiler/cli/adopt.py prints, writes the files and picks the
exit code. The only write to AWS is opt-in: `tag_api` tags the API with `cloudmap-routes:stack` (the tag synth
puts on it and `status` finds it by), so that the first plan is imports only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.deployed import STACK_TAG
from ..core.diagnostics import Diagnostic
from .pair import ImportsFileError, imports_json, read_imports
from .read import Clients, Refused, Setup, clients, read_setup

__all__ = ["Adoption", "Clients", "ImportsFileError", "Refused", "Setup", "adopt", "adoption", "clients", "read_imports",
           "tag_api"]


@dataclass
class Adoption:
    text: str  # the routes.yaml
    imports: list[tuple[str, str]]  # (Terraform address, import id), in plan order
    changes: list[str]  # what the first plan changes even so (also in the file's header)
    creates: list[str]  # addresses the first plan creates: nothing in AWS corresponds to them
    diagnostics: list[Diagnostic] = field(default_factory=list)  # the written file's own warnings, at its lines

    def imports_json(self) -> str:
        return imports_json(self.imports)


def adopt(c: Clients, api_id: str, output: str, stack: str = "routes", tag_api: bool = False) -> Adoption:
    """Read the setup, write nothing; raise Refused with every reason the language cannot express it."""
    return adoption(read_setup(c, api_id), c.region, output, stack, tag_api)


def adoption(setup: Setup, region: str, output: str, stack: str = "routes", tagged: bool = False) -> Adoption:
    """What `adopt` returns for a setup already read: pure (describe, compile, plan, pair)."""
    from ..core.diagnostics import has_errors, render_text
    from ..language import compile_text
    from ..terraform.plan import build
    from .describe import describe, with_changes
    from .pair import pair

    description = describe(setup, region, stack, tagged, output)
    if description.refusals:
        raise Refused(description.refusals)
    model, diagnostics = compile_text(description.text, output)
    if model is None or has_errors(diagnostics):
        raise Refused(["the routes.yaml written for this setup would not be valid:",
                       *render_text(diagnostics).splitlines()])
    pairing = pair(build(model, stack=stack), setup, description.namespace_id)
    changes = description.changes + pairing.changes
    explained = {c.split(":", 1)[0] for c in changes}
    changes += [f"{a}: created" for a in pairing.creates if a not in explained]
    text = with_changes(description.text, changes)
    # The diagnostics of the file as written (header included), so every position points into it.
    final, diagnostics = compile_text(text, output)
    if final != model:  # comments only: the same document, or a bug
        raise Refused(["internal: the header comments changed what routes.yaml says"])
    return Adoption(text, pairing.imports, changes, pairing.creates, list(diagnostics))


def tag_api(c: Clients, api_id: str, stack: str) -> None:
    """The one write: the stack tag synth puts on the API (TagResource), so the first plan is imports only."""
    arn = f"arn:{_partition(c.region)}:apigateway:{c.region}::/apis/{api_id}"
    c.apigatewayv2.tag_resource(ResourceArn=arn, Tags={STACK_TAG: stack})


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"
