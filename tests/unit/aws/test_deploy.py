"""Deploy's pre-flight: an STS endpoint out of reach is the network or the region, not credentials."""

from __future__ import annotations

import socket

import boto3
import pytest

from lambdakit.aws import deploy
from lambdakit.core.errors import AwsUnreachable


def test_an_unreachable_sts_does_not_blame_the_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"  # closed once the probe is: refused at once
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    session = boto3.Session(region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with pytest.raises(AwsUnreachable) as caught:
        deploy.caller_account(session)
    message = str(caught.value)
    assert message.startswith(f"could not check the credentials (sts get-caller-identity) at {endpoint}")
    assert "check the network and the region" in message and "refresh them" not in message
