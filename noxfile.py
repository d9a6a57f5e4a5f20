"""lambda-ml-kit: the whole workflow, one session per step. `nox -l` lists them.

Every session runs with the kit's ENV block (one cache root, `.cache/` here) and calls `lambdakit`; the
logic lives there, not here. The function is named in `[tool.lambdakit]` (pyproject.toml), never imported.
Sessions that push or touch AWS are not run by default.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

REPO = Path(__file__).parent
sys.path.insert(0, str(REPO / "src"))

from lambdakit.core import config, lock, settings, testruns, venvs  # noqa: E402  (standard library only)
from lambdakit.core.errors import KitError  # noqa: E402

nox.needs_version = ">=2024.3.2"
nox.options.default_venv_backend = "none"  # no session venv of nox's own: the shared ones (shared_env)
nox.options.sessions = ["lint", "tests"]

CACHE_ROOT = settings.dev_cache_root(REPO)
try:
    PROJECT = config.load(REPO)
    PREPARE_PACKAGES = tuple(lock.pipfile_requirements(config.PREPARE_CATEGORY, REPO, missing_ok=True))
except KitError as exc:
    raise SystemExit(f"error: {exc}") from None
PREPARED = ["prepare"] if PROJECT.prepare else []  # the build-time hook runs first, when there is one
FUNCTION = ("packages", "dev-packages")  # of the Pipfile: what the function runs and its tests need
# The three environments every session shares (src/lambdakit/core/venvs.py): nox makes none of its own
# (python=False), so the second Docker-side session on a fresh clone reuses the first one's tools.
FUNCTION_ENV, TOOLS_ENV, PREPARE_ENV = "function-env", "tools-env", "prepare-env"


def use_kit_env(session: nox.Session, offline: bool = False) -> None:
    """The ENV block (online unless asked), its folders created, and the function's source on the path."""
    session.env.update(settings.kit_env(CACHE_ROOT, offline=offline))
    session.env["PYTHONPATH"] = str(REPO / "src")
    settings.make_cache_dirs(CACHE_ROOT)


