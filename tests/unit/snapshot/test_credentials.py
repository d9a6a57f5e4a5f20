"""The caller's credential values, from its environment and its credential files, named but never shown."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from lambdakit.snapshot import caches, credentials

# Built from pieces: no credential-shaped literal in this file (the detect-private-key hook, and readers).
SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
SESSION = "IQoJb3JpZ2luX2VjE" + "Nr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ"
HUB = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567"


def by_value(found: tuple[credentials.Credential, ...]) -> dict[str, str]:
    return {c.value: c.name for c in found}


def test_the_environment_gives_aws_hub_and_any_secret_named_variable() -> None:
    env = {
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SESSION_TOKEN": SESSION,
        "HF_TOKEN": HUB,
        "MYLIB_API_KEY": "k3y-" + "0123456789abcdef",
        "DB_PASSWORD": "correct-horse-" + "battery-staple",
        "SHORT_TOKEN": "abc123",  # shorter than MIN_VALUE
        "PLACEHOLDER_SECRET": "*" * 20,  # too few distinct characters
        "GPG_KEY": "A035C8C19219BA82" + "1ECEA86B64E628F8D684696D",  # python images: a public fingerprint
        "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin",
        "KEYBOARD": "not a credential name, long enough",
    }
    found = by_value(credentials.known_values(env, Path("/nonexistent")))
    assert found == {
        SECRET: "$AWS_SECRET_ACCESS_KEY",
        SESSION: "$AWS_SESSION_TOKEN",
        HUB: "$HF_TOKEN",
        env["MYLIB_API_KEY"]: "$MYLIB_API_KEY",
        env["DB_PASSWORD"]: "$DB_PASSWORD",
    }


def test_a_variable_naming_an_existing_file_is_not_a_value(tmp_path: Path) -> None:
    key = tmp_path / "deploy-key-for-the-registry.pem"
    key.write_text("x")
    found = credentials.known_values({"SSH_KEY": str(key), "HOME": str(tmp_path)})
    assert found == ()


def test_every_aws_profile_and_the_hub_token_file_are_read(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws/credentials").write_text(
        f"[default]\naws_access_key_id = AKIA{'IOSFODNN7EXAMPLE'}\naws_secret_access_key = {SECRET}\n"
        f"[dev]\naws_secret_access_key={SECRET[::-1]}\naws_session_token = {SESSION}\n"
    )
    (home / ".aws/config").write_text("[profile ci]\nregion = eu-west-1\noutput = json\n")
    hub = tmp_path / "hf-home"
    hub.mkdir()
    (hub / "token").write_text(HUB + "\n")
    found = by_value(credentials.known_values({"HF_HOME": str(hub)}, home))
    assert found == {
        "AKIA" + "IOSFODNN7EXAMPLE": "aws_access_key_id [default] in ~/.aws/credentials",
        SECRET: "aws_secret_access_key [default] in ~/.aws/credentials",
        SECRET[::-1]: "aws_secret_access_key [dev] in ~/.aws/credentials",
        SESSION: "aws_session_token [dev] in ~/.aws/credentials",
        HUB: f"the token in {hub / 'token'}",
    }


def test_netrc_git_docker_kaggle_and_pgpass_give_their_passwords(tmp_path: Path) -> None:
    password = "s3cret-" + "registry-password"
    (tmp_path / ".netrc").write_text(f"machine example.com\n  login me\n  password {password}1\n")
    (tmp_path / ".git-credentials").write_text(f"https://me:{password}2@git.example.com\n")
    (tmp_path / ".docker").mkdir()
    auth = base64.b64encode(f"me:{password}3".encode()).decode()
    (tmp_path / ".docker/config.json").write_text(json.dumps({"auths": {"r.example.com": {"auth": auth}}}))
    (tmp_path / ".kaggle").mkdir()
    (tmp_path / ".kaggle/kaggle.json").write_text(json.dumps({"username": "me", "key": f"{password}4"}))
    (tmp_path / ".pgpass").write_text(f"db.example.com:5432:app:me:{password}5\n")
    found = by_value(credentials.known_values({}, tmp_path))
    assert found[f"{password}1"] == "password in ~/.netrc"
    assert found[f"{password}2"] == "a password in ~/.git-credentials"
    assert found[auth] == "auths.r.example.com.auth in ~/.docker/config.json"
    assert found[f"{password}3"] == "the password in auths.r.example.com.auth in ~/.docker/config.json"
    assert found[f"{password}4"] == "key in ~/.kaggle/kaggle.json"
    assert found[f"{password}5"] == "a password in ~/.pgpass"


def test_a_credential_is_named_never_shown() -> None:
    credential = credentials.Credential("$HF_TOKEN", HUB)
    assert HUB not in repr(credential)
    (weird,) = credentials.from_file_text(f"{HUB}_token = {SECRET}\n", "keys", "~/.s3cfg")
    assert HUB not in weird.name and weird.name == "a credential in ~/.s3cfg"


def test_every_credential_file_read_for_values_is_also_never_shipped() -> None:
    for default, *_ in caches.CREDENTIAL_FILES:
        assert caches.is_secret(default), default


@pytest.mark.parametrize("variable", ["AWS_SHARED_CREDENTIALS_FILE", "NETRC"])
def test_a_variable_moves_a_credential_file(variable: str, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere"
    moved.write_text(
        f"password {SECRET}\n" if variable == "NETRC" else f"[x]\naws_secret_access_key={SECRET}\n"
    )
    found = by_value(credentials.known_values({variable: str(moved)}, tmp_path / "home"))
    assert SECRET in found and str(moved) in found[SECRET]
