"""The Docker engine, through the Docker SDK: one client, image builds and imports, layer facts, containers.

Every engine error leaves this module as a one-line `KitError` that says what to do; nothing else in the
kit catches `docker.errors` itself. Every call has a timeout suited to it: an engine that accepts the
connection but never answers is reported within seconds, not after minutes.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import logging
import math
import os
import re
import tarfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import docker.types
import requests.exceptions  # type: ignore[import-untyped]  # the SDK's transport: its timeouts surface as these

from lambdakit import console
from lambdakit.core.errors import (
    CheckpointFailed,
    ContainerFailed,
    DockerUnavailable,
    ImageBuildFailed,
    ImageMissing,
    PushFailed,
)

# Read timeouts (the longest silence allowed while waiting for an answer), one per kind of call.
PING_TIMEOUT_S = 5.0  # first contact: a healthy engine answers in milliseconds, a hung one never
CALL_TIMEOUT_S = 120.0  # inspect, tag, create, remove, logs: well under a second on a healthy engine
LONG_TIMEOUT_S = 1800.0  # builds and imports: a silent build step or a big layer commit takes minutes
RUN_TIMEOUT_S = 600.0  # `run_once`: a short probe command in a throw-away container
# The transport's own failures: no answer in time, connection lost. (The SDK's APIError is an HTTPError of
# the same family and means the engine did answer, so it is not one of these.)
SILENT_ENGINE = (
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
)

BUILD_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)")  # the classic builder's line per instruction

log = logging.getLogger(__name__)


def client(timeout: float | None = None) -> docker.DockerClient:
    """The engine named by DOCKER_HOST (or the default socket), checked once per process and timeout
    (default: `CALL_TIMEOUT_S`)."""
    return _client(CALL_TIMEOUT_S if timeout is None else timeout)


@functools.cache
def _client(timeout: float) -> docker.DockerClient:
    try:
        # from_env asks the engine for its API version: that first contact gets the short timeout too
        engine = docker.from_env(timeout=PING_TIMEOUT_S)
        engine.api.ping()
    except (docker.errors.DockerException, *SILENT_ENGINE) as exc:
        raise DockerUnavailable(
            f"No Docker engine answers at {engine_address()} within {PING_TIMEOUT_S:.0f} s "
            f"({type(exc).__name__}: {first_line(exc)}); start dockerd (or `bash .ci/ensure-docker`), "
            "check `docker info`, or point DOCKER_HOST at a working engine."
        ) from exc
    engine.api.timeout = timeout
    return engine


def engine_address() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


@contextlib.contextmanager
def answering(what: str, timeout: float | None = None) -> Iterator[None]:
    """An engine that stops answering in the middle of a call: one line, not the transport's traceback."""
    timeout = CALL_TIMEOUT_S if timeout is None else timeout
    try:
        yield
    except SILENT_ENGINE as exc:
        raise DockerUnavailable(
            f"The Docker engine at {engine_address()} stopped answering while {what} (nothing within "
            f"{timeout:.0f} s, {type(exc).__name__}); check `docker info` and restart dockerd if it hangs."
        ) from exc


def image_exists(tag: str) -> bool:
    try:
        with answering(f"looking up {tag}"):
            client().images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.APIError as exc:
        raise DockerUnavailable(f"The engine failed to look up {tag}: {first_line(exc)}") from exc
    return True


def image_attrs(tag: str) -> dict[str, Any] | None:
    """TAG's `docker inspect` (one call), or None when the engine does not have it."""
    try:
        with answering(f"looking up {tag}"):
            return dict(client().images.get(tag).attrs)
    except docker.errors.ImageNotFound:
        return None
    except docker.errors.APIError as exc:
        raise DockerUnavailable(f"The engine failed to look up {tag}: {first_line(exc)}") from exc


def require_image(tag: str, fix: str) -> Any:
    """The image object of TAG, or an `ImageMissing` naming the command that builds it."""
    try:
        with answering(f"looking up {tag}"):
            return client().images.get(tag)
    except docker.errors.ImageNotFound:
        raise ImageMissing(f"Image {tag} is not in the local engine; {fix}.") from None


