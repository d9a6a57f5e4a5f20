"""The handler end to end on the real default pipeline (ONNX model prepared in the cache root)."""

from __future__ import annotations

import json
import logging
import string
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inference import errors
from tests.function.test_events import BAD_EVENTS

pytestmark = pytest.mark.model

ERROR_TYPES = {
    cls.error_type
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, errors.InferenceError)
} | {"InternalError"}

# What a person would file each sample ticket under; the model must agree.
EXPECTED_LABELS = {
    "single": ["billing"],
    "batch": ["technical", "account", "shipping", "feature_request", "cancellation"],
    "json-string": ["shipping"],
    "apigw-rest-v1": ["account"],
    "apigw-http-v2": ["billing", "feature_request"],
    "function-url-base64": ["technical"],
}


@pytest.fixture(scope="module")
def handler(model_dir: Path) -> Any:
    from inference import handler as module

    return module


def body_of(response: dict[str, Any]) -> dict[str, Any]:
    if "statusCode" in response:
        assert response["headers"] == {"content-type": "application/json"}
        return dict(json.loads(response["body"]))
    return response


def labels_of(body: dict[str, Any]) -> list[str]:
    return [r["label"] for r in body["results"]] if "results" in body else [body["label"]]


def test_sample_events_get_the_expected_labels(handler: Any, sample_events: dict[str, Path]) -> None:
    assert set(sample_events) == set(EXPECTED_LABELS)
    for name, path in sample_events.items():
        response = handler.lambda_handler(json.loads(path.read_text()), None)
        assert response.get("statusCode", 200) == 200, response
        assert labels_of(body_of(response)) == EXPECTED_LABELS[name], name


def test_success_response_shape(handler: Any) -> None:
    body = handler.lambda_handler({"text": "Refund my last payment please"}, None)
    assert set(body["scores"]) == set(handler.PIPELINE.labels)
    assert body["label"] == max(body["scores"], key=body["scores"].get)
    assert sum(body["scores"].values()) == pytest.approx(1.0, abs=1e-4)
    assert body["model"]["id"] == "sentence-transformers/all-MiniLM-L6-v2" and body["model"]["revision"]
    assert body["tokens"] > 2 and body["truncated"] is False
    json.dumps(body)


def test_batch_keeps_order_and_count(handler: Any) -> None:
    texts = ["I cannot log in", "Where is my package?", "I cannot log in"]
    body = handler.lambda_handler({"texts": texts}, None)
    assert [r["label"] for r in body["results"]] == ["account", "shipping", "account"]
    assert body["results"][0]["scores"] == pytest.approx(body["results"][2]["scores"], abs=1e-5)


def test_long_text_is_truncated_not_rejected(handler: Any) -> None:
    body = handler.lambda_handler({"text": "my invoice is wrong " * 300}, None)
    assert body["truncated"] is True and body["tokens"] == 256 and body["label"] == "billing"


@pytest.mark.parametrize(
    ("event", "error"), [(e, err) for _, e, err in BAD_EVENTS], ids=[n for n, _, _ in BAD_EVENTS]
)
def test_bad_events_become_error_responses(
    handler: Any, event: object, error: type[errors.InferenceError]
) -> None:
    response = handler.lambda_handler(event, None)
    body = body_of(response)
    assert body["error"]["type"] == error.error_type and body["error"]["message"]
    if "statusCode" in response:
        assert response["statusCode"] == error.status_code


def test_text_the_tokenizer_drops_entirely_is_rejected(handler: Any) -> None:
    body = handler.lambda_handler({"texts": ["fine", "\u0301\u0308\u0301"]}, None)  # combining marks only
    assert body["error"]["type"] == "EmptyText" and "Text 2" in body["error"]["message"]


def test_a_huge_field_name_comes_back_neither_in_the_response_nor_the_log(
    handler: Any, caplog: pytest.LogCaptureFixture
) -> None:
    name = "n" * 5_000_000
    with caplog.at_level(logging.INFO, logger="inference"):
        response = handler.lambda_handler({"httpMethod": "POST", "body": json.dumps({name: 1})}, None)
    assert response["statusCode"] == 400 and len(response["body"]) < 500
    assert json.loads(response["body"])["error"]["type"] == "UnknownField"
    assert caplog.records and all(len(record.getMessage()) < 500 for record in caplog.records)


def test_internal_failure_returns_500_with_request_id_and_logs_traceback(
    handler: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(texts: Any) -> Any:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(handler.PIPELINE, "predict", explode)
    context = SimpleNamespace(aws_request_id="req-123")
    with caplog.at_level(logging.ERROR, logger="inference"):
        direct = handler.lambda_handler({"text": "hi"}, context)
        proxy = handler.lambda_handler({"httpMethod": "POST", "body": '{"text": "hi"}'}, context)
    assert direct["error"] == {
        "type": "InternalError",
        "request_id": "req-123",
        "message": direct["error"]["message"],
    }
    assert "req-123" in direct["error"]["message"] and "secret" not in json.dumps(direct)
    assert proxy["statusCode"] == 500 and "secret" not in proxy["body"]
    assert "secret internal detail" in caplog.text and "Traceback" in caplog.text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    ["text", "texts", "body", "httpMethod", "isBase64Encoded", "requestContext", "x"]
)
event_like = st.dictionaries(field_names, json_values | st.text(alphabet=string.printable), max_size=4)


# What the normaliser rewrites or drops, and what the JSON parser refuses beyond its syntax.
nasty_text = st.text(
    alphabet=st.sampled_from(["\ufb03", "\ufdfa", "\u200b", "\x00", "\u0301", "a", "@", ".", " "])
)
huge_integer = st.integers(min_value=4301, max_value=6000).map(
    lambda digits: '{"text": ' + "7" * digits + "}"
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    event=json_values
    | event_like
    | json_values.map(json.dumps)
    | nasty_text.map(lambda text: {"text": text})
    | huge_integer
    | huge_integer.map(lambda body: {"httpMethod": "POST", "body": body})
)
def test_arbitrary_json_never_escapes_the_handler(handler: Any, event: Any) -> None:
    response = handler.lambda_handler(event, None)
    body = body_of(response)
    if "error" in body:
        assert body["error"]["type"] in ERROR_TYPES - {"InternalError"}, body
    else:
        assert labels_of(body) and all(label in handler.PIPELINE.labels for label in labels_of(body))
