"""Event normalisation: every accepted shape parses; every bad one raises its typed error."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from inference import errors
from inference.events import (
    MAX_PAYLOAD_BYTES,
    MAX_TEXT_CHARS_ENV,
    MAX_TEXTS_ENV,
    Request,
    check_limits,
    is_proxy_event,
    max_text_chars,
    max_texts,
    parse_event,
)

EVENTS = Path(__file__).resolve().parents[2] / "events"


def http_v2(body: str | None, *, b64: bool = False) -> dict[str, object]:
    return {
        "version": "2.0",
        "routeKey": "POST /classify",
        "requestContext": {"http": {"method": "POST"}},
        "body": body,
        "isBase64Encoded": b64,
    }


def rest_v1(body: str | None) -> dict[str, object]:
    return {
        "httpMethod": "POST",
        "resource": "/classify",
        "requestContext": {},
        "body": body,
        "isBase64Encoded": False,
    }


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"text": "hello"}, Request(("hello",), batch=False)),
        ({"texts": ["a", "b"]}, Request(("a", "b"), batch=True)),
        (json.dumps({"text": "hello"}), Request(("hello",), batch=False)),
        (rest_v1(json.dumps({"text": "hi"})), Request(("hi",), batch=False)),
        (http_v2(json.dumps({"texts": ["x"]})), Request(("x",), batch=True)),
        (http_v2(base64.b64encode(b'{"text": "caf\xc3\xa9"}').decode(), b64=True), Request(("café",), False)),
    ],
    ids=["object", "batch", "json-string", "rest-v1", "http-v2", "function-url-base64"],
)
def test_accepted_shapes(event: object, expected: Request) -> None:
    assert parse_event(event) == expected


@pytest.mark.parametrize("path", sorted(EVENTS.glob("*.json")), ids=lambda p: p.stem)
def test_every_sample_event_parses(path: Path) -> None:
    request = parse_event(json.loads(path.read_text()))
    assert request.texts and all(text.strip() for text in request.texts)


TOO_BIG = "x" * (MAX_PAYLOAD_BYTES + 1)
B64_BODY = base64.b64encode(b'{"text": "hi"}').decode()

BAD_EVENTS = [
    ("not-json-string", "this is not json", errors.InvalidJson),
    ("json-string-of-string", json.dumps("just a string"), errors.InvalidEventType),
    ("list", ["text"], errors.InvalidEventType),
    ("number", 42, errors.InvalidEventType),
    ("null", None, errors.InvalidEventType),
    ("bool", True, errors.InvalidEventType),
    ("empty-object", {}, errors.MissingText),
    ("empty-text", {"text": ""}, errors.EmptyText),
    ("blank-text", {"text": " \n\t"}, errors.EmptyText),
    ("text-number", {"text": 3}, errors.InvalidFieldType),
    ("text-null", {"text": None}, errors.InvalidFieldType),
    ("texts-string", {"texts": "abc"}, errors.InvalidFieldType),
    ("texts-item-number", {"texts": ["ok", 1]}, errors.InvalidFieldType),
    ("texts-empty", {"texts": []}, errors.MissingText),
    ("texts-blank-item", {"texts": ["ok", ""]}, errors.EmptyText),
    ("both-fields", {"text": "a", "texts": ["b"]}, errors.InvalidFieldType),
    ("too-many-texts", {"texts": ["t"] * 65}, errors.TooManyTexts),
    ("text-too-long", {"text": "a" * 20001}, errors.TextTooLong),
    ("payload-too-large", {"texts": [TOO_BIG]}, errors.PayloadTooLarge),
    ("string-payload-too-large", json.dumps({"text": TOO_BIG}), errors.PayloadTooLarge),
    ("unknown-field", {"text": "a", "lang": "en"}, errors.UnknownField),
    ("typo-field", {"txt": "a"}, errors.UnknownField),
    ("lone-surrogate", {"text": "bad \ud800 char"}, errors.InvalidUtf8),
    ("proxy-body-null", http_v2(None), errors.MissingText),
    ("proxy-body-not-json", rest_v1("text=hello"), errors.InvalidJson),
    ("proxy-body-array", rest_v1("[1, 2]"), errors.InvalidEventType),
    ("proxy-body-not-string", {**rest_v1(None), "body": {"text": "a"}}, errors.InvalidFieldType),
    ("proxy-invalid-base64", http_v2("%%%not-base64%%%", b64=True), errors.InvalidBase64),
    ("proxy-base64-flag-string", {**http_v2(B64_BODY), "isBase64Encoded": "true"}, errors.InvalidFieldType),
    ("proxy-base64-flag-number", {**http_v2(B64_BODY), "isBase64Encoded": 1}, errors.InvalidFieldType),
    (
        "proxy-invalid-utf8",
        http_v2(base64.b64encode(b'{"text": "\xff\xfe"}').decode(), b64=True),
        errors.InvalidUtf8,
    ),
    ("proxy-body-too-large", http_v2(TOO_BIG), errors.PayloadTooLarge),
    ("proxy-unknown-field", http_v2('{"text": "a", "extra": 1}'), errors.UnknownField),
    # Python's json refuses integers of over 4300 digits with a ValueError that is no JSONDecodeError
    ("proxy-huge-integer", rest_v1('{"text": 1' + "0" * 5000 + "}"), errors.InvalidJson),
    ("string-huge-integer", '{"texts": [' + "9" * 5000 + "]}", errors.InvalidJson),
    ("only-zero-width", {"text": "\u200b\u200c\u2060\ufeff"}, errors.EmptyText),
    ("only-control-chars", {"text": "\x00\x01\x7f\x9f"}, errors.EmptyText),
    ("texts-zero-width-item", {"texts": ["ok", "\u200d \u200b"]}, errors.EmptyText),
    ("expands-past-the-limit", {"text": "\ufb03" * 7000}, errors.TextTooLong),  # "ffi": 21,000 characters
]


@pytest.mark.parametrize(
    ("event", "error"), [(e, err) for _, e, err in BAD_EVENTS], ids=[n for n, _, _ in BAD_EVENTS]
)
def test_bad_events_raise_their_typed_error(event: object, error: type[errors.InferenceError]) -> None:
    with pytest.raises(error) as caught:
        parse_event(event)
    assert caught.value.message and caught.value.error_type == error.error_type


def test_error_messages_say_what_to_send() -> None:
    with pytest.raises(errors.UnknownField, match=r"'txt'.*accepted fields are 'text'"):
        parse_event({"txt": "a"})


def test_texts_arrive_normalised() -> None:
    request = parse_event({"texts": ["\ufb03  mail\u200bme at a.b@c.org ", "ok"]})
    assert request.texts == ("ffi mail me at email address", "ok")


def test_huge_field_names_are_not_echoed() -> None:
    name = "x" * 5_000_000
    with pytest.raises(errors.UnknownField) as caught:
        parse_event({name: 1, "text": "a", **{f"extra{i}": i for i in range(10)}})
    message = caught.value.message
    assert len(message) < 400, message
    assert "'xxxx" in message and "(5000000 characters)" in message and "and 8 more" in message


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFERENCE_MAX_TEXTS", "2")
    with pytest.raises(errors.TooManyTexts, match="at most 2"):
        parse_event({"texts": ["a", "b", "c"]})


@pytest.mark.parametrize("flag", ["true", "false", "True"])
def test_a_base64_flag_sent_as_a_string_names_the_field_and_the_fix(flag: str) -> None:
    with pytest.raises(errors.InvalidFieldType) as caught:
        parse_event({**http_v2(B64_BODY), "isBase64Encoded": flag})
    assert caught.value.status_code == 400
    assert f"'isBase64Encoded' is a JSON string ('{flag}')" in caught.value.message
    assert "send true or false without quotes" in caught.value.message


def test_a_null_base64_flag_means_plain_text() -> None:
    assert parse_event({**http_v2('{"text": "hi"}'), "isBase64Encoded": None}) == Request(("hi",), False)


@pytest.mark.parametrize(
    "value", ["abc", "0", "-1", "", " ", "1.5", "257", "1e3", "\u0666\u0664", "9" * 5000]
)
def test_an_unusable_limit_is_one_line_naming_variable_range_and_fix(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(MAX_TEXTS_ENV, value)
    with pytest.raises(errors.InvalidSetting) as caught:
        check_limits()
    message = str(caught.value)
    assert message.startswith("$INFERENCE_MAX_TEXTS=") and "\n" not in message and len(message) < 250
    assert "a whole number from 1 to 256" in message and "unset it for the default, 64" in message


def test_each_limit_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_TEXT_CHARS_ENV, "0")
    with pytest.raises(errors.InvalidSetting, match=r"^\$INFERENCE_MAX_TEXT_CHARS='0' .* from 1 to 6291456"):
        check_limits()


def test_limits_default_and_accept_their_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MAX_TEXTS_ENV, raising=False)
    monkeypatch.delenv(MAX_TEXT_CHARS_ENV, raising=False)
    assert (max_texts(), max_text_chars()) == (64, 20_000)
    monkeypatch.setenv(MAX_TEXTS_ENV, " 256 ")
    monkeypatch.setenv(MAX_TEXT_CHARS_ENV, "1")
    assert (max_texts(), max_text_chars()) == (256, 1)


def test_proxy_detection() -> None:
    assert is_proxy_event(rest_v1("{}")) and is_proxy_event(http_v2("{}"))
    assert not is_proxy_event({"text": "requestContext"}) and not is_proxy_event("body")
