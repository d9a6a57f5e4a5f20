"""lambda-ml-kit: the whole workflow, one session per step. `nox -l` lists them.

Every session runs with the kit's ENV block (one cache root, `.cache/` here) and calls `lambdakit`; the
logic lives there, not here. The function is named in `[tool.lambdakit]` (pyproject.toml), never imported.
Sessions that push or touch AWS are not run by default.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import nox

REPO = Path(__file__).parent
sys.path.insert(0, str(REPO / "src"))

from lambdakit.core import config, lock, settings  # noqa: E402  (standard library only)
from lambdakit.core.errors import KitError  # noqa: E402

nox.needs_version = ">=2024.3.2"
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "tests"]

PYTHON = "3.11"
CACHE_ROOT = settings.dev_cache_root(REPO)
try:
    PROJECT = config.load(REPO)
    PREPARE_PACKAGES = tuple(lock.pipfile_requirements(config.PREPARE_CATEGORY, REPO, missing_ok=True))
except KitError as exc:
    raise SystemExit(f"error: {exc}") from None
PREPARED = ["prepare"] if PROJECT.prepare else []  # the build-time hook runs first, when there is one


def use_kit_env(session: nox.Session, offline: bool = False) -> None:
    """The ENV block (online unless asked), its folders created, and the function's source on the path."""
    session.env.update(settings.kit_env(CACHE_ROOT, offline=offline))
    session.env["PYTHONPATH"] = str(REPO / "src")
    settings.make_cache_dirs(CACHE_ROOT)


def install_locked(session: nox.Session, *categories: str, extra: tuple[str, ...] = ()) -> None:
    """Install the locked categories (hash-checked), each package from the index the lock binds it to,
    skipping pip when nothing changed since last time."""
    groups = lock.locked_groups(categories, REPO)
    lines = [f"{url} {line}" if url else line for url, group in groups for line in group]
    digest = hashlib.sha256("\n".join([*lines, *extra]).encode()).hexdigest()
    stamp = Path(session.virtualenv.location) / ".lambdakit-requirements"
    if stamp.is_file() and stamp.read_text() == digest:
        return
    for number, (url, group) in enumerate(groups):
        name = session.name if number == 0 else f"{session.name}-{number}"
        requirements = lock.write_requirements(REPO / "build" / "requirements" / f"{name}.txt", group)
        # several indexes: no resolving (the lock is complete), or pip would look for torch on PyPI
        options = [*(["--no-deps"] if len(groups) > 1 else []), *(["--index-url", url] if url else [])]
        if group:
            session.install(*options, "-r", str(requirements))
    if extra:
        # The locked versions stay put: tests must run on the numpy/onnxruntime that ship in the image.
        pins = lock.locked_constraints(categories, REPO)
        constraints = lock.write_requirements(
            REPO / "build" / "requirements" / f"{session.name}.constraints.txt", pins
        )
        session.install("-c", str(constraints), *extra)
    stamp.write_text(digest)


@nox.session(python=PYTHON)
def prepare(session: nox.Session) -> None:
    """The function's build-time hook, `[tool.lambdakit] prepare`, with the Pipfile's [prepare-packages]."""
    if not PROJECT.prepare:
        session.skip("no [tool.lambdakit] prepare hook in pyproject.toml")
    use_kit_env(session)
    install_locked(session, "packages", extra=PREPARE_PACKAGES)
    # nox hands `dev`'s and `tests`' arguments to this prerequisite too: only --force reaches the hook
    session.run(*PROJECT.prepare, *[arg for arg in session.posargs if arg == "--force"])


@nox.session(python=PYTHON, requires=PREPARED)
def dev(session: nox.Session) -> None:
    """The sample events (or the given ones) through the handler, no Docker (`-- --offline`: no downloads)."""
    events = [arg for arg in session.posargs if arg != "--offline"]
    use_kit_env(session, offline="--offline" in session.posargs)
    install_locked(session, "packages")
    session.run("python", "-m", "lambdakit", "dev", *events, success_codes=[0, 1] if events else [0])


@nox.session(python=PYTHON, requires=PREPARED)
def tests(session: nox.Session) -> None:
    """The kit's unit and Docker integration tests and the function's own tests (pytest args after --)."""
    use_kit_env(session)
    install_locked(session, "packages", "dev-packages", extra=PREPARE_PACKAGES)
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
    """Build the offline stand-in Lambda base `lambdakit/lambda-python:<python>` (-- --architecture arm64)."""
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
    first_event = sorted(str(p.relative_to(REPO)) for p in (REPO / "events").glob("*.json"))[:1]
    session.run("python", "-m", "lambdakit", "invoke", *(session.posargs or first_event))


@nox.session(python=PYTHON)
def rehearse(session: nox.Session) -> None:
    """Offline dry run: deploy, invoke, change code, redeploy against moto + a local registry."""
    use_kit_tools(session)
    build_function_image(session)
    session.run("python", "-m", "lambdakit", "rehearse", *session.posargs)


@nox.session(python=PYTHON)
def snapshot(session: nox.Session) -> None:
    """Record the pipeline's hidden downloads in a sandbox, write build/assets/assets.tar, verify offline."""
    install_locked(session, "packages", "dev-packages", extra=PREPARE_PACKAGES)  # the hook runs in it too
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
