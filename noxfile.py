"""lambda-ml-kit: the whole workflow, one session per step. `nox -l` lists them.

Every session runs with the kit's ENV block (one cache root, `.cache/` here) and calls `inference` or
`lambdakit`; the logic lives there, not here. Sessions that push or touch AWS are not run by default.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import nox

REPO = Path(__file__).parent
sys.path.insert(0, str(REPO / "src"))

from inference import prepare as model_prep  # noqa: E402  (standard library only until prepare runs)
from lambdakit import lock, settings  # noqa: E402

nox.needs_version = ">=2024.3.2"
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "tests"]

PYTHON = "3.11"
CACHE_ROOT = settings.dev_cache_root(REPO)


def use_kit_env(session: nox.Session, offline: bool = True) -> None:
    session.env.update(settings.kit_env(CACHE_ROOT, offline=offline))
    session.env["PYTHONPATH"] = str(REPO / "src")


def install_locked(session: nox.Session, *categories: str, extra: tuple[str, ...] = ()) -> None:
    """Install the locked categories (hash-checked), skipping pip when nothing changed since last time."""
    lines = lock.locked_requirements(categories)
    digest = hashlib.sha256("\n".join([*lines, *extra]).encode()).hexdigest()
    stamp = Path(session.virtualenv.location) / ".lambdakit-requirements"
    if stamp.is_file() and stamp.read_text() == digest:
        return
    requirements = lock.write_requirements(REPO / "build" / "requirements" / f"{session.name}.txt", lines)
    session.install("-r", str(requirements))
    if extra:
        session.install(*extra)
    stamp.write_text(digest)


@nox.session(python=PYTHON)
def prepare(session: nox.Session) -> None:
    """Export the default model to ONNX into the cache root (build-time env with torch; once)."""
    use_kit_env(session)
    force = "--force" in session.posargs
    if model_prep.is_prepared(model_prep.paths.model_dir_for(CACHE_ROOT)) and not force:
        session.log(f"model up to date in {CACHE_ROOT} (nox -s prepare -- --force to redo)")
        return
    session.log("first run: installing torch (CPU) and exporting the model; later runs reuse it")
    install_locked(session, "packages", extra=tuple(lock.pipfile_requirements("prepare-packages")))
    session.run("python", "-m", "inference.prepare", *(["--force"] if force else []))


@nox.session(python=PYTHON, requires=["prepare"])
def dev(session: nox.Session) -> None:
    """Run every sample event (or the given ones) through the handler, no Docker."""
    use_kit_env(session)
    install_locked(session, "packages")
    for event in session.posargs or sorted(
        str(p.relative_to(REPO)) for p in (REPO / "events").glob("*.json")
    ):
        session.log(f"# python -m inference {event}")
        session.run("python", "-m", "inference", event, success_codes=[0, 1] if session.posargs else [0])


@nox.session(python=PYTHON, requires=["prepare"])
def tests(session: nox.Session) -> None:
    """Unit tests, the ONNX parity test and the Docker integration tests (pytest args after --)."""
    use_kit_env(session)
    install_locked(
        session, "packages", "dev-packages", extra=tuple(lock.pipfile_requirements("prepare-packages"))
    )
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """pre-commit on every file: ruff, ruff-format, mypy and hygiene hooks, pinned by the Pipfile.lock."""
    install_locked(session, "packages", "dev-packages")
    session.run("pre-commit", "run", "--all-files", "--show-diff-on-failure", *session.posargs)
