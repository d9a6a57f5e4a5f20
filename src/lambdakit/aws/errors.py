"""AWS errors as one line: botocore's `ClientError` carries a code and a message worth showing; a failure
before any answer (`BotoCoreError`: network, endpoint, credentials) says what was called, where, the fix."""

from __future__ import annotations

from typing import Any

from lambdakit.core.errors import AwsUnreachable


def aws_error(exc: Any) -> str:
    error = getattr(exc, "response", {}).get("Error", {})
    return f"{error.get('Code', 'Error')}: {error.get('Message', str(exc))}"


def is_connection_error(exc: BaseException) -> bool:
    """The endpoint could not be reached or did not answer (as opposed to a credentials problem)."""
    from botocore.exceptions import ConnectionError, HTTPClientError

    return isinstance(exc, ConnectionError | HTTPClientError)


def unreachable(exc: BaseException, client: Any, what: str, fix: str) -> AwsUnreachable:
    """botocore's failure before any answer as one line: what the kit was doing, the endpoint it called, the
    usual checks for that kind of failure, and FIX (what else the user can do)."""
    from botocore.exceptions import NoCredentialsError, NoRegionError

    endpoint = getattr(getattr(client, "meta", None), "endpoint_url", None) or "the AWS endpoint"
    if isinstance(exc, NoCredentialsError):
        check = "set up credentials (`aws configure`, `aws sso login` or AWS_PROFILE)"
    elif isinstance(exc, NoRegionError):
        check = "set AWS_REGION or `region` in samconfig.toml"
    elif is_connection_error(exc):
        check = "check the network and the region (AWS_REGION, samconfig.toml)"
    else:
        check = "check the credentials and the region"
    return AwsUnreachable(f"could not {what} at {endpoint} ({type(exc).__name__}: {exc}); {check}, or {fix}")
