"""The registry credentials the images room reads itself: ECR's token, for pulling a pinned asset image."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from lambdakit.core.errors import ImageMissing
from lambdakit.images import pinned, push


def test_an_ecr_token_becomes_the_registry_and_its_docker_credentials() -> None:
    token = base64.b64encode(b"AWS:s3cr3t:with:colons").decode()
    registry = push.registry_from_token(
        {
            "authorizationToken": token,
            "proxyEndpoint": "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/",
        }
    )
    assert registry.host == "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    assert registry.auth_config == {"username": "AWS", "password": "s3cr3t:with:colons"}


def test_a_registry_that_is_not_ecr_needs_no_aws_credentials() -> None:
    assert pinned.registry_auth("127.0.0.1:5000") is None


def test_pulling_from_ecr_without_aws_credentials_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata lookup off a cloud host
    with pytest.raises(ImageMissing, match=r"no ECR credentials for eu-west-1 .*configure AWS credentials"):
        pinned.registry_auth("123456789012.dkr.ecr.eu-west-1.amazonaws.com")
