"""The user's function: a support-ticket triage pipeline served on AWS Lambda.

`inference.handler.lambda_handler` is the entry point Lambda's `CMD` names; `python -m inference`
runs it locally on an event (see `inference.__main__`).
"""

import os

# Both are read once, when numpy and onnxruntime load (the pipeline imports them after this package):
# OpenBLAS starts a thread per core at import, for a pipeline whose numpy work is one (texts x 384) @
# (384 x labels) product under a CPU quota that throttles extra threads; onnxruntime starts its telemetry at
# import (a thread, a device id it tries to save under $HOME, uploads). Off, the init is 15-25 ms shorter
# (docs/performance.md), and the function does not phone home.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
