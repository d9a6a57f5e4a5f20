"""The Dev Container opens for real: `devcontainer up` on a fresh clone, the dev loop inside, caches kept.

Real parts: the pinned Dev Containers CLI, the repository's own `.devcontainer/` built and started by it on
the real engine (docker outside of docker), pipenv/nox/sam/pytest from the lock files inside. The Dev
Container's Python is `[tool.lambdakit] python` (`check-devcontainer` is run first). Two stand-ins, because
nothing can be pulled here and containers cannot reach PyPI, both passed the way users swap them:
- `LAMBDAKIT_DEVCONTAINER_BASE_REPOSITORY`: a repository whose `3-<python>-trixie` tag is the Debian trixie
  rootfs the stand-in Lambda base is built from (reused by image, debootstrapped only when absent) plus what
  the devcontainers Python image provides and the Dockerfile relies on (python3 with venv as `python`, git,
  sudo, user `vscode`), and a wheelhouse of every lock file's packages (Pipfile.lock, tools/Pipfile.lock)
  plus pipenv, nox and pip, downloaded on the host for that Python (cp313) and exposed with
  PIP_NO_INDEX/PIP_FIND_LINKS as an offline mirror would be. One difference stays: its Python is Debian's
  3.13.5, where the real base has CPython's latest 3.13 patch.
- `LAMBDAKIT_DEVCONTAINER_DOCKER_CLI`: the host's own docker client binary instead of `docker:<ver>-cli`.
The demo's prepare hook exports with torch, whose CPU wheel exists on this machine for cp311 only, and the
Dev Container has one Python (the real base's image has only its own): the clone's hook is replaced by one
that copies the host's prepared model into the cache root, so `nox -s dev` prepares and the snapshot inside
records, ships and verifies the model as it would the export's.

Everything is cached by content under build/devcontainer-test/ and by image tag, so a rerun only repeats
`devcontainer up` and the checks. Containers and volumes are removed by the workspace's label; the built
image is kept under one tag so the next run's build hits the layer cache.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from lambdakit.core import config as project_config
from lambdakit.core import devcontainer as devcontainer_config
from lambdakit.core import lock, runtimes, settings
from lambdakit.core.settings import REQUIRE_DOCKER_ENV, build_dir, kit_env
from lambdakit.images import engine, hostinstall

pytestmark = [pytest.mark.docker, pytest.mark.devcontainer]

REPO = Path(__file__).resolve().parents[2]
DEVCONTAINER_DIR = REPO / ".devcontainer"
WORK = build_dir(REPO) / "devcontainer-test"
CLI_VERSION = "0.89.0"
CLI_DIR = build_dir(REPO) / "devcontainer-cli"
CLI = CLI_DIR / "node_modules" / ".bin" / "devcontainer"
PREFIX = "lambdakit-test-devcontainer"
PROJECT = "lambdakit-test-dc"  # the clone's [tool.lambdakit] project: its images never meet anyone else's
REMOTE_USER = "vscode"
# The CLI maps vscode's uid to the host user's, except for root (uid 0 is taken): vscode keeps 1000.
IMAGE_UID = 1000
WORKSPACE_NAME = "lambda-ml-kit"
# The lock files whose packages run inside (the kit's tools may have their own beside the function's).
LOCK_FILES = ("Pipfile.lock", "tools/Pipfile.lock")
# glibc of the Debian release the Dev Container's base runs (devcontainers/python:3-<python>-trixie)
DEBIAN_GLIBC = {"trixie": (2, 41)}
BASE_SUITE = "trixie"  # the tag family .devcontainer/Dockerfile builds FROM
CLI_TIMEOUT_S = 1800

BASE_DOCKERFILE = """\
FROM {rootfs}
RUN mkdir -p /var/log/apt && apt-get update \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
        python3-venv python-is-python3 git sudo \\
    && rm -rf /var/lib/apt/lists/* \\
    && useradd --create-home --shell /bin/bash --uid {uid} --user-group vscode \\
    && echo 'vscode ALL=(root) NOPASSWD:ALL' > /etc/sudoers.d/vscode && chmod 0440 /etc/sudoers.d/vscode
COPY wheelhouse /opt/wheelhouse
ENV PIP_NO_INDEX=1 PIP_FIND_LINKS=/opt/wheelhouse PIP_DISABLE_PIP_VERSION_CHECK=1
"""


# Run inside the Dev Container: print a URL's body once the freshly started server answers.
FETCH_WITH_RETRIES = """
import sys, time, urllib.request
for _ in range(50):
    try:
        sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit(f"{sys.argv[1]} never answered")
"""


def log(message: str) -> None:
    print(f"[devcontainer-test] {message}", file=sys.stderr, flush=True)


def unavailable(reason: str) -> NoReturn:
    """CI (LAMBDAKIT_REQUIRE_DOCKER=1) must not pass by skipping; elsewhere a missing tool skips."""
    if os.environ.get(REQUIRE_DOCKER_ENV) == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def sha12(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
    return digest.hexdigest()[:12]


def run(
    argv: list[str], *, env: dict[str, str] | None = None, timeout: float = CLI_TIMEOUT_S, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        pytest.fail(
            f"`{' '.join(argv)}` exited {result.returncode}:\n{result.stdout[-4000:]}\n"
            f"{result.stderr[-4000:]}"
        )
    return result


# --- the tools and images the test brings (cached) -------------------------------------------------------


def devcontainer_cli() -> Path:
    """The pinned Dev Containers CLI under build/ (installed with npm on first use)."""
    if CLI.is_file() and run([str(CLI), "--version"], check=False).stdout.strip() == CLI_VERSION:
        return CLI
    npm = shutil.which("npm")
    if npm is None:
        unavailable("npm is not installed: the Dev Containers CLI (@devcontainers/cli) needs Node.js and npm")
    log(f"npm install @devcontainers/cli@{CLI_VERSION} into {CLI_DIR}")
    run(
        [
            str(npm),
            "install",
            "--prefix",
            str(CLI_DIR),
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            f"@devcontainers/cli@{CLI_VERSION}",
        ],
        timeout=600,
    )
    return CLI


def dockerfile_arg(name: str) -> str:
    match = re.search(rf"^ARG {name}=(\S+)$", (DEVCONTAINER_DIR / "Dockerfile").read_text(), re.MULTILINE)
    assert match, f".devcontainer/Dockerfile has no `ARG {name}=...` default"
    return match.group(1)


def dev_container_python() -> runtimes.Runtime:
    """The Dev Container's Python, which `check-devcontainer` keeps equal to `[tool.lambdakit] python`."""
    from lambdakit.core.errors import KitError

    try:
        version = devcontainer_config.check(project_config.load(REPO).python, REPO)
    except KitError as exc:
        pytest.fail(str(exc))
    assert version is not None, "the repository has no .devcontainer/devcontainer.json"
    return runtimes.RUNTIMES[version]


def locked_pins(lock_file: Path, python: runtimes.Runtime) -> list[str]:
    """`name[extras]==version` of a Pipfile.lock's every section, where the markers hold on PYTHON (Linux)."""
    from packaging.markers import Marker

    environment = {
        "python_version": python.python,
        "python_full_version": f"{python.python}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "os_name": "posix",
        "extra": "",
    }
    pins: list[str] = []
    for section, entries in sorted(json.loads(lock_file.read_text()).items()):
        for name, entry in sorted(entries.items()) if section != "_meta" else ():
            if entry.get("markers") and not Marker(entry["markers"]).evaluate(environment):
                continue  # host pip would judge the markers by its own interpreter, not the container's
            extras = f"[{','.join(entry['extras'])}]" if entry.get("extras") else ""
            pins.append(f"{name}{extras}{entry['version']}")
    return pins


def wheelhouse(target: Path, python: runtimes.Runtime) -> str:
    """Every wheel the container installs: every lock file's packages, the image's pipenv/nox pins and a pip.

    Downloaded by the host's pip (whatever its own Python) for PYTHON on the base's glibc: wheels only, as
    an offline mirror of PyPI serves them; [packages] again for the Lambda runtime's glibc (`nox -s build`).
    """
    locks = [REPO / name for name in LOCK_FILES if (REPO / name).is_file()]
    # one download per lock file: each pins its own environment (the tools' numpy may not be the function's)
    groups = [locked_pins(lock_file, python) for lock_file in locks]
    locked = [pin for group in groups for pin in group]
    tools = [f"pipenv=={dockerfile_arg('PIPENV_VERSION')}", f"nox=={dockerfile_arg('NOX_VERSION')}", "pip"]
    runtime = project_config.load().runtime
    image_packages = lock.locked_requirements(("packages",), repo=REPO)
    key = sha12(*locked, *tools, *image_packages, python.identifier, runtime.identifier)
    stamp = target / ".key"
    if stamp.is_file() and stamp.read_text() == key:
        return key
    log(f"pip download {len(locked)} locked packages + {' '.join(tools)} for {python.abi} into {target}")
    shutil.rmtree(target, ignore_errors=True)
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
    pip += ["-d", str(target), "--only-binary=:all:"]

    def wheels_for(glibc: tuple[int, int], version: runtimes.Runtime) -> list[str]:
        platforms = hostinstall.manylinux_platforms("x86_64", glibc)
        argv = [arg for platform in platforms for arg in ("--platform", platform)]
        return [*argv, "--python-version", version.python, "--implementation", "cp", "--abi", version.abi]

    container = wheels_for(DEBIAN_GLIBC[BASE_SUITE], python)
    for number, group in enumerate(groups):
        requirements = lock.write_requirements(WORK / f"requirements-{number}.txt", group)
        run([*pip, "--no-deps", *container, "-r", str(requirements)], timeout=1200)
    run([*pip, *container, *tools], timeout=600)
    # `nox -s build` inside installs [packages] for the Lambda runtime (Amazon Linux's older glibc)
    image_requirements = lock.write_requirements(WORK / "image-requirements.txt", image_packages)
    run([*pip, "--no-deps", *wheels_for(runtime.glibc, runtime), "-r", str(image_requirements)], timeout=1200)
    stamp.write_text(key)
    return key


def rootfs_image(python: runtimes.Runtime, suite: str) -> str:
    """The Debian SUITE rootfs the stand-in Lambda base of PYTHON is built from (the workflow inside needs
    that base anyway), found in its history; else the kit's debootstrap cache, imported by tag. Either way
    one debootstrap per machine, not one per test."""
    from lambdakit.core.errors import KitError
    from lambdakit.images import baseimage

    try:
        standin = baseimage.build(python=python.python)
    except KitError as exc:
        pytest.fail(f"cannot build the stand-in Lambda base whose rootfs the test's base image reuses: {exc}")
    rootfs = {
        image.id: tag
        for image in engine.client().images.list(name=baseimage.ROOTFS_REPOSITORY)
        for tag in image.tags
        if re.fullmatch(rf"{re.escape(baseimage.ROOTFS_REPOSITORY)}:{suite}-[0-9a-f]{{12}}", tag)
    }
    for layer in engine.client().images.get(standin).history():
        if layer.get("Id") in rootfs:
            return rootfs[layer["Id"]]
    try:
        tarball = baseimage.rootfs_tarball(build_dir(REPO) / "base-image", suite)
    except KitError as exc:
        pytest.fail(f"cannot build the Debian rootfs for the test's base image: {exc}")
    digest = hashlib.sha256()
    with tarball.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    tag = f"{suite}-{digest.hexdigest()[:12]}"
    image = f"{baseimage.ROOTFS_REPOSITORY}:{tag}"
    if not engine.image_exists(image):
        log(f"docker import {tarball.name} as {image}")
        engine.import_tarball(tarball, baseimage.ROOTFS_REPOSITORY, tag)
    return image


def base_repository(python: runtimes.Runtime) -> str:
    """Stands in for mcr.microsoft.com/devcontainers/python (its `3-<python>-trixie` tag), plus the offline
    wheelhouse. The repository's name carries the content key: the tag is the one the Dockerfile asks for."""
    if runtimes.DEBIAN_SUITE.get(python.python) != BASE_SUITE:
        pytest.fail(
            f"no Debian {BASE_SUITE} rootfs has Python {python.python} as python3 to stand in for "
            f"devcontainers/python:3-{python.python}-{BASE_SUITE}; test with a Python that Debian ships"
        )
    context = WORK / "base"
    context.mkdir(parents=True, exist_ok=True)
    wheels = wheelhouse(context / "wheelhouse", python)
    rootfs = rootfs_image(python, BASE_SUITE)
    dockerfile = BASE_DOCKERFILE.format(rootfs=rootfs, uid=IMAGE_UID)
    repository = f"{PREFIX}-base-{sha12(dockerfile, wheels)}"
    tag = f"{repository}:3-{python.python}-{BASE_SUITE}"
    if not engine.image_exists(tag):
        (context / "Dockerfile").write_text(dockerfile)
        log(f"docker build {tag} (FROM {rootfs} + python3-venv, git, sudo, vscode, wheelhouse)")
        engine.build(context, tag)
        for image in engine.client().images.list():
            for other in image.tags:
                if other.startswith(f"{PREFIX}-base-") and other != tag:
                    engine.client().images.remove(other, noprune=False)  # an older key's stand-in
    return repository


def docker_cli_image() -> str:
    """The stand-in for docker:<ver>-cli: this machine's docker client at the same path."""
    client = shutil.which("docker")
    if client is None:
        unavailable("no docker client on PATH to put into the Dev Container")
    binary = Path(client).resolve().read_bytes()
    tag = f"{PREFIX}-docker-cli:{sha12(binary)}"
    if not engine.image_exists(tag):
        context = WORK / "docker-cli"
        context.mkdir(parents=True, exist_ok=True)
        (context / "docker").write_bytes(binary)
        (context / "docker").chmod(0o755)
        (context / "Dockerfile").write_text("FROM scratch\nCOPY docker /usr/local/bin/docker\n")
        engine.build(context, tag)
        drop_other_tags(tag)
    return tag


def drop_other_tags(tag: str) -> None:
    """A new cache key replaces the old image: untag the repository's other keys so they can be pruned."""
    repository = tag.rsplit(":", 1)[0]
    for image in engine.client().images.list(name=repository):
        for other in image.tags:
            if other != tag:
                engine.client().images.remove(other, noprune=False)


# --- the fresh clone --------------------------------------------------------------------------------------


def fresh_clone(target: Path) -> Path:
    """`git clone` of this repository, then the working tree's uncommitted changes on top.

    Once everything is committed this is exactly a fresh clone; before that it tests the work in progress
    (ignored paths such as .cache/, .nox/ and build/ stay out, as in a clone).
    """
    run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(target)], timeout=300)
    listing = run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
    for name in filter(None, listing.stdout.split("\0")):
        source, copy = REPO / name, target / name
        if source.is_file():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy)
        elif copy.exists():
            copy.unlink()  # deleted in the working tree, not yet committed
    if os.geteuid() == 0:
        for path in [target, *target.rglob("*")]:
            os.lchown(path, IMAGE_UID, IMAGE_UID)
    return target


# --- the Dev Container ------------------------------------------------------------------------------------


@dataclass
class DevContainer:
    cli: Path
    workspace: Path
    home: Path
    env: dict[str, str]
    base_image: str

    def up(self, *extra: str) -> dict[str, str]:
        result = run(
            [str(self.cli), "up", "--workspace-folder", str(self.workspace), *extra],
            env=self.env,
            check=False,
        )
        lines = result.stdout.strip().splitlines()
        outcome = json.loads(lines[-1]) if lines else {}
        if result.returncode != 0 or outcome.get("outcome") != "success":
            pytest.fail(f"devcontainer up failed ({outcome}):\n{result.stderr[-6000:]}")
        return dict(outcome)

    def exec(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run(
            [str(self.cli), "exec", "--workspace-folder", str(self.workspace), *argv],
            env=self.env,
            check=check,
        )

    def read_configuration(self) -> dict[str, Any]:
        """The CLI's view of devcontainer.json: variables substituted, workspace folder resolved."""
        answer = run(
            [str(self.cli), "read-configuration", "--workspace-folder", str(self.workspace)], env=self.env
        )
        return dict(json.loads(answer.stdout))

    def container(self) -> Any:
        found = engine.client().containers.list(
            all=True, filters={"label": f"devcontainer.local_folder={self.workspace}"}
        )
        assert len(found) == 1, f"expected one container for {self.workspace}, found {len(found)}"
        return found[0]


def seed_model(container: Any, model_dir: Path) -> None:
    """Copy the prepared model into /cache, owned by the remote user as if it had been prepared there."""
    ids = container.exec_run(["sh", "-c", f"id -u {REMOTE_USER}; id -g {REMOTE_USER}"]).output.split()
    uid, gid = int(ids[0]), int(ids[1])
    exports = "/cache/huggingface/exports"
    container.exec_run(["mkdir", "-p", exports], user=REMOTE_USER)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for path in [model_dir, *sorted(model_dir.rglob("*"))]:
            info = tar.gettarinfo(str(path), arcname=str(path.relative_to(model_dir.parent)))
            info.uid, info.gid, info.uname, info.gname = uid, gid, "", ""
            if path.is_file():
                with path.open("rb") as stream:
                    tar.addfile(info, stream)
            else:
                tar.addfile(info)
    assert container.put_archive(exports, archive.getvalue())


def remove_everything(workspace: Path) -> None:
    """Containers and volumes of this workspace; the image stays under one tag as the next run's cache."""
    docker_client = engine.client()
    label = f"devcontainer.local_folder={workspace}"
    for container in docker_client.containers.list(all=True, filters={"label": label}):
        volumes = [m["Name"] for m in container.attrs["Mounts"] if m["Type"] == "volume"]
        image_tags = list(container.image.tags)
        if image_tags:
            container.image.tag(f"{PREFIX}-image", "latest")
        container.remove(force=True)
        for name in volumes:
            docker_client.volumes.get(name).remove(force=True)
        for tag in image_tags:
            for name in {tag, tag.replace("-uid:", ":")}:
                if name.startswith("vsc-"):
                    docker_client.images.remove(name, noprune=True)


def name_the_project(workspace: Path, project: str) -> None:
    """`[tool.lambdakit] project` is the knob users turn so checkouts share one engine safely."""
    pyproject = workspace / "pyproject.toml"
    text, count = re.subn(r'(?m)^project = "[^"]*"$', f'project = "{project}"', pyproject.read_text())
    assert count == 1, "pyproject.toml has no `project = ...` line under [tool.lambdakit]"
    pyproject.write_text(text)


# The clone's build-time hook: the host's prepared model into the cache root, as the demo's export leaves it.
SEED = "build/devcontainer-seed"
COPY_HOOK = (
    "import os, pathlib, shutil; "
    "[shutil.copytree(m, pathlib.Path(os.environ['HF_HOME'], 'exports', m.name), dirs_exist_ok=True) "
    f"for m in pathlib.Path('{SEED}').iterdir()]"
)


def replace_the_prepare_hook(workspace: Path, model_dir: Path) -> list[Path]:
    """The demo's hook needs torch, here a cp311-only wheel, and the Dev Container has one Python: the clone's
    hook copies the host's prepared model instead, with no [prepare-packages] and no `prepare-python`.
    Returns the paths written (for their owner)."""
    pyproject = workspace / "pyproject.toml"
    hook = f'prepare = ["python", "-c", "{COPY_HOOK}"]'
    text, count = re.subn(r"(?m)^prepare = \[.*\]$", hook, pyproject.read_text())
    assert count == 1, "pyproject.toml has no one-line `prepare = [...]` under [tool.lambdakit]"
    pyproject.write_text(re.sub(r'(?m)^prepare-python = "[^"]*"\n', "", text))
    pipfile = workspace / "Pipfile"
    pipfile.write_text(re.sub(r"(?ms)^\[prepare-packages\]\n.*?(?=^\[|\Z)", "", pipfile.read_text()))
    record_the_pipfile_hash(workspace)
    seed = workspace / SEED / model_dir.name
    shutil.copytree(model_dir, seed)
    return [seed.parent, seed, *seed.rglob("*")]


def record_the_pipfile_hash(workspace: Path) -> None:
    """What `pipenv lock` records after an edit of an unlocked category: the Pipfile's new hash; the locked
    packages stay."""
    lock_file = workspace / "Pipfile.lock"
    locked = json.loads(lock_file.read_text())
    locked["_meta"]["hash"] = {"sha256": lock.pipfile_hash(workspace / "Pipfile")}
    lock_file.write_text(json.dumps(locked, indent=4) + "\n")


def remove_project_images(project: str) -> None:
    """The images the workflow inside built under the project's names (nothing else is touched)."""
    for image in engine.client().images.list():
        for tag in image.tags:
            if tag.startswith(f"{project}-") or tag == f"inferencefunction:{project}":
                engine.remove_image(tag)


@pytest.fixture(scope="module")
def devcontainer(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Iterator[DevContainer]:
    cli = devcontainer_cli()
    python = dev_container_python()
    repository, docker_cli = base_repository(python), docker_cli_image()
    base = f"{repository}:3-{python.python}-{BASE_SUITE}"
    root = tmp_path_factory.mktemp("devcontainer")
    home = root / "home"  # a HOME without ~/.aws: initializeCommand must create it
    home.mkdir()
    env = os.environ | {
        "HOME": str(home),
        "LAMBDAKIT_DEVCONTAINER_BASE_REPOSITORY": repository,
        "LAMBDAKIT_DEVCONTAINER_DOCKER_CLI": docker_cli,
    }
    workspace = fresh_clone(root / WORKSPACE_NAME)
    name_the_project(workspace, PROJECT)
    written = replace_the_prepare_hook(workspace, model_dir)
    if os.geteuid() == 0:
        for path in [workspace / "build", *written]:
            os.lchown(path, IMAGE_UID, IMAGE_UID)
    box = DevContainer(cli, workspace, home, env, base)
    try:
        log(f"devcontainer up {workspace} (base {base})")
        box.up()
        seed_model(box.container(), model_dir)
        yield box
    finally:
        remove_everything(workspace)
        remove_project_images(PROJECT)
        # the workspace's .nox venvs and build/ weigh ~8 GB: on CI's shared disk they must not outlive
        # the module
        shutil.rmtree(root, ignore_errors=True)


# --- what users rely on -----------------------------------------------------------------------------------


def test_the_toolchain_answers_inside(devcontainer: DevContainer) -> None:
    server = devcontainer.exec("docker", "info", "--format", "{{.ServerVersion}}").stdout.strip()
    assert server == engine.client().version()["Version"]  # the host's engine, not one inside
    assert devcontainer.exec("sam", "--version").stdout.startswith("SAM CLI, version")
    assert devcontainer.exec("pipenv", "--version").stdout.startswith("pipenv, version")
    assert devcontainer.exec("pre-commit", "--version").stdout.startswith("pre-commit")
    python = dev_container_python().python
    assert devcontainer.exec("python", "--version").stdout.startswith(f"Python {python}.")


def test_the_kit_env_block_and_workspace_variables_are_set(devcontainer: DevContainer) -> None:
    printed = devcontainer.exec("env").stdout.splitlines()
    env = dict(line.split("=", 1) for line in printed if "=" in line)
    assert {name: env.get(name) for name in kit_env("/cache")} == kit_env("/cache")
    assert env["LOCAL_WORKSPACE_FOLDER"] == str(devcontainer.workspace)
    workspace = devcontainer.read_configuration()["workspace"]["workspaceFolder"]
    assert env["PYTHONPATH"] == f"{workspace}/src"
    assert env["PATH"].startswith(f"{workspace}/.venv/bin:")


def test_the_editor_interpreter_is_the_pipenv_venv_with_the_locked_tools(devcontainer: DevContainer) -> None:
    settings = devcontainer.read_configuration()["configuration"]["customizations"]["vscode"]["settings"]
    interpreter = settings["python.defaultInterpreterPath"]
    venv = devcontainer.exec("pipenv", "--venv").stdout.strip()
    assert interpreter == f"{venv}/bin/python"
    assert settings["python.testing.pytestEnabled"] is True
    # the function's packages and its tests' tools; the kit's own tools may live apart (on PATH, see above)
    code = "import pytest, inference, lambdakit; print('ok')"
    imported = devcontainer.exec(interpreter, "-c", code)
    assert imported.stdout.strip() == "ok"
    hook = devcontainer.workspace / ".git" / "hooks" / "pre-commit"
    assert hook.is_file() and "pre-commit" in hook.read_text(), "nox -s setup did not install the git hook"


def test_nox_dev_runs_every_sample_event_inside(devcontainer: DevContainer) -> None:
    result = devcontainer.exec("nox", "-s", "dev")
    output = result.stdout + result.stderr
    events = sorted(p.name for p in (devcontainer.workspace / "events").glob("*.json"))
    assert events
    for name in events:
        assert f"# events/{name}: ok" in output
    assert output.count('"label"') >= len(events), output[-3000:]
    assert "Session dev was successful" in output


def test_the_unit_tests_pass_inside(devcontainer: DevContainer) -> None:
    # As users run them; tests marked `torch` need the demo's prepare-packages, which the clone has not.
    result = devcontainer.exec(
        "nox",
        "-s",
        "tests",
        "--",
        "tests/unit",
        "-q",
        "-p",
        "no:cacheprovider",
        "-m",
        "not torch",
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert re.search(r"\b\d+ passed\b", output)


def test_docker_outside_of_docker_uses_host_paths_and_host_ports(devcontainer: DevContainer) -> None:
    # What `sam local` and the rehearsal need from inside: bind mounts named by host path
    # ($LOCAL_WORKSPACE_FOLDER), and a port the engine publishes on its loopback, reached at 127.0.0.1 (the
    # Dev Container shares the engine's network namespace: SAM's defaults work, nothing listens beyond it).
    name = f"{PREFIX}-probe-{uuid.uuid4().hex[:8]}"
    serve = (
        f"docker run -d --rm --name {name} -p 127.0.0.1::8000 "
        f'-v "$LOCAL_WORKSPACE_FOLDER:/workspace:ro" -w /workspace {devcontainer.base_image} '
        "python3 -m http.server 8000"
    )
    try:
        devcontainer.exec("sh", "-c", serve)
        server = engine.client().containers.get(name)
        port = server.ports["8000/tcp"][0]["HostPort"]
        fetch = 'exec python3 -c "$1" "http://127.0.0.1:$2/pyproject.toml"'
        served = devcontainer.exec("sh", "-c", fetch, "sh", FETCH_WITH_RETRIES, port).stdout
    finally:
        for container in engine.client().containers.list(all=True, filters={"name": name}):
            container.remove(force=True)
    assert served == (devcontainer.workspace / "pyproject.toml").read_text()


def test_aws_folder_is_created_on_the_host_and_mounted_read_only(devcontainer: DevContainer) -> None:
    aws = devcontainer.home / ".aws"
    assert aws.is_dir(), "initializeCommand did not create ~/.aws on the host"
    (aws / "config").write_text("[default]\nregion = eu-west-1\n")
    inside = devcontainer.exec("cat", f"/home/{REMOTE_USER}/.aws/config").stdout
    assert inside == "[default]\nregion = eu-west-1\n"
    denied = devcontainer.exec("touch", f"/home/{REMOTE_USER}/.aws/credentials", check=False)
    assert denied.returncode != 0 and "Read-only file system" in denied.stderr


def test_the_cache_volume_survives_a_rebuilt_container(devcontainer: DevContainer) -> None:
    marker, token = "/cache/lambdakit-devcontainer-test", uuid.uuid4().hex
    devcontainer.exec("sh", "-c", f"echo {token} > {marker}")
    before = devcontainer.container().id
    devcontainer.up("--remove-existing-container")
    assert devcontainer.container().id != before
    assert devcontainer.exec("cat", marker).stdout.strip() == token
    # the seeded model is in the same volume: the rebuilt container runs the handler without preparing again
    answer = devcontainer.exec("python", "-m", "inference", "--text", "I was charged twice this month")
    assert json.loads(answer.stdout)["label"]


# --- the whole workflow inside, as vscode, against the host's engine ----------------------------------------

WORKFLOW = (
    ("snapshot", ("nox", "-s", "snapshot")),
    ("assets", ("nox", "-s", "assets")),
    ("build", ("nox", "-s", "build")),
    ("local", ("nox", "-s", "local")),
    ("faithful", ("nox", "-s", "local", "--", "--faithful")),
    ("rehearse", ("nox", "-s", "rehearse")),
)


@pytest.fixture(scope="module")
def workflow(devcontainer: DevContainer) -> dict[str, subprocess.CompletedProcess[str]]:
    """Each step in order, as a user types it; a failed step stops the rest (they would only repeat it)."""
    from lambdakit.images import baseimage

    base = baseimage.build(
        project_config.load().python
    )  # the stand-in Lambda base, shared with the host's runs by its tag
    steps: dict[str, subprocess.CompletedProcess[str]] = {}
    for name, argv in WORKFLOW:
        log(f"inside: {' '.join(argv)}")
        steps[name] = devcontainer.exec("env", f"{settings.BASE_IMAGE_ENV}={base}", *argv, check=False)
        if steps[name].returncode != 0:
            break
    return steps


def step(workflow: dict[str, subprocess.CompletedProcess[str]], name: str) -> str:
    if name not in workflow:
        pytest.fail(f"`{name}` did not run: an earlier step failed")
    result = workflow[name]
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"`{name}` exited {result.returncode}:\n{output[-5000:]}"
    return output


def test_snapshot_then_assets_inside(
    devcontainer: DevContainer, workflow: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    step(workflow, "snapshot")
    assert (devcontainer.workspace / "build" / "assets" / "assets.tar").is_file()
    step(workflow, "assets")
    tags = [tag for image in engine.client().images.list(name=f"{PROJECT}-assets") for tag in image.tags]
    assert f"{PROJECT}-assets:latest" in tags, tags


def test_build_inside_tags_the_projects_function_image(
    workflow: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    step(workflow, "build")
    assert engine.image_exists(f"inferencefunction:{PROJECT}")


def test_sam_local_invoke_inside_answers_every_event(
    devcontainer: DevContainer, workflow: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    output = step(workflow, "local")
    events = sorted(p.name for p in (devcontainer.workspace / "events").glob("*.json"))
    for name in events:
        assert f"-e events/{name}" in output or f"events/{name}" in output, name
    assert output.count('"label') >= len(events), output[-3000:]


def test_the_faithful_run_inside_answers_every_event_without_root(
    devcontainer: DevContainer, workflow: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    output = step(workflow, "faithful")
    for path in sorted((devcontainer.workspace / "events").glob("*.json")):
        assert f"# {path.name} → ok" in output, output[-3000:]
    assert "Lambda-faithful run" in output and "uid 993" in output


def test_the_rehearsal_inside_deploys_invokes_and_redeploys(
    workflow: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    output = step(workflow, "rehearse")
    assert "# invoke again: the answers now carry the change" in output, output[-3000:]
    assert "# stand-in stopped" in output and "Session rehearse was successful" in output
