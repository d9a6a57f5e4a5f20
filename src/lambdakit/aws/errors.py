"""AWS errors as one line: botocore's `ClientError` carries a code and a message worth showing."""

from __future__ import annotations

from typing import Any


def aws_error(exc: Any) -> str:
    error = getattr(exc, "response", {}).get("Error", {})
    return f"{error.get('Code', 'Error')}: {error.get('Message', str(exc))}"
