"""Credentials recognised by their content, whatever the file is called and wherever they sit in it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from lambdakit.snapshot import secrets
from tests.standins.pipelines.assets import PLANTS

KINDS = {
    "hf": "Hugging Face token",
    "aws": "AWS access key id",
    "aws-session": "AWS access key id",
    "private-key": "private key",
    "github": "GitHub token",
}


def noise(size: int, seed: int = 7) -> bytes:
    """Random-looking bytes, as model weights mostly are (the same every run)."""
    blocks = (hashlib.sha256(f"{seed}-{i}".encode()).digest() for i in range(size // 32 + 1))
    return b"".join(blocks)[:size]


@pytest.mark.parametrize("plant", sorted(KINDS))
def test_each_planted_credential_is_named_with_its_offset(plant: str) -> None:
    data = noise(5000) + b"weights" + PLANTS[plant].encode() + b"\x00" + noise(5000, seed=8)
    found = secrets.scan(data)
    assert found is not None and KINDS[plant] in found.kind
    assert found.offset == 5007


def test_a_google_access_token_in_a_credentials_database_is_found() -> None:
    found = secrets.scan(b"SQLite format 3\x00" + noise(300) + b"ya29." + b"a0AfB_byC" * 8 + noise(300))
    assert found is not None and "Google OAuth" in found.kind


def test_a_docker_config_with_a_registry_password_is_found() -> None:
    config = (
        b'{\n  "auths": {\n    "registry.example.com": {\n      "auth": "dXNlcjpwYXNzd29yZA=="\n    }\n  }\n}'
    )
    found = secrets.scan(config)
    assert found is not None and "docker config" in found.kind


@pytest.mark.parametrize(
    "text",
    [
        b'{"vocab": {"hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789": 1}}',  # hf_ and 36: no Hub token
        b"AKIAIOSFODNN7EXAMPL",  # one character short
        b"XAKIAIOSFODNN7EXAMPLE",  # inside a longer word
        b'{"auths": {}}',  # a docker config with no credential
        b"the PRIVATE KEY----- header alone",
    ],
)
def test_look_alikes_are_not_credentials(text: bytes) -> None:
    assert secrets.scan(noise(100) + text + noise(100)) is None


def test_random_weights_hold_no_credential() -> None:
    assert secrets.scan(noise(4 << 20)) is None


def test_a_credential_across_two_chunks_is_found_and_the_digest_is_the_files(tmp_path: Path) -> None:
    token = PLANTS["hf"].encode()
    data = noise(secrets.CHUNK - 10) + token + noise(1000)
    path = tmp_path / "weights.bin"
    path.write_bytes(data)
    digest, found = secrets.digest_and_scan(path)
    assert digest == hashlib.sha256(data).hexdigest()
    assert found is not None and found.offset == secrets.CHUNK - 10


def test_a_hard_link_and_a_symlink_to_a_credential_are_credentials(tmp_path: Path) -> None:
    (tmp_path / "huggingface").mkdir()
    (tmp_path / "huggingface/token").write_text("any token, whatever its shape")
    os.link(tmp_path / "huggingface/token", tmp_path / "weights.bin")
    (tmp_path / "model.bin").symlink_to("huggingface/token")
    (tmp_path / "other.bin").write_text("any token, whatever its shape")  # same bytes, another file
    known = secrets.inodes_of([(tmp_path / "huggingface/token", "/cache/huggingface/token")])
    assert secrets.by_location(tmp_path, "huggingface/token", known) == "a known credential location"
    assert secrets.by_location(tmp_path, "weights.bin", known) == "a hard link to /cache/huggingface/token"
    assert secrets.by_location(tmp_path, "model.bin", known) == "a symlink to /cache/huggingface/token"
    assert secrets.by_location(tmp_path, "other.bin", known) is None
