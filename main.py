"""Entry point: `python main.py` (what `cdktf synth` runs) synthesizes routes.yaml; see `--help`."""

import sys

from compiler.cli import main

if __name__ == "__main__":
    sys.exit(main())
