"""Lambda handlers the stack deploys, zipped as they are (compiler.terraform.bundle): standard library and boto3
only, and nothing of the compiler. `settings` describes the fan-out function's environment for both sides."""
