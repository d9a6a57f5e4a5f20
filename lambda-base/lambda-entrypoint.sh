#!/bin/sh
# The entry script AWS documents for base images that are not AWS's own: outside Lambda (no runtime API)
# start the Runtime Interface Emulator, which then runs the runtime client; on Lambda run the client directly.
# `sam local invoke` mounts its own emulator and calls this script with AWS_LAMBDA_RUNTIME_API set.
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  exec /usr/local/bin/aws-lambda-rie /usr/bin/python3 -m awslambdaric "$@"
else
  exec /usr/bin/python3 -m awslambdaric "$@"
fi