@contextlib.contextmanager
def replacing(tag: str) -> Iterator[None]:
    """Rebuilding TAG leaves its previous image nameless: delete it once nothing else names or runs it, or
    every rebuild (each `nox -s build`, each test run) leaves hundreds of MB behind on the user's engine."""
    before = _image(tag)
    yield
    after = _image(tag)
    if before is None or (after is not None and after.id == before.id):
        return
    # a container that still uses it makes the engine refuse (409): it stays, as it should
    with contextlib.suppress(docker.errors.APIError), answering(f"removing the image {tag} replaced"):
        before.reload()
        if before.tags:  # another tag still names it: then it is not the kit's alone to delete
            return
        client().images.remove(before.id, noprune=False)
        log.debug("removed %s, the image %s named before", before.short_id, tag)


def _image(tag: str) -> Any:
    with contextlib.suppress(docker.errors.ImageNotFound), answering(f"looking up {tag}"):
        return client().images.get(tag)
    return None


def build(
    context: Path,
    tag: str,
    dockerfile: str = "Dockerfile",
    buildargs: Mapping[str, str] | None = None,
    nocache: bool = False,
) -> str:
    """Build with the classic builder (no network is used by the kit's Dockerfiles); return the image id."""
    try:
        with (
            answering(f"building {tag}", LONG_TIMEOUT_S),
            replacing(tag),
            console.progress(f"docker build {tag}") as bar,
        ):
            stream = client(LONG_TIMEOUT_S).api.build(
                path=str(context),
                dockerfile=dockerfile,
                tag=tag,
                buildargs=dict(buildargs or {}),
                rm=True,
                forcerm=True,
                nocache=nocache,
                decode=True,
                pull=False,
                timeout=LONG_TIMEOUT_S,  # the SDK's default for a build is no timeout at all
            )
            image_id, tail = _follow_build(stream, tag, bar)
    except docker.errors.APIError as exc:
        raise ImageBuildFailed(f"docker build of {tag} failed: {first_line(exc)}") from exc
    if image_id is None:
        raise ImageBuildFailed(
            f"docker build of {tag} produced no image (last output: {' | '.join(tail[-3:])})"
        )
    return image_id


def _follow_build(stream: Any, tag: str, bar: console.Bar) -> tuple[str | None, list[str]]:
    """The image id the build stream announces, and its output lines; its first error raises. BAR moves
    a step per Dockerfile instruction."""
    image_id = None
    tail: list[str] = []
    for chunk in stream:
        if "error" in chunk:
            last = " | ".join(tail[-3:])
            raise ImageBuildFailed(
                f"docker build of {tag} failed: {chunk['error'].strip()} (last output: {last})"
            )
        text = str(chunk.get("stream", "")).rstrip()
        if text:
            tail.append(text)
            show_build_line(text, bar)
        if "aux" in chunk and "ID" in chunk["aux"]:
            image_id = str(chunk["aux"]["ID"])
    return image_id, tail


def show_build_line(text: str, bar: console.Bar) -> None:
    """A line of the classic builder's output: `Step N/M : INSTRUCTION` moves BAR (the steps before it are
    done), `Successfully built ID` completes the last; every line is a debug record."""
    log.debug("%s", text)
    if (step := BUILD_STEP.match(text)) is not None:
        done, total, instruction = int(step[1]) - 1, int(step[2]), step[3]
        bar.update(completed=done, total=total, note=f"{bar.description}: {instruction[:60]}")
    elif text.startswith("Successfully built "):
        bar.advance()


def import_tarball(
    tarball: Path, repository: str | None, tag: str | None, changes: list[str] | None = None
) -> str:
    """`docker import`: one layer whose content is exactly the tarball's; return the image id. Without a
    repository the image is left nameless (the caller tags it once it has checked it)."""
    try:
        # A file object, not a path: for a path the SDK posts with no timeout at all.
        with (
            answering(f"importing {tarball}", LONG_TIMEOUT_S),
            replacing(f"{repository}:{tag}") if repository else contextlib.nullcontext(),
            tarball.open("rb") as data,
        ):
            answer = client(LONG_TIMEOUT_S).api.import_image(
                src=data, repository=repository, tag=tag, changes=changes
            )
    except docker.errors.APIError as exc:
        raise ImageBuildFailed(f"docker import of {tarball} failed: {first_line(exc)}") from exc
    status = last_json_line(answer) or {}
    if "error" in status:
        raise ImageBuildFailed(f"docker import of {tarball} failed: {status['error']}")
    return str(status.get("status", ""))


