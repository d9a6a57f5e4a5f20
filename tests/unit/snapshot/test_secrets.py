"""Credentials recognised by their content, whatever the file is called and wherever they sit in it."""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import urllib.parse
import zipfile
from pathlib import Path

import pytest

from lambdakit.snapshot import secrets
from lambdakit.snapshot.credentials import Credential
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


# ---------------------------------------------------------------------------------------------- by value

# An AWS-style secret built from pieces (no credential-shaped literal in this file): `/` and `+` make its
# base64, URL-safe base64, percent and JSON forms all differ.
VALUE = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCY+EXAMPLEKEY"
VALUES = secrets.needles([Credential("$AWS_SECRET_ACCESS_KEY", VALUE)])


def b64_at(alignment: int, urlsafe: bool = False) -> bytes:
    """VALUE base64-encoded after ALIGNMENT other bytes, as a file holding it would."""
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    return encode(b"xy"[:alignment] + VALUE.encode() + b"z")


ENCODED = {
    "plain": VALUE.encode(),
    "hex": VALUE.encode().hex().encode(),
    "HEX": VALUE.encode().hex().upper().encode(),
    **{f"base64-{a}": b64_at(a) for a in range(3)},
    **{f"urlsafe-base64-{a}": b64_at(a, urlsafe=True) for a in range(3)},
    "utf16-le": VALUE.encode("utf-16-le"),
    "utf16-be": VALUE.encode("utf-16-be"),
    "utf16-le-odd-offset": b"\x07" + VALUE.encode("utf-16-le"),
    "utf16-be-odd-offset": b"\x07" + VALUE.encode("utf-16-be"),
    "percent": urllib.parse.quote(VALUE, safe="").encode(),
    "json-escaped": VALUE.replace("/", "\\/").encode(),
}


@pytest.mark.parametrize("encoding", sorted(ENCODED))
def test_a_credential_value_is_found_in_every_encoding_by_its_name(encoding: str) -> None:
    data = noise(3000) + b'{"setting": "' + ENCODED[encoding] + b'"}' + noise(3000, seed=8)
    found = secrets.scan(data, VALUES)
    assert found is not None and found.kind.startswith("the value of $AWS_SECRET_ACCESS_KEY")
    assert VALUE not in found.kind and 3000 <= found.offset <= 3000 + 20


def test_a_value_is_only_its_own() -> None:
    other = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCY+EXBMPLEKEY"  # one character off (base64 forms leave
    # out the last character's low bits: they depend on the byte that follows)
    data = noise(2000) + other.encode() + base64.b64encode(other.encode()) + noise(2000)
    assert secrets.scan(data, VALUES) is None
    assert secrets.scan(noise(1 << 20), VALUES) is None


SHAPES = {
    "base64": lambda token, a: base64.b64encode(b"ab"[:a] + token),
    "urlsafe-base64": lambda token, a: base64.urlsafe_b64encode(b"ab"[:a] + token),
    "hex": lambda token, a: (b"0" * a) + token.hex().encode(),
    "HEX": lambda token, a: token.hex().upper().encode(),
    "utf16-le": lambda token, a: b"\x07"[:a] + token.decode().encode("utf-16-le"),
    "utf16-be": lambda token, a: b"\x07"[:a] + token.decode().encode("utf-16-be"),
}


@pytest.mark.parametrize("plant", sorted(KINDS))
@pytest.mark.parametrize("encoding", sorted(SHAPES))
def test_each_token_shape_is_found_in_every_encoding(plant: str, encoding: str) -> None:
    for alignment in range(3):
        encoded = SHAPES[encoding](PLANTS[plant].encode(), alignment)
        found = secrets.scan(noise(2000) + b" " + encoded + b" " + noise(2000, seed=8))
        assert found is not None and KINDS[plant] in found.kind, (alignment, encoded)


