"""The Dev Container opens for real: `devcontainer up` on a fresh clone, the dev loop inside, caches kept.

Real parts: the pinned Dev Containers CLI, the repository's own `.devcontainer/` built and started by it on
the real engine (docker outside of docker), pipenv/nox/sam/pytest from Pipfile.lock inside. Two stand-ins,
because nothing can be pulled here and containers cannot reach PyPI, both passed the way users swap them:
- `LAMBDAKIT_DEVCONTAINER_BASE`: a Debian bookworm rootfs (the kit's debootstrap cache, as the stand-in
  Lambda base uses) plus what the devcontainers Python image provides and the Dockerfile relies on (Python
  3.11 with venv, git, sudo, user `vscode`), and a wheelhouse of Pipfile.lock (+ pipenv, nox) downloaded on
  the host, exposed with PIP_NO_INDEX/PIP_FIND_LINKS as an offline mirror would be. One difference stays:
  its Python is Debian's 3.11.2, where the real base has CPython's latest 3.11 patch.
- `LAMBDAKIT_DEVCONTAINER_DOCKER_CLI`: the host's own docker client binary instead of `docker:<ver>-cli`.
The cache volume is seeded with the host's prepared model: exporting it needs torch, a build-time download
that `nox -s prepare` covers elsewhere; here the point is that `nox -s dev` finds it under /cache.

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

from lambdakit.core import lock, settings
from lambdakit.core.settings import REQUIRE_DOCKER_ENV, build_dir, kit_env, project_runtime
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
ROOTFS_SUITE = "bookworm"  # Debian 12: python3 is 3.11, the dev loop's Python (noxfile PYTHON)
CLI_TIMEOUT_S = 1800

BASE_DOCKERFILE = """\
FROM {rootfs}
RUN mkdir -p /var/log/apt && apt-get update \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv git sudo \\
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


def wheelhouse(target: Path) -> str:
    """Every wheel the container installs: the lock's two categories and the image's pipenv/nox pins.

    Downloaded by the host's pip for the host's interpreter: the container's Python is 3.11 on glibc Linux,
    like the kit's own (a mismatch fails below, not inside the container).
    """
    if sys.version_info[:2] != (3, 11) or sys.platform != "linux":
        pytest.fail(
            "the wheelhouse is downloaded for this interpreter: run the tests with Python 3.11 on Linux "
            f"(this is {sys.version.split()[0]} on {sys.platform})"
        )
    locked = lock.locked_requirements(("packages", "dev-packages"), repo=REPO)
    tools = [f"pipenv=={dockerfile_arg('PIPENV_VERSION')}", f"nox=={dockerfile_arg('NOX_VERSION')}"]
    # the demo's build-time hook (`nox -s prepare`, and the snapshot's first step) needs torch & co.
    prepare = lock.pipfile_requirements("prepare-packages", REPO, missing_ok=True)
    key = sha12(*locked, *tools, *prepare, project_runtime().identifier)
    stamp = target / ".key"
    if stamp.is_file() and stamp.read_text() == key:
        return key
    log(f"pip download {len(locked)} locked packages + {' '.join(tools)} into {target}")
    shutil.rmtree(target, ignore_errors=True)
    requirements = lock.write_requirements(WORK / "requirements.txt", locked)
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
    pip += ["-d", str(target)]
    run([*pip, "-r", str(requirements)], timeout=1200)
    run([*pip, *tools], timeout=600)
    if prepare:
        pins = lock.write_requirements(WORK / "constraints.txt", lock.locked_constraints(("packages",), REPO))
        run([*pip, "-c", str(pins), *prepare], timeout=1800)  # torch: PIP_FIND_LINKS holds the CPU wheel
    # `nox -s build` inside installs [packages] for the Lambda runtime's Python (cp313), not the container's
    runtime = project_runtime()
    image_packages = lock.write_requirements(
        WORK / "image-requirements.txt", lock.locked_requirements(("packages",), repo=REPO)
    )
    platforms = hostinstall.manylinux_platforms("x86_64", runtime.glibc)
    wheels_for = [arg for platform in platforms for arg in ("--platform", platform)]
    wheels_for += ["--python-version", runtime.python, "--implementation", "cp", "--abi", runtime.abi]
    run([*pip, "--only-binary=:all:", "--no-deps", *wheels_for, "-r", str(image_packages)], timeout=1200)
    stamp.write_text(key)
    return key


