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
from lambdakit.core import lock, settings  # noqa: E402

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
        # The locked versions stay put: tests must run on the numpy/onnxruntime that ship in the image.
        pins = lock.locked_constraints(categories)
        constraints = lock.write_requirements(requirements.with_suffix(".constraints.txt"), pins)
        session.install("-c", str(constraints), *extra)
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


@nox.session(python=False)
def setup(session: nox.Session) -> None:
    """Install Pipfile.lock with pipenv (the editor's venv) and the git hooks; the Dev Container runs this."""
    session.run("pipenv", "sync", "--dev", external=True)
    session.run("pipenv", "run", "pre-commit", "install", external=True)


def use_kit_tools(session: nox.Session) -> None:
    """The kit's tooling (Docker SDK, SAM, rich) in the session, and its source on the path."""
    install_locked(session, "packages", "dev-packages")
    session.env["PYTHONPATH"] = str(REPO / "src")


def build_function_image(session: nox.Session) -> None:
    """The image a step ships or measures is rebuilt first (cached layers make it quick when nothing changed).

    Not `requires=["build"]`: nox would hand this session's pass-through args to the build too.
    """
    session.log("# building the function image first (nox -s build)")
    session.run("python", "-m", "lambdakit", "build")


@nox.session(python=PYTHON, name="base-image")
def base_image(session: nox.Session) -> None:
    """Build the offline stand-in Lambda base `lambdakit/lambda-python:3.11` (debootstrap; -- --rebuild)."""
    use_kit_tools(session)
    session.run("python", "-m", "lambdakit", "base-image", *session.posargs)


@nox.session(python=PYTHON)
def assets(session: nox.Session) -> None:
    """Build the FROM-scratch asset image `<project>-assets:<sha12>` from build/assets/assets.tar."""
    use_kit_tools(session)
    session.run("python", "-m", "lambdakit", "assets", *session.posargs)


@nox.session(python=PYTHON)
def build(session: nox.Session) -> None:
    """Stage the locked runtime deps and the code, then `sam build` the function image."""
    use_kit_tools(session)
    session.run("python", "-m", "lambdakit", "build", *session.posargs)


@nox.session(python=PYTHON)
def local(session: nox.Session) -> None:
    """`sam local invoke` over the sample events; `-- --faithful` runs the image under Lambda's limits."""
    use_kit_tools(session)
    session.run("python", "-m", "lambdakit", "local", *session.posargs)


@nox.session(python=PYTHON, default=False)
def deploy(session: nox.Session) -> None:
    """Push the images to ECR and `sam deploy` the stack (real AWS; `-- ARGS` go to sam deploy)."""
    use_kit_tools(session)
    build_function_image(session)
    session.run("python", "-m", "lambdakit", "deploy", *session.posargs)


@nox.session(python=PYTHON, default=False)
def invoke(session: nox.Session) -> None:
    """Invoke the deployed function through the AWS SDK: `-- [EVENT | --text TEXT] [--function NAME]`."""
    use_kit_tools(session)
    session.run("python", "-m", "lambdakit", "invoke", *(session.posargs or ["events/single.json"]))


@nox.session(python=PYTHON)
def rehearse(session: nox.Session) -> None:
    """Offline dry run: deploy, invoke, change code, redeploy against moto + a local registry."""
    use_kit_tools(session)
    build_function_image(session)
    session.run("python", "-m", "lambdakit", "rehearse", *session.posargs)


@nox.session(python=PYTHON)
def snapshot(session: nox.Session) -> None:
    """Record the pipeline's hidden downloads in a sandbox, write build/assets/assets.tar, verify offline."""
    prepare_packages = tuple(lock.pipfile_requirements("prepare-packages"))  # the default COMMAND exports
    install_locked(session, "packages", "dev-packages", extra=prepare_packages)
    session.env["PYTHONPATH"] = str(REPO / "src")
    session.run("python", "-m", "lambdakit", "snapshot", *session.posargs)


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Kit vs torch baseline in Lambda-faithful containers -> build/bench/results.{json,md} (-- --help)."""
    use_kit_tools(session)
    session.run("python", "-m", "lambdakit", "bench", *session.posargs)


@nox.session(python=PYTHON, default=False)
def tune(session: nox.Session) -> None:
    """Local Power Tuning over MemorySize -> build/tune/; `-- --apply` writes MemorySize/Timeout."""
    use_kit_tools(session)
    build_function_image(session)
    session.run("python", "-m", "lambdakit", "tune", *session.posargs)
