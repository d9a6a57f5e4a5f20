"""What the stack says (outputs, state): a CloudFormation out of reach is one line, not botocore's."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from lambdakit.aws import stack
from lambdakit.core.errors import AwsUnreachable

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def closed_port() -> str:
    """An endpoint on this machine where nothing listens: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_an_unreachable_cloudformation_is_one_line_with_the_endpoint_and_the_fix(closed_port: str) -> None:
    cfn = boto3.client(
        "cloudformation",
        endpoint_url=closed_port,
        region_name="eu-west-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=2),
    )
    with pytest.raises(AwsUnreachable) as caught:
        stack.deployed_function(cfn, "triage")
    message = str(caught.value)
    assert message.startswith(f"could not ask CloudFormation for stack triage's outputs at {closed_port}")
    assert "EndpointConnectionError" in message and "check the network and the region" in message
    assert message.endswith("or pass --function NAME to invoke") and len(message.splitlines()) == 1
    with pytest.raises(AwsUnreachable, match="could not read the state of stack triage"):
        stack.state(cfn, "triage")


def test_invoke_without_function_when_cloudformation_is_unreachable(closed_port: str, tmp_path: Path) -> None:
    env = os.environ | {
        "AWS_ENDPOINT_URL": closed_port,
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "PYTHONPATH": str(REPO / "src"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "lambdakit", "invoke", "--text", "hello"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: could not ask CloudFormation") and result.stderr.count("\n") == 1
    assert "pass --function NAME" in result.stderr
