"""The largest accepted requests complete within the template's Timeout and MemorySize at one vCPU.

The handler runs in a child process pinned to one CPU with its CPU time limited to the Timeout (the kernel
kills it at the limit: that is the assertion, not a timer), then its peak memory is compared with MemorySize.
Time figures belong to `nox -s bench` and docs/performance.md, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lambdakit.config import template
from lambdakit.core import config as project_config
from tests.function.worst_case import combining_runs_event, worst_case_event

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[2]
RUN_HANDLER = """
import json, os, resource, sys
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one vCPU: ONNX Runtime sizes its threads to it
resource.setrlimit(resource.RLIMIT_CPU, (int(sys.argv[1]), int(sys.argv[1])))
from inference.handler import lambda_handler
response = lambda_handler(json.load(sys.stdin), None)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"results": len(response.get("results", [])), "error": response.get("error"), "peak": peak}))
"""


@pytest.mark.usefixtures("model_dir")
@pytest.mark.parametrize(
    "event",
    [worst_case_event(), combining_runs_event()],
    ids=["every-text-fills-the-model", "combining-runs"],  # the model's worst, then normalisation's
)
def test_largest_request_completes_within_timeout_and_memory(event: dict[str, list[str]]) -> None:
    limits = template.load(project=project_config.load()).target
    result = subprocess.run(
        [sys.executable, "-c", RUN_HANDLER, str(limits.timeout_s)],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        check=False,
    )
    assert result.returncode == 0, f"killed or failed (SIGXCPU = over the Timeout): {result.stderr[-2000:]}"
    answer = json.loads(result.stdout)
    assert (answer["results"], answer["error"]) == (64, None)
    assert 0 < answer["peak"] < limits.memory_mb * 1024 * 1024
