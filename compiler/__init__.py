"""cloudmap-routes: compile routes.yaml into Terraform JSON for API Gateway HTTP API -> VPC link -> Cloud Map.

Packages by role; data flows one way, and each package imports only the packages named beside it
(tests/test_layering.py holds this contract and checks it):

    core       the shared base: diagnostics, names, text and file safety, AWS clients    nothing
    handlers   Lambda code the stack deploys (fan-out, allow-list), zipped as it is      nothing
    language   YAML text -> spec with positions -> validated model (`compile_file`)      core, handlers.settings
    reach      validated model (+ deployed API, Cloud Map) -> what each route does       core, language
    terraform  model -> resource plan -> Terraform JSON (direct engine, CDKTF)          core, language, handlers.settings
    review     diff and summarize-plan, read through reach and the plan                 core, language, reach, terraform
    live       status and serve, read through reach; serve runs the handlers' code       core, language, reach, handlers
    adopt      import: AWS -> routes.yaml + Terraform import blocks                      core, language, terraform,
                                                                                         handlers.settings
    localaws   `local up`: moto's server on loopback, strict as AWS, and a deploy into it  core, language, terraform
    pictures   the routing drawn: Mermaid, SVG, HTML pages (pure; instances as data)    core, language, reach
    cli        the shell: arguments, printing, exit codes                                any, lazily

Only terraform.emit, terraform.bindings and terraform.synth import cdktf/jsii, and only when the CDKTF engine runs.
"""

__version__ = "0.1.0"
