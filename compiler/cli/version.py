"""`--version`: the tool's version, the AWS provider version its output pins, and the default engine."""

from __future__ import annotations

import argparse
import sys

DEFAULT_ENGINE = "direct"  # synth's --engine default (cli/synth.py reads it from here)


def version_text() -> str:
    from .. import __version__
    from ..terraform.direct import PROVIDER  # the provider block both engines write (cdktf-cdktf-provider-aws's)

    provider = PROVIDER["aws"]
    # `source: aws` in Terraform JSON means registry.terraform.io/hashicorp/aws.
    return (f"cloudmap-routes {__version__}\n"
            f"provider: hashicorp/{provider['source']} {provider['version']} (pinned in every synthesized stack)\n"
            f"engine: {DEFAULT_ENGINE} (default; --engine cdktf runs the CDKTF constructs)\n")


class VersionAction(argparse.Action):
    """Like argparse's `version` action, but the text (which imports the direct engine's constants) is only built
    when asked for."""

    def __init__(self, option_strings, dest, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        sys.stdout.write(version_text())
        parser.exit(0)