def write_zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> None:
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_a_value_in_a_gzip_stream_is_found_in_what_it_inflates_to(tmp_path: Path) -> None:
    path = tmp_path / "config.json.gz"
    first = gzip.compress(noise(10000), mtime=0)  # a second member: the value is in it
    path.write_bytes(first + gzip.compress(b'{"token": "' + b64_at(1) + b'"}', mtime=0))
    digest, found = secrets.digest_and_scan(path, VALUES)
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    assert found is not None and found.kind == "the value of $AWS_SECRET_ACCESS_KEY (base64-encoded)"
    assert found.where == " of its gzip stream"
    assert 10000 + 11 <= found.offset <= 10000 + 11 + 3  # where the base64 no longer depends on its alignment


def test_values_and_shapes_in_zip_members_are_found_naming_the_member(tmp_path: Path) -> None:
    path = tmp_path / "bundle.zip"
    write_zip(path, {"a.txt": noise(5000), "b.json": b'{"v": "' + VALUE.encode("utf-16-le") + b'"}'})
    found = secrets.digest_and_scan(path, VALUES)[1]
    assert found is not None and found.where == " of its zip member 2" and "UTF-16" in found.kind
    # a stored member is the file's own bytes; a gzip stream stored in a zip is inflated
    write_zip(path, {"model.bin": noise(100) + gzip.compress(PLANTS["hf"].encode())}, zipfile.ZIP_STORED)
    assert secrets.digest_and_scan(path)[1] is None  # the gzip does not start the member
    write_zip(path, {"model.bin.gz": gzip.compress(b"x" + PLANTS["hf"].encode())}, zipfile.ZIP_STORED)
    found = secrets.digest_and_scan(path)[1]
    assert found is not None and "Hugging Face" in found.kind and found.where == " of its zip member 1"


def test_a_zip_bomb_is_inflated_only_up_to_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "MAX_INFLATED", 1 << 20)  # 256 MB in the kit: the same code, faster
    zeros = b"\0" * (1 << 20)
    before, after = b"x" + PLANTS["hf"].encode(), b"x" + PLANTS["github"].encode()
    bomb = tmp_path / "bomb.gz"
    with gzip.open(bomb, "wb", compresslevel=1) as stream:  # 8 MB inflated from a few KB
        stream.write(before)
        for _ in range(8):
            stream.write(zeros)
        stream.write(after)
    found = secrets.digest_and_scan(bomb)[1]
    assert found is not None and "Hugging Face" in found.kind
    zeros_first = tmp_path / "bomb.zip"
    write_zip(zeros_first, {f"{i}.bin": zeros for i in range(3)} | {"last.txt": after})
    assert secrets.digest_and_scan(zeros_first)[1] is None  # past the cap: not inflated, not read
    write_zip(zeros_first, {"last.txt": after} | {f"{i}.bin": zeros for i in range(3)})
    assert secrets.digest_and_scan(zeros_first)[1] is not None  # the same member, within the cap


def test_a_corrupt_gzip_or_zip_is_scanned_as_far_as_it_goes(tmp_path: Path) -> None:
    path = tmp_path / "broken.gz"
    whole = gzip.compress(b"weights " * 1000 + PLANTS["hf"].encode() + noise(100000))
    assert PLANTS["hf"].encode() not in whole  # compressed, not stored
    path.write_bytes(whole[: len(whole) // 2])
    found = secrets.digest_and_scan(path)[1]
    assert found is not None and found.where == " of its gzip stream"
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04" + noise(1000))
    assert secrets.digest_and_scan(tmp_path / "broken.zip")[1] is None


def test_a_line_printing_a_value_names_it_instead() -> None:
    redact = secrets.redactor(
        [Credential("$AWS_SECRET_ACCESS_KEY", VALUE), Credential("$HF_TOKEN", PLANTS["hf"])]
    )
    line = f"token={PLANTS['hf']} secret={VALUE} b64={b64_at(0).decode()}"
    redacted = redact(line)
    assert redacted.startswith(
        "token=[$HF_TOKEN] secret=[$AWS_SECRET_ACCESS_KEY] b64=[$AWS_SECRET_ACCESS_KEY (base64-encoded)]"
    )
    assert len(redacted) < len(line) and b64_at(0).decode()[:40] not in redacted  # a few edge characters stay
    assert redact("nothing to hide") == "nothing to hide"
