"""The live tools: `status` (what each route reaches in the deployed system now) and `serve` (a local gateway
that routes like API Gateway), over Cloud Map discovery. They read the model and the reach core, never the
emitters."""
