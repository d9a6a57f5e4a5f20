"""The sandbox's environment, the verify's lockdown, and a missing program named with its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdakit.core.errors import SnapshotCommandNotFound
from lambdakit.core.settings import OFFLINE_ENV
from lambdakit.snapshot import netaudit, sandbox


def test_command_env_clears_the_callers_caches_and_switches(box: sandbox.Sandbox) -> None:
    base = {
        "PATH": "/bin",
        "HF_HOME": "/home/me/.cache/hf",
        "TRANSFORMERS_CACHE": "/x",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": "src",
        "HF_ENDPOINT": "http://mirror",
    }
    env = sandbox.command_env(base, box, verify=False)
    assert env["HF_HOME"] == f"{box.cache_root}/huggingface" and "TRANSFORMERS_CACHE" not in env
    assert env["HOME"] == str(box.home) and env["TMPDIR"] == str(box.tmp)
    assert "HF_HUB_OFFLINE" not in env and env["HF_ENDPOINT"] == "http://mirror"
    assert env["PYTHONPATH"].split(":") == [str(netaudit.HOOK_DIR), "src"]
    offline = sandbox.command_env(base, box, verify=True)
    assert OFFLINE_ENV.items() <= offline.items() and offline[netaudit.MODE_ENV] == "verify"


def test_lockdown_keeps_temp_dirs_writable_before_making_the_rest_read_only() -> None:
    script = sandbox.lockdown_script([Path("/w/cache dir"), Path("/w/home")], [Path("/tmp")])
    lines = script.splitlines()
    assert lines[0] == "set -e" and lines[-1] == 'exec "$@"'
    assert lines.index("mount --bind /tmp /tmp") < lines.index("mount -o remount,bind,ro /")
    assert "mount -o remount,bind,ro '/w/cache dir'" in lines
    argv = sandbox.isolation_argv(sandbox.Isolation("x", sandbox.UNSHARE_AS_ROOT, ()), script)
    assert argv[:2] == ["unshare", "--net"] and argv[-3:] == ["-c", script, "lambdakit-verify"]
    assert sandbox.isolation_argv(sandbox.AUDIT_ONLY, script) == []


def test_a_missing_program_is_named_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(SnapshotCommandNotFound, match=r"'no-such-tool'.*\$PATH"):
        sandbox.resolve_program(["no-such-tool", "x"], {"PATH": str(tmp_path)}, tmp_path)
