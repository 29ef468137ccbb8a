"""Lambda handlers the stack deploys. Each module is zipped alone (compiler.terraform.bundle): standard library and boto3 only."""
