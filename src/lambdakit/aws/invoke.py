"""Call the function through the AWS SDK's `Invoke` API: the client for `nox -s invoke` (`commands/invoke.py`)
and for user code.

    from lambdakit.aws.invoke import invoke
    result = invoke({"your": "event"}, "myapp-InferenceFunction-abc123")
    print(result.payload, result.log_tail)

Why the SDK and not an HTTP gateway: API Gateway cuts an integration at 29 s and clients retry on timeouts,
which re-runs a slow inference. Here the call is synchronous (`RequestResponse`), the read timeout outlasts
the function's own timeout, and botocore's automatic retries are off (one attempt: a retry would run the model
again and bill it twice). `LogType=Tail` returns the last 4 KB of the function's log, decoded here.

Payloads: a Python object is sent as its JSON; a `str` is sent as a JSON *string*, which reaches the handler
as a Python `str`; `bytes` are sent as they are (an already-encoded JSON document). A payload
over 6 MB is refused before sending. Errors are typed (`lambdakit.core.errors`):

* `FunctionFailed`: the function raised or its runtime died (`FunctionError` set by Lambda, or an
  `errorType` body, which is how the emulator and `sam local` report it);
* `FunctionErrorResponse`: the handler answered with its own error (`{"error": {...}}`, or a proxy response
  with `statusCode` >= 400);
* `InvokeFailed`: the API call failed (unknown function, no credentials, endpoint unreachable, timeout).

The same client works against Lambda, `sam local start-lambda` (`endpoint_url="http://127.0.0.1:3001"`,
function name = the template's logical id) and a container's emulator (`runtime.client.INVOKE_PATH` on the
RIE port, function name `function`), and the moto-based rehearsal (`AWS_ENDPOINT_URL`).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from lambdakit.config.target import LAMBDA
from lambdakit.core import settings
from lambdakit.core.errors import (
    FunctionErrorResponse,
    FunctionFailed,
    InvokeFailed,
    InvokePayloadTooLarge,
)
from lambdakit.runtime.emulator import handler_error, runtime_error

READ_TIMEOUT_MARGIN = 60  # cold start, image pull and network on top of the function's timeout
CONNECT_TIMEOUT = 10
ONE_ATTEMPT = 1  # botocore's total_max_attempts: the first call and no retry


@dataclass(frozen=True)
class InvokeResult:
    """What came back: the decoded payload (JSON, else text), the raw bytes and the decoded log tail."""

    status_code: int
    payload: Any
    raw: bytes
    log_tail: str
    function_error: str | None
    executed_version: str | None


def client_config(function_timeout: int = LAMBDA.max_timeout_s) -> Any:
    """botocore settings for a long synchronous call: patient read, no retries, TCP keep-alive."""
    from botocore.config import Config

    return Config(
        read_timeout=function_timeout + READ_TIMEOUT_MARGIN,
        connect_timeout=CONNECT_TIMEOUT,
        retries={"total_max_attempts": ONE_ATTEMPT},
        tcp_keepalive=True,
    )


def lambda_client(
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    function_timeout: int = LAMBDA.max_timeout_s,
    local: bool = False,
) -> Any:
    """A boto3 Lambda client configured by `client_config`. `local=True` adds dummy credentials and a region,
    which `sam local start-lambda` and the emulator need but ignore."""
    import boto3

    kwargs: dict[str, Any] = {
        "endpoint_url": endpoint_url,
        "region_name": region,
        "config": client_config(function_timeout),
    }
    if local:
        kwargs |= {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
        kwargs["region_name"] = region or settings.LOCAL_REGION
    return boto3.client("lambda", **kwargs)


def encode_payload(event: Any) -> bytes:
    """The request body: bytes as they are, anything else as JSON; refused above 6 MB."""
    body = event if isinstance(event, bytes) else json.dumps(event, ensure_ascii=False).encode("utf-8")
    if len(body) > LAMBDA.payload_bytes:
        raise InvokePayloadTooLarge(
            f"the payload is {len(body)} bytes; Lambda accepts at most {LAMBDA.payload_bytes} bytes (6 MB) "
            "per synchronous call: send fewer or shorter texts per call, or pass large inputs by reference"
        )
    return body


def decode_log_tail(log_result: str | None) -> str:
    """`LogResult` is the base64 of the last 4 KB of the log; the cut may split a UTF-8 character."""
    if not log_result:
        return ""
    try:
        return base64.b64decode(log_result, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return f"(undecodable log tail: {log_result[:80]}...)"


def decode_body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return raw.decode("utf-8", errors="replace")


def check_result(result: InvokeResult) -> None:
    """Raise the typed error an error answer stands for; return quietly for a success."""
    payload = result.payload
    failure = runtime_error(payload)
    if result.function_error or failure is not None:
        error_type, message = failure or ("Unknown", str(payload)[:500])
        how = f"FunctionError={result.function_error}" if result.function_error else "error body"
        raise FunctionFailed(
            f"the function failed ({how}): {error_type}: {message or '(no message)'}",
            error_type=error_type,
            payload=payload,
            log_tail=result.log_tail,
        )
    error = handler_error(payload)
    if error is not None:
        error_type, message = error
        raise FunctionErrorResponse(
            f"the function answered with an error: {error_type}: {message}",
            error_type=error_type,
            payload=payload,
            log_tail=result.log_tail,
        )


def invoke(
    event: Any,
    function_name: str,
    *,
    client: Any = None,
    qualifier: str | None = None,
    check: bool = True,
) -> InvokeResult:
    """Invoke once, synchronously, with the log tail; raise a typed error for an error answer when `check`."""
    body = encode_payload(event)
    client = client or lambda_client()
    kwargs: dict[str, Any] = {
        "FunctionName": function_name,
        "InvocationType": "RequestResponse",
        "LogType": "Tail",
        "Payload": body,
    }
    if qualifier:
        kwargs["Qualifier"] = qualifier
    response = _call(client, kwargs)
    raw = response["Payload"].read()
    result = InvokeResult(
        status_code=int(response.get("StatusCode", 0)),
        payload=decode_body(raw),
        raw=raw,
        log_tail=decode_log_tail(response.get("LogResult")),
        function_error=response.get("FunctionError"),
        executed_version=response.get("ExecutedVersion"),
    )
    if check:
        check_result(result)
    return result


def _call(client: Any, kwargs: dict[str, Any]) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError

    name = kwargs["FunctionName"]
    try:
        return client.invoke(**kwargs)
    except ReadTimeoutError as exc:
        raise InvokeFailed(
            f"no answer from {name} within {client.meta.config.read_timeout} s (read timeout); the function "
            "may still be running: raise the timeout (--function-timeout) or check its logs; not retried"
        ) from exc
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "Error"), error.get("Message", str(exc))
        hint = ""
        if code == "ResourceNotFoundException":
            hint = " (check --function, the region, and that the stack is deployed: nox -s deploy)"
        raise InvokeFailed(f"Invoke of {name} was refused: {code}: {message}{hint}") from exc
    except BotoCoreError as exc:
        raise InvokeFailed(
            f"Invoke of {name} failed before an answer: {exc} (check credentials, region and --endpoint-url)"
        ) from exc
