"""Is the function ready for SnapStart? No CRIU needed (`commands/snapstart_check.py` is its command).

The handler (`[tool.lambdakit] handler`) is initialised once, "snapshotted" and "restored" twice by
`os.fork()` in `snapstart_harness.py` (standard library only: the function's own interpreter runs it, in the
dev loop as here, or inside its image with `harness_command("python3", ...)`). Each finding says what would
break uniqueness or not survive a restore on Lambda, and names the `snapshot_restore_py` hook that fixes it:

* `random`: the handler draws from a generator (`random`'s, `numpy.random`'s, or one its module holds)
  whose state no `register_after_restore` hook renews: every restored environment draws the same numbers
  (AWS: seed in the handler or in a hook; use `secrets`/`random.SystemRandom` for anything secret).
* `unique value`: a response value both restores share that an independent init does not (a uuid made at
  init and returned).
* `socket`, `thread`, `tmp file`: opened, started or written at init and still there at snapshot time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambdakit.core import settings
from lambdakit.core.errors import CommandFailed
from lambdakit.runtime.snapstart_harness import REPORT_MARK

HARNESS = Path(__file__).with_name("snapstart_harness.py")
TIMEOUT_S = 600  # three inits' worth of a slow model load, and three calls


@dataclass(frozen=True)
class Finding:
    check: str
    what: str
    fix: str

    def line(self) -> str:
        return f"{self.check}: {self.what}. Fix: {self.fix}."


@dataclass(frozen=True)
class Report:
    findings: list[Finding]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return not self.findings


def harness_command(python: str, handler: str) -> list[str]:
    """The argv that runs the harness with `python` (the event goes to its stdin): the file's source is
    passed with -c, so it runs where the kit is not installed (an image), as `client.py` does."""
    return [python, "-c", HARNESS.read_text(encoding="utf-8"), handler]


def parse_report(stdout: str, stderr: str = "") -> Report:
    """The harness's report line; a `CommandFailed` naming the cause when it has none or an error."""
    lines = [line for line in stdout.splitlines() if line.startswith(REPORT_MARK)]
    if not lines:
        tail = (stderr.strip().splitlines() or ["(no output)"])[-1]
        raise CommandFailed(f"the SnapStart check printed no report; its last line: {tail}")
    data = json.loads(lines[-1][len(REPORT_MARK) :])
    if data.get("error"):
        last = data["error"].strip().splitlines()[-1]
        raise CommandFailed(f"the SnapStart check could not run the function: {last}")
    findings = [Finding(item["check"], item["what"], item["fix"]) for item in data["findings"]]
    return Report(findings, data.get("info", {}))


def run_dev(
    handler: str,
    event: Any,
    repo: Path = settings.REPO_ROOT,
    timeout_s: int = TIMEOUT_S,
    extra_path: Sequence[Path] = (),
) -> Report:
    """The check in the dev loop: this interpreter, the function's src/ (and `extra_path`) on the path, a
    private TMPDIR (the machine's /tmp is shared: only the function's own files may count)."""
    with tempfile.TemporaryDirectory(prefix="lambdakit-snapstart-") as tmp:
        inherited = [os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []
        path = os.pathsep.join([str(repo / "src"), *map(str, extra_path), *inherited])
        env = {**os.environ, "TMPDIR": tmp, "PYTHONPATH": path}
        try:
            result = subprocess.run(
                harness_command(sys.executable, handler),
                input=json.dumps(event),
                capture_output=True,
                text=True,
                cwd=repo,
                env=env,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise CommandFailed(
                f"the SnapStart check did not finish within {timeout_s} s (init, two restores and three "
                "calls of the handler): check the event, or that the handler returns"
            ) from None
    return parse_report(result.stdout, result.stderr)


def render(report: Report, handler: str) -> str:
    if report.ready:
        return f"{handler}: ready for SnapStart (nothing made at init breaks a restore)"
    lines = [f"{handler}: {len(report.findings)} finding(s) for SnapStart"]
    lines += [f"  - {finding.line()}" for finding in report.findings]
    return "\n".join(lines)