def as_architecture(image: str, repository: str, tag: str, architecture: str) -> str:
    """IMAGE's layers and config under REPOSITORY:TAG, recorded as an ARCHITECTURE (`arm64`) image.

    An image made here by `docker import` is recorded as the engine's own architecture (Docker 20.10 ignores
    `--platform` there), and a build for another platform refuses it as a base. `docker load` takes the
    config as given and reads no layer it already holds: this writes a new config, no layer data.
    """
    attrs = require_image(image, "build it first").attrs
    diff_ids = list(attrs["RootFS"]["Layers"])
    created = attrs.get("Created")
    config = {
        "architecture": architecture,
        "os": attrs.get("Os", "linux"),
        "created": created,
        "config": attrs.get("Config") or {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": created, "created_by": f"layer of {image}"} for _ in diff_ids],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = f"{hashlib.sha256(config_bytes).hexdigest()}.json"
    layers = [f"{diff_id.split(':')[1]}/layer.tar" for diff_id in diff_ids]
    manifest = [{"Config": config_name, "RepoTags": [f"{repository}:{tag}"], "Layers": layers}]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in ((config_name, config_bytes), ("manifest.json", json.dumps(manifest).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    try:
        with answering(f"loading {repository}:{tag}", LONG_TIMEOUT_S):
            client(LONG_TIMEOUT_S).images.load(buffer.getvalue())
    except docker.errors.APIError as exc:
        raise ImageBuildFailed(f"recording {image} as {architecture} failed: {first_line(exc)}") from exc
    return f"{repository}:{tag}"


def run_once(
    image: str,
    command: list[str],
    timeout_s: float = RUN_TIMEOUT_S,
    folder: tuple[Path, str] | None = None,
    user: str = "",
) -> str:
    """Run COMMAND in a throw-away container of IMAGE (entrypoint bypassed, no network); return its output.

    Started detached and waited for with a bound: the SDK's own `containers.run` waits with no timeout.
    FOLDER = (host folder, path in the container): copied in before the start and back after success. Copied,
    not bind-mounted: the engine may not see this process's files (Docker Desktop, or a Dev Container that
    drives the host's engine), but it always takes an archive."""
    shown = " ".join(command)
    container = None
    try:
        with answering(f"starting `{command[0]}` in {image}"):
            container = client().containers.create(
                image, command=command[1:], entrypoint=[command[0]], network_mode="none", user=user
            )
            if folder is not None:
                container.put_archive("/", _archive_of(folder[0], folder[1].strip("/")))
            container.start()
        try:
            status = container.wait(timeout=timeout_s)
        except SILENT_ENGINE as exc:
            raise ImageBuildFailed(f"`{shown}` did not finish within {timeout_s:.0f} s in {image}") from exc
        with answering(f"reading the output of `{command[0]}` in {image}"):
            output = bytes(container.logs(stdout=True, stderr=True)).decode("utf-8", "replace")
            if folder is not None and status.get("StatusCode") == 0:
                stream, _ = container.get_archive(folder[1])
                _extract_into(b"".join(stream), folder[0])
    except docker.errors.APIError as exc:
        raise DockerUnavailable(f"The engine could not run {image}: {first_line(exc)}") from exc
    finally:
        if container is not None:
            remove_container(container)
    if status.get("StatusCode") != 0:
        last = output.strip().splitlines()[-1:] or ["no output"]
        raise ImageBuildFailed(f"`{shown}` failed in {image} (exit {status.get('StatusCode')}): {last[0]}")
    return output


def _archive_of(folder: Path, inside: str) -> bytes:
    """FOLDER's tree as a tar whose top folder is INSIDE (a path in the container, without the leading /)."""
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        tar.add(folder, arcname=inside)
    return archive.getvalue()


def _extract_into(data: bytes, folder: Path) -> None:
    """A `get_archive` answer (top folder = the container folder's name) back over FOLDER."""
    safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python < 3.11.4 has no filters
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            member.name = member.name.partition("/")[2]
            unsafe = member.issym() or member.islnk() or ".." in member.name.split("/")
            if member.name and not unsafe:
                tar.extract(member, folder, **safe)  # type: ignore[arg-type]


def tag_image(image: str, repository: str, tag: str) -> None:
    with answering(f"tagging {image}"):
        client().images.get(image).tag(repository, tag)


def diff_ids(tag: str) -> list[str] | None:
    """TAG's layers (their uncompressed digests, oldest first), or None when there is no such image."""
    try:
        with answering(f"looking up {tag}"):
            return list(client().images.get(tag).attrs["RootFS"]["Layers"])
    except docker.errors.ImageNotFound:
        return None
    except docker.errors.APIError as exc:
        raise DockerUnavailable(f"The engine failed to look up {tag}: {first_line(exc)}") from exc


def remove_image(tag: str) -> None:
    """Untag (and delete if unused); a missing image is fine."""
    with contextlib.suppress(docker.errors.ImageNotFound), answering(f"removing {tag}"):
        client().images.remove(tag, force=True)


@dataclass(frozen=True)
class Layer:
    """One layer of an image: its uncompressed digest and the instruction that made it."""

    diff_id: str
    size: int
    created_by: str


def layers(tag: str) -> list[Layer]:
    """RootFS layers (oldest first) paired with the build steps that produced them."""
    image = require_image(tag, "build it first")
    diff_ids = list(image.attrs["RootFS"]["Layers"])
    with answering(f"reading the history of {tag}"):
        history = image.history()
    steps = [h for h in reversed(history) if makes_layer(str(h.get("CreatedBy", "")))]
    # WORKDIR makes a (0-byte) layer only when it creates the folder; drop the ones that did not.
    while len(steps) > len(diff_ids) and (empty := _empty_workdir(steps)) is not None:
        steps.pop(empty)
    if len(steps) != len(diff_ids):  # squashed or foreign history: no instruction to show
        steps = [{}] * len(diff_ids)
    return [
        Layer(
            diff_id=d, size=int(h.get("Size", 0)), created_by=short_instruction(str(h.get("CreatedBy", "")))
        )
        for d, h in zip(diff_ids, steps, strict=True)
    ]


METADATA_INSTRUCTIONS = frozenset(
    {
        "ENV",
        "CMD",
        "LABEL",
        "ENTRYPOINT",
        "ARG",
        "EXPOSE",
        "USER",
        "VOLUME",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "SHELL",
        "ONBUILD",
        "MAINTAINER",
    }
)


def makes_layer(created_by: str) -> bool:
    """ENV, CMD, LABEL, ... are metadata; COPY, ADD, RUN, WORKDIR and imports make (maybe empty) layers."""
    if "#(nop)" not in created_by:
        return True
    instruction = created_by.split("#(nop)", 1)[1].split()
    return not instruction or instruction[0] not in METADATA_INSTRUCTIONS


def _empty_workdir(steps: list[dict[str, Any]]) -> int | None:
    for index in range(len(steps) - 1, -1, -1):
        if "WORKDIR" in str(steps[index].get("CreatedBy", "")) and not steps[index].get("Size"):
            return index
    return None


def short_instruction(created_by: str) -> str:
    text = created_by.replace("/bin/sh -c #(nop) ", "").strip() or "(imported)"
    text = re.sub(r"\b(dir|file):([0-9a-f]{12})[0-9a-f]+", r"\1:\2", text)
    return text if len(text) <= 70 else text[:67] + "..."


def last_json_line(output: str) -> dict[str, Any] | None:
    """The last line of OUTPUT that is a JSON object: the engine's final status, a client's result."""
    for line in reversed(str(output).strip().splitlines()):
        try:
            parsed = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return None


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "explanation", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_file(image: str, path: str) -> bytes | None:
    """One file of IMAGE, or None if it has none there; works for FROM-scratch images (nothing is run)."""
    container = None
    try:
        with answering(f"reading {path} from {image}"):
            container = client().containers.create(image, command=["/nonexistent"], network_disabled=True)
            stream, _ = container.get_archive(path)
            data = b"".join(stream)
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            member = archive.next()
            extracted = archive.extractfile(member) if member is not None else None
            return extracted.read() if extracted is not None else None
    except docker.errors.NotFound:
        return None
    except docker.errors.APIError as exc:
        raise DockerUnavailable(f"The engine could not read {path} from {image}: {first_line(exc)}") from exc
    finally:
        if container is not None:
            remove_container(container)


# --- containers: the Lambda execution environment (lambdakit.runtime) and the rehearsal start them here


def host_cpus() -> int:
    """CPUs the engine's host has (Docker refuses a `--cpus` above it)."""
    with answering("reading the engine's info"):
        return int(client().info().get("NCPU") or 1)


def ulimit(name: str, limit: int) -> Any:
    """A `ulimits` entry for `start_container` (soft = hard, as Lambda sets them)."""
    return docker.types.Ulimit(name=name, soft=limit, hard=limit)


def start_container(options: Mapping[str, Any]) -> Any:
    """`docker run -d` with the SDK's `containers.run` OPTIONS; the started container, its state loaded.

    Create, then start (not `run`: it would pull a missing image from Docker Hub instead of saying so); a
    container that was created but could not start is removed.
    """
    name = options.get("name") or options["image"]
    container = None
    try:
        with answering(f"starting {name}"):
            container = client().containers.create(**options)
            container.start()
            container.reload()
    except docker.errors.ImageNotFound as exc:
        raise ImageMissing(f"Image {options['image']} is not in the local engine; build it first.") from exc
    except docker.errors.APIError as exc:
        if container is not None:
            remove_container(container)
        raise ContainerFailed(f"The engine could not start {name}: {first_line(exc)}") from exc
    return container


def remove_container(container: Any) -> None:
    """Stop and remove a container this process started; one already gone is fine."""
    with contextlib.suppress(docker.errors.APIError, *SILENT_ENGINE):
        container.remove(force=True)


def remove_labelled(label: str) -> int:
    """Remove every container carrying LABEL (`key=value`, unique to one run); how many there were."""
    try:
        with answering(f"listing containers labelled {label}"):
            found = client().containers.list(all=True, filters={"label": label})
    except docker.errors.APIError as exc:
        raise DockerUnavailable(
            f"The engine could not list containers labelled {label}: {first_line(exc)}"
        ) from exc
    for container in found:
        remove_container(container)
    return len(found)


def container_state(container: Any) -> dict[str, Any]:
    """`docker inspect`'s State (Status, OOMKilled, ExitCode, ...); empty when the container is gone."""
    try:
        with answering(f"inspecting {container.name}"):
            container.reload()
    except docker.errors.APIError:
        return {}
    return dict(container.attrs.get("State") or {})


def container_logs(container: Any, stderr: bool = True) -> str:
    """Everything the container printed (stdout, and stderr unless told); empty when it is gone."""
    try:
        with answering(f"reading the log of {container.name}"):
            return bytes(container.logs(stdout=True, stderr=stderr)).decode("utf-8", "replace")
    except docker.errors.APIError:
        return ""


def exec_in(
    container: Any, argv: list[str], user: str = "", timeout_s: float | None = None
) -> tuple[int, str]:
    """`docker exec`: (exit code, stdout) of ARGV in a running container, allowed TIMEOUT_S of silence."""
    api = client(timeout_s).api
    try:
        with answering(f"running {argv[0]} in {container.name}", timeout_s):
            exec_id = api.exec_create(container.id, argv, stdout=True, stderr=False, user=user)["Id"]
            output = api.exec_start(exec_id)
            code = api.exec_inspect(exec_id).get("ExitCode")
    except docker.errors.APIError as exc:
        raise ContainerFailed(f"`{argv[0]}` could not run in {container.name}: {first_line(exc)}") from exc
    return int(code if code is not None else -1), bytes(output or b"").decode("utf-8", "replace")


def put_file(container: Any, folder: str, name: str, data: bytes) -> None:
    """Write DATA as FOLDER/NAME into a container (mode 0644), without a bind mount: works from anywhere."""
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
    try:
        with answering(f"copying {name} into {container.name}"):
            container.put_archive(folder, archive.getvalue())
    except docker.errors.APIError as exc:
        raise ContainerFailed(f"Could not copy {name} into {container.name}: {first_line(exc)}") from exc


# --- checkpoint and restore (`docker checkpoint`, the local SnapStart restore) ------------------------------
# The SDK has no checkpoint API: these use the low-level client's own helpers, as `docker checkpoint` does.
CRIU_LOG = re.compile(r"(/\S+/criu-(?:dump|restore)\.log)")
ENGINE_SETUP = (
    "restart dockerd with --experimental and criu >= 4.2 on its PATH (`bash .ci/ensure-docker` does)"
)


def checkpoint_refusal(info: Mapping[str, Any] | None = None) -> str | None:
    """Why this engine (or one whose `docker info` is INFO) cannot checkpoint a container (one line with the
    fix), or None when it may: whether criu itself works shows only when a checkpoint is made."""
    if info is None:
        with answering("reading the engine's info"):
            info = client().info()
    where = f"The Docker engine at {engine_address()}"
    if "desktop" in str(info.get("OperatingSystem", "")).lower():
        return (
            f"{where} is Docker Desktop, whose VM has no criu: `docker checkpoint` cannot run there; run the "
            "local restore on a Linux engine (a Linux host or CI runner) with criu >= 4.2 and --experimental"
        )
    if info.get("OSType") != "linux":
        return f"{where} runs {info.get('OSType')} containers; checkpoints need a Linux engine with criu"
    if not info.get("ExperimentalBuild"):
        return f"{where} was not started with --experimental, which `docker checkpoint` needs; {ENGINE_SETUP}"
    return None


def checkpoint(container: Any, name: str) -> None:
    """`docker checkpoint create CONTAINER NAME`: criu dumps the container, which stops."""
    api = client().api
    url = api._url("/containers/{0}/checkpoints", container.id)
    try:
        with answering(f"checkpointing {container.name}"):
            api._raise_for_status(api._post_json(url, data={"CheckpointID": name, "Exit": True}))
    except docker.errors.APIError as exc:
        raise CheckpointFailed(
            f"The engine could not checkpoint {container.name}: {criu_error(exc)}; {ENGINE_SETUP}"
        ) from exc


def restore(container: Any, name: str) -> None:
    """`docker start --checkpoint NAME CONTAINER`: criu restores the container where it was dumped."""
    api = client().api
    url = api._url("/containers/{0}/start", container.id)
    try:
        with answering(f"restoring {container.name}"):
            api._raise_for_status(api._post(url, params={"checkpoint": name}))
    except docker.errors.APIError as exc:
        raise CheckpointFailed(
            f"The engine could not restore {container.name} from {name}: {criu_error(exc)}"
        ) from exc


def criu_error(exc: BaseException) -> str:
    """The engine's one line, with criu's first `Error` line from the log it names when this host can read it
    (the engine's run folder: root on the engine's host only)."""
    text = " ".join(str(getattr(exc, "explanation", None) or exc).split())
    found = CRIU_LOG.search(text)
    if found is None:
        return text
    with contextlib.suppress(OSError):
        for line in Path(found[1]).read_text(encoding="utf-8", errors="replace").splitlines():
            if "Error" in line:
                return f"criu: {line.split(': ', 1)[-1].strip()} ({found[1].rsplit('/', 1)[-1]})"
    return text


def wait_for_exit(container: Any, timeout_s: float) -> None:
    """Block until the container's main process exits, or raise `ContainerFailed` after TIMEOUT_S."""
    try:
        client(timeout_s).api.wait(container.id, timeout=math.ceil(timeout_s))
    except (docker.errors.APIError, *SILENT_ENGINE) as exc:
        raise ContainerFailed(
            f"{container.name} did not finish within {timeout_s:.0f} s ({type(exc).__name__})."
        ) from exc


def pull(reference: str) -> None:
    """`docker pull` from a registry the engine reaches (the rehearsal's local one)."""
    try:
        with answering(f"pulling {reference}", LONG_TIMEOUT_S):
            client(LONG_TIMEOUT_S).images.pull(reference)
    except docker.errors.APIError as exc:
        raise ContainerFailed(f"docker pull {reference} failed: {first_line(exc)}") from exc


def untag(reference: str) -> None:
    """Drop one tag and keep the layers (other tags share them); a missing tag is fine."""
    with contextlib.suppress(docker.errors.APIError, *SILENT_ENGINE):
        client().images.remove(reference, noprune=True)


def pull_by_digest(
    reference: str, auth: Mapping[str, str] | None = None, stall_timeout_s: float = CALL_TIMEOUT_S
) -> Any:
    """`docker pull REPOSITORY@sha256:...` (the engine checks every blob against the digest); the image.

    The SDK's pull has no timeout at all (it posts with `timeout=None` and streams), so the stream is read
    in a daemon thread and the pull is given up when the engine sends nothing for STALL_TIMEOUT_S: a big
    layer still arrives, as long as its progress keeps coming. Credentials: AUTH, else the engine's
    `docker login`s (~/.docker/config.json, read by the SDK)."""
    repository, _, digest = reference.partition("@")
    state: dict[str, Any] = {"last": time.monotonic(), "error": None, "bytes": {}}
    finished = threading.Event()

    def consume() -> None:
        try:
            stream = client(LONG_TIMEOUT_S).api.pull(
                repository, tag=digest, stream=True, decode=True, auth_config=dict(auth) if auth else None
            )
            for chunk in stream:
                state["last"] = time.monotonic()
                if "error" in chunk:
                    state["error"] = str(chunk["error"]).strip()
                    return
                detail = chunk.get("progressDetail") or {}
                if chunk.get("status") == "Downloading" and detail.get("total"):
                    state["bytes"][chunk.get("id")] = (int(detail.get("current", 0)), int(detail["total"]))
        except docker.errors.APIError as exc:
            state["error"] = first_line(exc)
        except SILENT_ENGINE as exc:
            state["error"] = f"the engine stopped answering ({type(exc).__name__})"
        finally:
            finished.set()

    threading.Thread(target=consume, name=f"pull {reference}", daemon=True).start()
    with console.progress(f"docker pull {reference}", unit="bytes") as bar:
        while not finished.wait(0.5):
            if time.monotonic() - state["last"] > stall_timeout_s:
                raise DockerUnavailable(
                    f"docker pull {reference} got nothing from the engine for {stall_timeout_s:.0f} s; check "
                    "the registry is reachable (`docker pull` it by hand) and `docker info`, then retry."
                )
            sizes = list(state["bytes"].values())
            if sizes:
                bar.update(completed=sum(c for c, _ in sizes), total=sum(t for _, t in sizes))
    if state["error"]:
        raise ImageMissing(f"docker pull {reference} failed: {state['error']}")
    return require_image(reference, "the pull reported success but the engine has no such image; retry")


# Registries: what images/push.py needs of the engine, its errors as one-line `PushFailed`s.


def registry_digest(reference: str, auth: Mapping[str, str] | None = None) -> str | None:
    """The manifest digest the registry holds for REFERENCE, or None when it has no such tag."""
    try:
        answer = client().api.inspect_distribution(reference, auth_config=dict(auth or {}) or None)
    except docker.errors.NotFound:
        return None
    except docker.errors.APIError as exc:
        if "not found" in str(exc).lower() or "unknown" in str(exc).lower():
            return None
        raise PushFailed(f"cannot query {reference} in the registry: {first_line(exc)}") from exc
    return str(answer["Descriptor"]["digest"])


def registry_login(registry: str, username: str, password: str) -> None:
    """`docker login` for the pushes of this process (the engine keeps the credentials per registry)."""
    try:
        client().login(username=username, password=password, registry=registry, reauth=True)
    except docker.errors.APIError as exc:
        raise PushFailed(f"docker login to {registry} failed: {first_line(exc)}") from exc


@contextlib.contextmanager
def pushing(
    local_image: str, remote: str, tag: str, auth: Mapping[str, str] | None = None
) -> Iterator[Iterator[Mapping[str, Any]]]:
    """Docker's push stream of LOCAL_IMAGE as REMOTE:TAG (REMOTE = registry/repository). The remote tag is
    needed for the push only: it is removed afterwards, the image keeps its local tags."""
    docker_client = client()
    reference = f"{remote}:{tag}"
    try:
        docker_client.images.get(local_image).tag(remote, tag)
        yield docker_client.api.push(
            remote, tag, auth_config=dict(auth or {}) or None, stream=True, decode=True
        )
    except docker.errors.APIError as exc:
        raise PushFailed(f"pushing {reference} failed: {first_line(exc)}") from exc
    finally:
        with contextlib.suppress(docker.errors.APIError):
            docker_client.images.remove(reference, noprune=True)
