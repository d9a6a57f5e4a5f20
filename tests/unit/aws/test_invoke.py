"""The invoke client: timeout and retry settings, error answers, log tail, payload limit.

The Lambda API answers come from botocore's Stubber (the real client, request validation included); the
end-to-end path over HTTP is covered by tests/integration/aws/test_rehearsal.py.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from lambdakit.aws import invoke
from lambdakit.config.target import LAMBDA
from lambdakit.core.errors import FunctionErrorResponse, FunctionFailed, InvokeFailed, InvokePayloadTooLarge

FUNCTION = "triage-InferenceFunction-ABC"


@pytest.fixture
def client() -> Any:
    return invoke.lambda_client(region="us-east-1", function_timeout=30, local=True)


@pytest.fixture
def stub(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def answer(payload: Any, function_error: str | None = None, log: str = "") -> dict[str, Any]:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    response: dict[str, Any] = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(raw), len(raw))}
    if function_error:
        response["FunctionError"] = function_error
    if log:
        response["LogResult"] = base64.b64encode(log.encode()).decode()
    return response


def expected(payload: bytes) -> dict[str, Any]:
    return {
        "FunctionName": FUNCTION,
        "InvocationType": "RequestResponse",
        "LogType": "Tail",
        "Payload": payload,
    }


def test_client_waits_longer_than_the_function_and_never_retries(client: Any) -> None:
    config = client.meta.config
    assert config.read_timeout > 30
    assert config.retries["total_max_attempts"] == 1
    assert config.tcp_keepalive is True


def test_default_read_timeout_outlasts_lambdas_longest_timeout() -> None:
    assert invoke.client_config().read_timeout > LAMBDA.max_timeout_s


def test_success_returns_the_payload_and_the_decoded_log_tail(client: Any, stub: Stubber) -> None:
    stub.add_response(
        "invoke",
        answer({"label": "billing"}, log="START\nREPORT RequestId: 1\n"),
        expected(b'{"text": "hi"}'),
    )

    result = invoke.invoke({"text": "hi"}, FUNCTION, client=client)

    assert result.payload == {"label": "billing"}
    assert result.log_tail.splitlines() == ["START", "REPORT RequestId: 1"]


def test_a_string_event_is_sent_as_a_json_string_and_bytes_as_they_are(client: Any, stub: Stubber) -> None:
    stub.add_response("invoke", answer({"label": "billing"}), expected(b'"{\\"text\\": \\"hi\\"}"'))
    stub.add_response("invoke", answer({"label": "billing"}), expected(b'{"text":"hi"}'))

    invoke.invoke('{"text": "hi"}', FUNCTION, client=client)
    invoke.invoke(b'{"text":"hi"}', FUNCTION, client=client)


def test_function_error_becomes_function_failed_with_type_message_and_log(client: Any, stub: Stubber) -> None:
    body = {"errorType": "MemoryError", "errorMessage": "out of memory", "stackTrace": []}
    stub.add_response(
        "invoke", answer(body, function_error="Unhandled", log="Traceback ...\n"), expected(b"{}")
    )

    with pytest.raises(FunctionFailed, match="MemoryError: out of memory") as caught:
        invoke.invoke({}, FUNCTION, client=client)

    assert caught.value.error_type == "MemoryError"
    assert caught.value.log_tail == "Traceback ...\n"


def test_emulator_error_body_without_function_error_is_a_failure_too(client: Any, stub: Stubber) -> None:
    body = {"errorType": "Runtime.UnmarshalError", "errorMessage": "bad json"}
    stub.add_response("invoke", answer(body), expected(b"{}"))

    with pytest.raises(FunctionFailed, match=r"Runtime\.UnmarshalError"):
        invoke.invoke({}, FUNCTION, client=client)


@pytest.mark.parametrize(
    "payload",
    [
        {"error": {"type": "UnknownField", "message": "Unknown field(s) 'txt'"}},
        {
            "statusCode": 400,
            "body": json.dumps({"error": {"type": "UnknownField", "message": "Unknown field(s) 'txt'"}}),
        },
    ],
    ids=["direct", "proxy"],
)
def test_handler_error_answer_becomes_function_error_response(
    client: Any, stub: Stubber, payload: Any
) -> None:
    stub.add_response("invoke", answer(payload), expected(b'{"txt": "x"}'))

    with pytest.raises(FunctionErrorResponse, match="UnknownField: Unknown field") as caught:
        invoke.invoke({"txt": "x"}, FUNCTION, client=client)

    assert caught.value.payload == payload


def test_check_false_returns_error_answers_untouched(client: Any, stub: Stubber) -> None:
    stub.add_response(
        "invoke", answer({"error": {"type": "EmptyText", "message": "empty"}}), expected(b'{"text": ""}')
    )

    result = invoke.invoke({"text": ""}, FUNCTION, client=client, check=False)

    assert result.payload["error"]["type"] == "EmptyText"


def test_api_refusal_becomes_invoke_failed(client: Any, stub: Stubber) -> None:
    stub.add_client_error(
        "invoke", "ResourceNotFoundException", "Function not found: x", expected_params=expected(b"{}")
    )

    with pytest.raises(InvokeFailed, match=r"ResourceNotFoundException.*nox -s deploy"):
        invoke.invoke({}, FUNCTION, client=client)


def test_payload_over_6_mb_is_refused_before_sending(client: Any, stub: Stubber) -> None:
    text = "x" * (LAMBDA.payload_bytes - len('{"text": ""}') + 1)

    with pytest.raises(InvokePayloadTooLarge, match="6 MB"):
        invoke.invoke({"text": text}, FUNCTION, client=client)  # the stub has no response: nothing was sent


def test_payload_of_exactly_6_mb_is_sent(client: Any, stub: Stubber) -> None:
    text = "x" * (LAMBDA.payload_bytes - len('{"text": ""}'))
    body = json.dumps({"text": text}).encode()
    stub.add_response("invoke", answer({"label": "billing"}), expected(body))

    assert invoke.invoke({"text": text}, FUNCTION, client=client).payload == {"label": "billing"}


@pytest.mark.parametrize(
    ("log_result", "tail"),
    [
        (None, ""),
        (base64.b64encode("é".encode()[:1]).decode(), "\ufffd"),  # the 4 KB cut split a character
        ("not base64!", "(undecodable log tail: not base64!...)"),
    ],
)
def test_log_tail_decoding(log_result: str | None, tail: str) -> None:
    assert invoke.decode_log_tail(log_result) == tail