def rootfs_image() -> str:
    """The Debian bookworm rootfs of the kit's stand-in Lambda base (debootstrap once, then cached)."""
    from lambdakit.core.errors import KitError
    from lambdakit.images import baseimage

    try:
        tarball = baseimage.rootfs_tarball(build_dir(REPO) / "base-image", ROOTFS_SUITE)
    except KitError as exc:
        pytest.fail(f"cannot build the Debian rootfs for the test's base image: {exc}")
    digest = hashlib.sha256()
    with tarball.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    tag = f"{ROOTFS_SUITE}-{digest.hexdigest()[:12]}"
    image = f"{baseimage.ROOTFS_REPOSITORY}:{tag}"
    if not engine.image_exists(image):
        log(f"docker import {tarball.name} as {image}")
        engine.import_tarball(tarball, baseimage.ROOTFS_REPOSITORY, tag)
    return image


def base_image() -> str:
    """Stands in for mcr.microsoft.com/devcontainers/python:1-3.11-bookworm, plus the offline wheelhouse."""
    context = WORK / "base"
    context.mkdir(parents=True, exist_ok=True)
    wheels = wheelhouse(context / "wheelhouse")
    rootfs = rootfs_image()
    dockerfile = BASE_DOCKERFILE.format(rootfs=rootfs, uid=IMAGE_UID)
    tag = f"{PREFIX}-base:{sha12(dockerfile, wheels)}"
    if not engine.image_exists(tag):
        (context / "Dockerfile").write_text(dockerfile)
        log(f"docker build {tag} (FROM {rootfs} + python3-venv, git, sudo, vscode, wheelhouse)")
        engine.build(context, tag)
        drop_other_tags(tag)
    return tag


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


def remove_project_images(project: str) -> None:
    """The images the workflow inside built under the project's names (nothing else is touched)."""
    for image in engine.client().images.list():
        for tag in image.tags:
            if tag.startswith(f"{project}-") or tag == f"inferencefunction:{project}":
                engine.remove_image(tag)


@pytest.fixture(scope="module")
def devcontainer(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Iterator[DevContainer]:
    cli = devcontainer_cli()
    base, docker_cli = base_image(), docker_cli_image()
    root = tmp_path_factory.mktemp("devcontainer")
    home = root / "home"  # a HOME without ~/.aws: initializeCommand must create it
    home.mkdir()
    env = os.environ | {
        "HOME": str(home),
        "LAMBDAKIT_DEVCONTAINER_BASE": base,
        "LAMBDAKIT_DEVCONTAINER_DOCKER_CLI": docker_cli,
    }
    workspace = fresh_clone(root / WORKSPACE_NAME)
    name_the_project(workspace, PROJECT)
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
    assert devcontainer.exec("python", "--version").stdout.startswith("Python 3.11.")


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
    code = "import boto3, docker, pytest, inference, lambdakit; print('ok')"
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
    # Tests marked `torch` need the Pipfile's prepare-packages (outside the lock): `nox -s tests` runs them.
    result = devcontainer.exec(
        "python",
        "-m",
        "pytest",
        "tests/unit",
        "-q",
        "-p",
        "no:cacheprovider",
        "-m",
        "not torch",
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert re.search(r"\b\d+ passed\b", result.stdout)


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

    base = baseimage.build()  # the stand-in Lambda base, shared with the host's runs by its tag
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
