#!/usr/bin/env bash
# Install cloudmap-routes from the action's own checkout: the tool is the version the workflow's `uses:` names.
# (Core dependencies only: the direct engine synthesizes without the CDKTF packages.)
set -euo pipefail
python -m pip install --disable-pip-version-check --quiet "${GITHUB_ACTION_PATH:?run by action.yml}"
cloudmap-routes --version
