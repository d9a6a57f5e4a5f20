"""The one local-registry starter (`aws/rehearsal/registry.py`), as the bench and the rehearsal use it.

Real parts: Debian's docker-registry, the Docker engine, the kit's push. The image pushed is a one-layer
FROM-scratch image of a few bytes, so each test takes seconds.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.docker

IMAGE = "lambdakit-test-advice-registry"


@pytest.fixture(scope="module")
def tiny_image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from lambdakit.images import engine

    tarball = tmp_path_factory.mktemp("tiny") / "tiny.tar"
    with tarfile.open(tarball, "w") as archive:
        member = tarfile.TarInfo("hello.txt")
        member.size = 6
        archive.addfile(member, io.BytesIO(b"hello\n"))
    engine.import_tarball(tarball, IMAGE, "v1")
    yield f"{IMAGE}:v1"
    engine.remove_image(f"{IMAGE}:v1")


def test_the_bench_registry_counts_what_a_push_uploads_and_stops_with_its_block(tiny_image: str) -> None:
    from lambdakit.perf import pushcost

    with pushcost.local_registry() as registry:
        first = pushcost.push(registry, tiny_image, "tiny", "one", "initial", weights_layer=0)
        again = pushcost.push(registry, tiny_image, "tiny", "two", "same image", weights_layer=0)
        storage = registry.storage
    assert first.layers == 1 and first.layers_uploaded == 1 and first.weights_uploaded
    assert first.blobs_uploaded >= 2 and first.bytes_uploaded > 0  # the layer, the config (and the manifest)
    assert again.bytes_uploaded == 0 and again.weights_uploaded is False  # the same blobs: nothing went up
    assert registry.process.poll() is not None  # stopped by pid
    assert not storage.exists()  # its work folder went with the block


def test_the_rehearsal_starts_the_same_registry_and_reads_its_log_and_storage(
    tiny_image: str, tmp_path: Path
) -> None:
    from lambdakit.aws.rehearsal import Rehearsal
    from lambdakit.images import push

    with Rehearsal.start(region="us-east-1", workdir=tmp_path) as stand_in:
        assert stand_in.local_registry is not None
        assert stand_in.local_registry.address == stand_in.registry
        push.push(tiny_image, f"{stand_in.registry}/tiny", "v1")
        assert stand_in.upload_count("tiny") == 2  # the layer and the config; the manifest is a PUT
        [layer] = stand_in.local_registry.manifest_layers("tiny", "v1")
        assert layer.split(":")[1] in stand_in.layer_blobs("tiny")  # with the config's link beside it
        processes = [*stand_in.processes, stand_in.local_registry.process]
    assert all(process.poll() is not None for process in processes)  # moto and the registry stopped
