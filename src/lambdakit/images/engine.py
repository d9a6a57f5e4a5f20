"""The Docker engine, through the Docker SDK: one client, image builds and imports, layer facts.

Every engine error leaves this module as a one-line `KitError` that says what to do; nothing else in the
kit catches `docker.errors` itself.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import re
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors

from lambdakit.core.errors import DockerUnavailable, ImageBuildFailed, ImageMissing

ENGINE_TIMEOUT_S = 600  # big build contexts and image imports take minutes on a small machine


@functools.cache
def client() -> docker.DockerClient:
    """The engine named by DOCKER_HOST (or the default socket), checked once per process."""
    try:
        engine = docker.from_env(timeout=ENGINE_TIMEOUT_S)
        engine.ping()
    except docker.errors.DockerException as exc:
        raise DockerUnavailable(
            f"No Docker engine answers ({type(exc).__name__}: {first_line(exc)}); start dockerd "
            "(or `bash .ci/ensure-docker`) and check `docker info`."
        ) from exc
    return engine


def image_exists(tag: str) -> bool:
    try:
        client().images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.APIError as exc:
        raise DockerUnavailable(f"The engine failed to look up {tag}: {first_line(exc)}") from exc
    return True


def require_image(tag: str, fix: str) -> Any:
    """The image object of TAG, or an `ImageMissing` naming the command that builds it."""
    try:
        return client().images.get(tag)
    except docker.errors.ImageNotFound:
        raise ImageMissing(f"Image {tag} is not in the local engine; {fix}.") from None


def build(
    context: Path,
    tag: str,
    dockerfile: str = "Dockerfile",
    buildargs: Mapping[str, str] | None = None,
    nocache: bool = False,
    log: Any = None,
) -> str:
    """Build with the classic builder (no network is used by the kit's Dockerfiles); return the image id."""
    stream = client().api.build(
        path=str(context),
        dockerfile=dockerfile,
        tag=tag,
        buildargs=dict(buildargs or {}),
        rm=True,
        forcerm=True,
        nocache=nocache,
        decode=True,
        pull=False,
    )
    image_id = None
    tail: list[str] = []
    try:
        for chunk in stream:
            if "error" in chunk:
                last = " | ".join(tail[-3:])
                raise ImageBuildFailed(
                    f"docker build of {tag} failed: {chunk['error'].strip()} (last output: {last})"
                )
            text = str(chunk.get("stream", "")).rstrip()
            if text:
                tail.append(text)
                if log is not None:
                    log(text)
            if "aux" in chunk and "ID" in chunk["aux"]:
                image_id = str(chunk["aux"]["ID"])
    except docker.errors.APIError as exc:
        raise ImageBuildFailed(f"docker build of {tag} failed: {first_line(exc)}") from exc
    if image_id is None:
        raise ImageBuildFailed(
            f"docker build of {tag} produced no image (last output: {' | '.join(tail[-3:])})"
        )
    return image_id


def import_tarball(tarball: Path, repository: str, tag: str, changes: list[str] | None = None) -> str:
    """`docker import`: one layer whose content is exactly the tarball's; return the image id."""
    try:
        answer = client().api.import_image(src=str(tarball), repository=repository, tag=tag, changes=changes)
    except docker.errors.APIError as exc:
        raise ImageBuildFailed(f"docker import of {tarball} failed: {first_line(exc)}") from exc
    status = _last_json_line(answer)
    if "error" in status:
        raise ImageBuildFailed(f"docker import of {tarball} failed: {status['error']}")
    return str(status.get("status", ""))


def run_once(image: str, command: list[str]) -> str:
    """Run COMMAND in a throw-away container of IMAGE (entrypoint bypassed, no network); return its output."""
    try:
        output = client().containers.run(
            image,
            command=command[1:],
            entrypoint=[command[0]],
            network_mode="none",
            remove=True,
            stdout=True,
            stderr=True,
        )
    except docker.errors.ContainerError as exc:
        raise ImageBuildFailed(f"`{' '.join(command)}` failed in {image}: {first_line(exc)}") from exc
    except docker.errors.APIError as exc:
        raise DockerUnavailable(f"The engine could not run {image}: {first_line(exc)}") from exc
    return bytes(output).decode("utf-8", "replace")


def tag_image(image: str, repository: str, tag: str) -> None:
    client().images.get(image).tag(repository, tag)


def remove_image(tag: str) -> None:
    """Untag (and delete if unused); a missing image is fine."""
    with contextlib.suppress(docker.errors.ImageNotFound):
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
    steps = [h for h in reversed(image.history()) if makes_layer(str(h.get("CreatedBy", "")))]
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


def _last_json_line(answer: str) -> dict[str, Any]:
    for line in reversed(str(answer).strip().splitlines()):
        try:
            parsed = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(parsed, dict):
            return parsed
    return {}


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "explanation", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_file(image: str, path: str) -> bytes | None:
    """One file of IMAGE, or None if it has none there; works for FROM-scratch images (nothing is run)."""
    container = None
    try:
        container = client().containers.create(image, command=["/nonexistent"], network_disabled=True)
        stream, _ = container.get_archive(path)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
            member = archive.next()
            extracted = archive.extractfile(member) if member is not None else None
            return extracted.read() if extracted is not None else None
    except docker.errors.NotFound:
        return None
    except docker.errors.APIError as exc:
        raise DockerUnavailable(f"The engine could not read {path} from {image}: {first_line(exc)}") from exc
    finally:
        if container is not None:
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)
