"""The SnapStart harness inside the stand-in base (its Python, AWS's snapshot_restore_py, Lambda's limits)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from lambdakit.core import config as project_config
from lambdakit.images import baseimage
from lambdakit.runtime import snapstart

pytestmark = pytest.mark.docker

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "snapstart"
# read-only root, a small tmpfs /tmp, no network, Lambda's uid: the faithful run's limits that matter here
LIMITS = ["--read-only", "--tmpfs", "/tmp:rw,size=64m", "--network", "none", "--user", "993:990"]


@pytest.mark.parametrize(("module", "checks"), [("seeded_random", ["random"]), ("hooked", [])])
def test_the_harness_runs_in_the_image_with_the_real_hooks(module: str, checks: list[str]) -> None:
    command = snapstart.harness_command("python3", f"{module}.lambda_handler")
    name = f"lambdakit-test-snapstart-{module}-{os.getpid()}"
    mount = ["-v", f"{FIXTURES}:/fixtures:ro", "-e", "PYTHONPATH=/fixtures"]
    docker = ["docker", "run", "--rm", "-i", "--name", name, *LIMITS, *mount, "--entrypoint", command[0]]
    result = subprocess.run(
        [*docker, baseimage.build(project_config.load().python), *command[1:]],
        input=json.dumps({"text": "hi"}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = snapstart.parse_report(result.stdout, result.stderr)
    assert [finding.check for finding in report.findings] == checks
    assert report.info["hooks_module"].endswith("snapshot_restore_py.py")  # AWS's package, not the stand-in
