"""A rebuild does not leave the previous image behind on the user's engine (each `nox -s build` would).

The kit deletes the image a tag named before only when nothing else names it: an image someone else tagged
too is not the kit's alone to delete.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdakit.images import engine

pytestmark = pytest.mark.docker


@pytest.fixture
def repository() -> Iterator[str]:
    name = f"lambdakit-test-rebuild-{uuid.uuid4().hex[:8]}"
    yield name
    for image in engine.client().images.list(name=name):
        for tag in image.tags:
            engine.remove_image(tag)


def build_with(context: Path, content: str, tag: str) -> str:
    (context / "payload.txt").write_text(content)
    (context / "Dockerfile").write_text("FROM scratch\nCOPY payload.txt /payload.txt\n")
    return engine.build(context, tag)


def exists(image_id: str) -> bool:
    return engine.image_exists(image_id)


def test_a_rebuild_deletes_the_image_the_tag_named_before(tmp_path: Path, repository: str) -> None:
    first = build_with(tmp_path, "one", f"{repository}:latest")
    second = build_with(tmp_path, "two", f"{repository}:latest")
    assert second != first
    assert exists(second)
    assert not exists(first)


def test_an_unchanged_rebuild_keeps_its_image(tmp_path: Path, repository: str) -> None:
    first = build_with(tmp_path, "same", f"{repository}:latest")
    assert build_with(tmp_path, "same", f"{repository}:latest") == first
    assert exists(first)


def test_an_image_another_tag_still_names_is_kept(tmp_path: Path, repository: str) -> None:
    first = build_with(tmp_path, "one", f"{repository}:latest")
    engine.tag_image(first, repository, "kept-by-someone")
    build_with(tmp_path, "two", f"{repository}:latest")
    assert exists(first)
