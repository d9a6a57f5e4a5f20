"""The nox sessions' three shared environments: which interpreter makes them, whether one is still good.

    function  [tool.lambdakit] python   Pipfile.lock [packages] + [dev-packages]: the dev loop, the function's
                                        tests, and every place the kit runs the function (the snapshot)
    tools     [tool.lambdakit] python   tools/Pipfile.lock: every Docker-side session, lint, the kit's tests
    prepare   prepare-python (or python) [packages] + [dev-packages] + the Pipfile's [prepare-packages]

Standard library only: the noxfile imports it before any environment exists. The noxfile makes them (its
`session.run` shows each step); this module decides what to make.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from lambdakit.core.errors import KitError

STAMP = ".lambdakit-requirements"  # what was installed last, as a digest: nothing changed, no pip at all
FUNCTION_PYTHON_ENV = "LAMBDAKIT_FUNCTION_PYTHON"  # the function env's interpreter, for the kit's tests
PREPARE_PYTHON_ENV = "LAMBDAKIT_PREPARE_PYTHON"  # the prepare env's interpreter, for the kit's tests


class PythonMissing(KitError):
    """The Python a session needs is not installed on this host."""


VERSION_PROBE = "import sys; print('%d.%d' % sys.version_info[:2])"


def find_python(version: str) -> str:
    """`pythonX.Y` on PATH (or the interpreter running nox, when it is that version), asked for its version:
    pyenv's shim for a version that is installed but not selected is on PATH, and fails when run."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    found = shutil.which(f"python{version}")
    if found is None or _version_of(found) != version:
        raise PythonMissing(
            f"Python {version} is not on PATH; get it with `pyenv install {version}` (then "
            f"`pyenv shell {version}` or PYENV_VERSION), `uv python install {version}`, "
            f"or `apt-get install python{version}-venv` (the Dev Container holds [tool.lambdakit] python "
            "only)."
        )
    return found


def _version_of(python: str) -> str | None:
    try:
        done = subprocess.run(
            [python, "-c", VERSION_PROBE], capture_output=True, text=True, timeout=60, check=False
        )
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def interpreter(location: Path) -> Path:
    return location / "bin" / "python"


def is_venv_of(location: Path, version: str) -> bool:
    """A usable venv at `location` made by Python `version` (pyvenv.cfg's `version = X.Y.Z`)."""
    config = location / "pyvenv.cfg"
    if not config.is_file() or not os.access(interpreter(location), os.X_OK):
        return False
    for line in config.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key.strip() in {"version", "version_info"}:
            return value.strip().startswith(f"{version}.")
    return False


def digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def is_current(location: Path, wanted: str) -> bool:
    stamp = location / STAMP
    return stamp.is_file() and stamp.read_text(encoding="utf-8") == wanted


def mark_current(location: Path, wanted: str) -> None:
    (location / STAMP).write_text(wanted, encoding="utf-8")


def function_pythons(function: Path, prepare: Path) -> dict[str, str]:
    """The variables that tell the kit's tests (tools env) which interpreters run the function."""
    return {FUNCTION_PYTHON_ENV: str(function), PREPARE_PYTHON_ENV: str(prepare)}
