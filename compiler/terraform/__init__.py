"""Model -> resource plan -> Terraform JSON: the plan (plan.py, with names and the provider catalogue), the direct
engine (direct.py), and the CDKTF engine (emit.py, bindings.py), written to disk by synth.py. Only emit, bindings
and synth import cdktf/jsii."""
