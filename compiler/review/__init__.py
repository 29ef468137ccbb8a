"""Review: route-level summaries of a change, for pull requests. Plain Python; never imports jsii.

`diff` (diff.py) compares two routes.yaml versions (versions.py) through their resource plans and predicts what
Terraform will do; `summarize-plan` (planfile.py) reads what Terraform says it will do (`terraform show -json`).
Both read routes through compiler.reach (each route's description, compared aspect by aspect: planned.py reads the
same aspects out of a plan) and group resource changes by the owner the plan gives each block
(compiler.terraform.owners). Both produce a Summary (summary.py), rendered as Markdown (a PR comment) or text (a
terminal) by render.py.
The functions here return data; the CLI (compiler.cli) prints it and decides exit codes.

Everything a summary prints may come from the pull request's author (routes.yaml) or from a plan file, so the
renderer escapes every value it prints in one place (`core.text`, the templates' `finalize`). Inputs are read as
`check` reads them: regular files only, at most loader.MAX_BYTES, strict UTF-8.
"""