def shared_env(
    session: nox.Session,
    name: str,
    python: str,
    where: Path,
    categories: tuple[str, ...],
    extra: tuple[str, ...] = (),
) -> Path:
    """The venv `name` beside nox's own (.nox/), made by Python `python`, holding the locked `categories`
    of `where`'s Pipfile.lock (hash-checked, each package from the index the lock binds it to) and `extra`
    (constrained by those pins); pip runs only when that set changed. Returns its interpreter."""
    try:
        groups = lock.locked_groups(categories, where)
        pip = [
            line
            for line in lock.locked_requirements(("packages",), lock.KIT_TOOLS)
            if line.startswith("pip==")
        ]
        base = venvs.find_python(python)
    except KitError as exc:
        session.error(str(exc).rstrip("."))  # nox adds the full stop
    location = session.cache_dir.parent / name
    wanted = venvs.digest(*pip, *(f"{url} {line}" for url, group in groups for line in group), *extra)
    if venvs.is_venv_of(location, python) and venvs.is_current(location, wanted):
        return venvs.interpreter(location)
    if not venvs.is_venv_of(location, python):
        session.run_install(base, "-m", "venv", "--clear", str(location), external=True)
    python_bin = str(venvs.interpreter(location))
    install = [python_bin, "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
    requirements = REPO / "build" / "requirements"
    # A current pip first: the venv's bundled one (23.2 on 3.11) refuses locks that pipenv writes.
    session.run_install(
        *install, "-r", str(lock.write_requirements(requirements / f"{name}.pip.txt", pip)), external=True
    )
    for number, (url, group) in enumerate(groups):
        if not group:
            continue
        file = lock.write_requirements(requirements / f"{name}-{number}.txt", group)
        # several indexes: no resolving (the lock is complete), or pip would look for torch on PyPI
        options = [*(["--no-deps"] if len(groups) > 1 else []), *(["--index-url", url] if url else [])]
        session.run_install(*install, *options, "-r", str(file), external=True)
    if extra:
        # The locked versions stay put: the hook and the tests run on the numpy/onnxruntime of the image.
        pins = lock.write_requirements(
            requirements / f"{name}.constraints.txt", lock.locked_constraints(categories, where)
        )
        session.run_install(*install, "-c", str(pins), *extra, external=True)
    venvs.mark_current(location, wanted)
    return venvs.interpreter(location)


def function_env(session: nox.Session) -> Path:
    """The function's environment: Pipfile.lock's [packages] + [dev-packages] on the runtime's Python."""
    return shared_env(session, FUNCTION_ENV, PROJECT.python, REPO, FUNCTION)


def prepare_env(session: nox.Session) -> Path:
    """The build-time hook's: the function's packages + [prepare-packages] on `prepare-python`."""
    return shared_env(session, PREPARE_ENV, PROJECT.hook_python, REPO, FUNCTION, extra=PREPARE_PACKAGES)


def tools_env(session: nox.Session) -> Path:
    """The kit's tools (tools/Pipfile.lock) on the runtime's Python, first on PATH, the kit on the path."""
    python = shared_env(session, TOOLS_ENV, PROJECT.python, lock.KIT_TOOLS, ("packages",))
    session.env["PATH"] = os.pathsep.join([str(python.parent), os.environ.get("PATH", "")])
    session.env["VIRTUAL_ENV"] = str(python.parent.parent)
    session.env["PYTHONPATH"] = str(REPO / "src")
    return python


def kit(session: nox.Session, *args: str) -> None:
    """`python -m lambdakit ARGS` in the tools environment."""
    session.run(str(tools_env(session)), "-m", "lambdakit", *args, external=True)


def hook_argv(python: Path) -> list[str]:
    """The prepare hook's argv, `python` meaning the prepare environment's interpreter."""
    first, *rest = PROJECT.prepare
    return [str(python) if first in {"python", "python3"} else first, *rest]


@nox.session(python=False)
def prepare(session: nox.Session) -> None:
    """The function's build-time hook, `[tool.lambdakit] prepare`, with the Pipfile's [prepare-packages]."""
    if not PROJECT.prepare:
        session.skip("no [tool.lambdakit] prepare hook in pyproject.toml")
    python = prepare_env(session)
    use_kit_env(session)
    # nox hands `dev`'s and `tests`' arguments to this prerequisite too: only --force reaches the hook
    session.run(*hook_argv(python), *[arg for arg in session.posargs if arg == "--force"], external=True)


@nox.session(python=False, requires=PREPARED)
def dev(session: nox.Session) -> None:
    """The sample events (or the given ones) through the handler, no Docker (`-- --offline`: no downloads)."""
    events = [arg for arg in session.posargs if arg != "--offline"]
    python = function_env(session)
    use_kit_env(session, offline="--offline" in session.posargs)
    session.run(
        str(python), "-m", "lambdakit", "dev", *events, success_codes=[0, 1] if events else [0], external=True
    )


@nox.session(python=False, requires=PREPARED)
def snapstart(session: nox.Session) -> None:
    """SnapStart readiness: init once, two restores from that snapshot, what breaks (`-- EVENT`, `--json`)."""
    python = function_env(session)
    use_kit_env(session, offline=True)
    session.run(str(python), "-m", "lambdakit", "snapstart-check", *session.posargs, external=True)


@nox.session(python=False, requires=PREPARED)
def tests(session: nox.Session) -> None:
    """The kit's tests (tools env), the function's (function env; `torch` ones: prepare env); pytest args."""
    pythons = {"function": function_env(session), "tools": tools_env(session)}
    pythons["prepare"] = prepare_env(session) if PROJECT.prepare else pythons["function"]
    use_kit_env(session)
    session.env.update(venvs.function_pythons(pythons["function"], pythons["prepare"]))
    for run in testruns.plan(session.posargs, REPO, hook=bool(PROJECT.prepare)):
        session.run(str(pythons[run.env]), "-m", "pytest", *run.argv, success_codes=run.ok, external=True)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """pre-commit on every file: ruff, ruff-format, mypy and hygiene hooks, pinned by tools/Pipfile.lock."""
    python = tools_env(session)
    session.run(
        str(python),
        "-m",
        "pre_commit",
        "run",
        "--all-files",
        "--show-diff-on-failure",
        *session.posargs,
        external=True,
    )


@nox.session(python=False)
def setup(session: nox.Session) -> None:
    """`pipenv sync --dev` (the editor's venv), the shared tools env, the git hooks: the Dev Container's."""
    session.run("pipenv", "sync", "--dev", external=True)
    session.run(str(tools_env(session)), "-m", "pre_commit", "install", external=True)


def build_function_image(session: nox.Session) -> None:
    """The image a step ships or measures is rebuilt first (cached layers make it quick when nothing changed).

    Not `requires=["build"]`: nox would hand this session's pass-through args to the build too.
    """
    session.log("# building the function image first (nox -s build)")
    kit(session, "build")


@nox.session(python=False, name="base-image")
def base_image(session: nox.Session) -> None:
    """Build the offline stand-in Lambda base `lambdakit/lambda-python:<python>` (-- --architecture arm64)."""
    kit(session, "base-image", *session.posargs)


@nox.session(python=False)
def assets(session: nox.Session) -> None:
    """Build the FROM-scratch asset image `<project>-assets:<sha12>` from build/assets/assets.tar."""
    kit(session, "assets", *session.posargs)


@nox.session(python=False)
def build(session: nox.Session) -> None:
    """Stage the locked runtime deps and the code, then `sam build` the function image."""
    kit(session, "build", *session.posargs)


@nox.session(python=False)
def local(session: nox.Session) -> None:
    """`sam local invoke` over the sample events; `-- --faithful` runs the image under Lambda's limits,
    `-- --snapstart` also restores it from a CRIU checkpoint (same answers, restore times)."""
    kit(session, "local", *session.posargs)


@nox.session(python=False, default=False)
def deploy(session: nox.Session) -> None:
    """Push the images to ECR and `sam deploy` the stack (real AWS; `-- ARGS` go to sam deploy)."""
    build_function_image(session)
    kit(session, "deploy", *session.posargs)


@nox.session(python=False, default=False)
def invoke(session: nox.Session) -> None:
    """Invoke the deployed function through the AWS SDK: `-- [EVENT | --text TEXT] [--function NAME]`."""
    first_event = sorted(str(p.relative_to(REPO)) for p in (REPO / "events").glob("*.json"))[:1]
    kit(session, "invoke", *(session.posargs or first_event))


@nox.session(python=False)
def rehearse(session: nox.Session) -> None:
    """Offline dry run: deploy, invoke, change code, redeploy against moto + a local registry."""
    build_function_image(session)
    kit(session, "rehearse", *session.posargs)


@nox.session(python=False)
def snapshot(session: nox.Session) -> None:
    """Record the pipeline's hidden downloads in a sandbox, write build/assets/assets.tar, verify offline."""
    function_python = function_env(session)  # the events run on the function's environment
    hook = ["--prepare-python", str(prepare_env(session))] if PROJECT.prepare else []
    kit(session, "snapshot", "--python", str(function_python), *hook, *session.posargs)


@nox.session(python=False, default=False)
def bench(session: nox.Session) -> None:
    """Kit vs torch baseline in Lambda-faithful containers -> build/bench/results.{json,md} (-- --help)."""
    kit(session, "bench", *session.posargs)


@nox.session(python=False, default=False)
def tune(session: nox.Session) -> None:
    """Local Power Tuning over MemorySize -> build/tune/; `-- --apply` writes MemorySize/Timeout."""
    build_function_image(session)
    kit(session, "tune", *session.posargs)
