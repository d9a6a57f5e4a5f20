"""Turn whatever Lambda hands the handler into a validated `Request`, or raise a typed error.

Accepted events
---------------
* Direct invocation (``aws lambda invoke``, boto3 ``Invoke``): an object ``{"text": "..."}`` or the batch
  form ``{"texts": ["...", ...]}``.
* The same object sent as a JSON *string*: the runtime hands the handler a ``str`` when the payload is a JSON
  string, e.g. ``"{\"text\": \"hi\"}"``. It is parsed once more.
* Proxy events: API Gateway REST (v1, ``httpMethod``), HTTP API (v2, ``version: "2.0"``) and Lambda Function
  URLs (v2 format). Their ``body`` is a JSON string of the object above, base64-encoded when
  ``isBase64Encoded`` is true. Errors for these come back as ``statusCode`` 400/413 responses.

Decisions
---------
* Unknown fields are rejected (`UnknownField`), so a typo such as ``{"txt": ...}`` is never silently read
  as "no text". Proxy envelopes may carry any fields; only their body is checked this way.
* ``isBase64Encoded`` must be a JSON boolean (absent or null means false), as API Gateway and Function URLs
  send it. A string such as ``"true"`` is refused (`InvalidFieldType`, 400, naming the field and the fix)
  rather than guessed at: only a hand-written event carries one, and its author learns the fix at once.
* Sending both ``text`` and ``texts`` is an error: the response shape would be ambiguous.
* Limits: at most ``INFERENCE_MAX_TEXTS`` texts (default 64, allowed 1-256) of ``INFERENCE_MAX_TEXT_CHARS``
  characters (default 20000, allowed 1-6291456) each, counted both as sent and after Unicode normalisation
  (NFKC turns "ﬃ" into "ffi"; one code point can become 18), and a payload of at most 6 MB (Lambda's limit
  for synchronous invocation, which the local emulator does not enforce). These bound the work of one
  request: see docs/performance.md for the worst case (normalisation is linear on every CPython, long runs of
  combining marks included: `inference.preprocess`). The handler checks both settings at init
  (`check_limits`): a value that is not a whole number in its range fails the cold start with one line
  (`InvalidSetting`) instead of failing every request.
* A text with nothing left after normalisation (only whitespace, control or zero-width characters) is
  `EmptyText`: the model would embed an empty string and still name a label.
* Messages quote at most a few short pieces of the request (`quote`): a 5 MB field name must not come back
  in the response or the log.
* `Request.texts` are normalised (`inference.preprocess.normalise`): the pipeline takes them as they are.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Sequence
from typing import Any, NamedTuple

from inference.errors import (
    EmptyText,
    InvalidBase64,
    InvalidEventType,
    InvalidFieldType,
    InvalidJson,
    InvalidSetting,
    InvalidUtf8,
    MissingText,
    PayloadTooLarge,
    TextTooLong,
    TooManyTexts,
    UnknownField,
)
from inference.preprocess import ExpandedTooLong, normalise

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
MAX_TEXTS_ENV = "INFERENCE_MAX_TEXTS"
MAX_TEXT_CHARS_ENV = "INFERENCE_MAX_TEXT_CHARS"
DEFAULT_MAX_TEXTS = 64
DEFAULT_MAX_TEXT_CHARS = 20_000
# 256 texts of 256 tokens take about 26 s of one vCPU (4x the 64-text worst case): more cannot meet a 30 s
# Timeout. A text longer than the 6 MB payload cannot arrive at all.
MAX_TEXTS_CEILING = 256
MAX_TEXT_CHARS_CEILING = 6 * 1024 * 1024
ALLOWED_FIELDS = ("text", "texts")
QUOTED_CHARS = 40  # a quoted piece of the request is cut to this many characters
QUOTED_ITEMS = 3
EXAMPLE = '{"text": "My invoice is wrong"} or {"texts": ["...", "..."]}'


class Request(NamedTuple):
    """What the pipeline is asked: one or more texts, and whether the caller sent a batch."""

    texts: tuple[str, ...]  # normalised
    batch: bool


def max_texts() -> int:
    return _limit(MAX_TEXTS_ENV, DEFAULT_MAX_TEXTS, MAX_TEXTS_CEILING)


def max_text_chars() -> int:
    return _limit(MAX_TEXT_CHARS_ENV, DEFAULT_MAX_TEXT_CHARS, MAX_TEXT_CHARS_CEILING)


def check_limits() -> None:
    """Raise `InvalidSetting` (one line: the variable, its range, the fix) for a limit it cannot use."""
    max_texts()
    max_text_chars()


def _limit(name: str, default: int, ceiling: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    digits = raw.strip()
    # isdecimal() also takes other scripts' digits, which int() reads; isascii() keeps the setting plain
    plain = digits.isascii() and digits.isdecimal() and len(digits) <= len(str(ceiling))
    if plain and 1 <= int(digits) <= ceiling:
        return int(digits)
    shown = raw if len(raw) <= QUOTED_CHARS else raw[:QUOTED_CHARS] + "..."
    raise InvalidSetting(
        f"${name}={shown!r} is not a whole number from 1 to {ceiling}; set it in that range in the "
        f"function's environment (template.yaml), or unset it for the default, {default}."
    )


def is_proxy_event(event: object) -> bool:
    """True for API Gateway v1/v2 and Function URL events, which wrap the request in a `body`."""
    if not isinstance(event, dict):
        return False
    if "httpMethod" in event or "routeKey" in event:
        return True
    return "requestContext" in event and ("body" in event or "version" in event)


def parse_event(event: object) -> Request:
    """Validate a Lambda event of any accepted shape and return the texts to classify."""
    if isinstance(event, str):
        _check_size(len(event.encode("utf-8", "surrogatepass")))
        event = _loads(event, "the payload")
        if isinstance(event, str):
            raise InvalidEventType(
                f"The payload is a JSON string that does not hold an object; send {EXAMPLE}."
            )
    if not isinstance(event, dict):
        raise InvalidEventType(f"The event is a JSON {_json_type(event)}, not an object; send {EXAMPLE}.")
    if is_proxy_event(event):
        return _parse_object(_body_object(event))
    _check_size(_encoded_size(event))
    return _parse_object(event)


def _body_object(event: dict[str, Any]) -> dict[str, Any]:
    body = event.get("body")
    if body is None or body == "":
        raise MissingText(f"The request body is empty; send a JSON body such as {EXAMPLE}.")
    if not isinstance(body, str):
        raise InvalidFieldType(f"The proxy event's body is a JSON {_json_type(body)}; it must be a string.")
    _check_size(len(body.encode("utf-8", "surrogatepass")))
    if _is_base64_encoded(event):
        body = _decode_base64(body)
    obj = _loads(body, "the request body")
    if not isinstance(obj, dict):
        raise InvalidEventType(
            f"The request body is a JSON {_json_type(obj)}, not an object; send {EXAMPLE}."
        )
    return obj


def _is_base64_encoded(event: dict[str, Any]) -> bool:
    flag = event.get("isBase64Encoded")
    if flag is None or isinstance(flag, bool):
        return flag is True
    shown = f" ({quote([flag])})" if isinstance(flag, str) else ""
    raise InvalidFieldType(
        f"The proxy event's 'isBase64Encoded' is a JSON {_json_type(flag)}{shown}; it must be a boolean: "
        "send true or false without quotes, as API Gateway and Function URLs do."
    )


def _decode_base64(body: str) -> str:
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidBase64(
            "The body is marked isBase64Encoded but is not valid base64; encode the UTF-8 JSON body "
            "with standard base64, or send it as plain text with isBase64Encoded false."
        ) from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidUtf8(
            f"The decoded body is not valid UTF-8 (bad byte at offset {exc.start}); send UTF-8 encoded JSON."
        ) from exc


def _parse_object(obj: dict[str, Any]) -> Request:
    unknown = [key for key in obj if key not in ALLOWED_FIELDS]
    if unknown:
        raise UnknownField(
            f"Unknown field(s) {quote(unknown)}; the accepted fields are 'text' (a string) "
            "or 'texts' (a list of strings)."
        )
    if "text" in obj and "texts" in obj:
        raise InvalidFieldType("Send either 'text' (one string) or 'texts' (a list), not both.")
    if "text" in obj:
        return Request(texts=(_valid_text(obj["text"], "text"),), batch=False)
    if "texts" in obj:
        return Request(texts=_valid_texts(obj["texts"]), batch=True)
    raise MissingText(f"No text to classify; send {EXAMPLE}.")


def _valid_texts(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise InvalidFieldType(f"'texts' is a JSON {_json_type(value)}; it must be a list of strings.")
    if not value:
        raise MissingText("'texts' is an empty list; send at least one string.")
    limit = max_texts()
    if len(value) > limit:
        raise TooManyTexts(
            f"'texts' holds {len(value)} texts; send at most {limit} per call (split the batch)."
        )
    return tuple(_valid_text(item, f"texts[{index}]") for index, item in enumerate(value))


def _valid_text(value: object, where: str) -> str:
    """The text, normalised, once it is a non-empty string within the length limit before and after NFKC."""
    if not isinstance(value, str):
        raise InvalidFieldType(f"'{where}' is a JSON {_json_type(value)}; it must be a string.")
    if not value.strip():
        raise EmptyText(f"'{where}' is empty; send the text to classify.")
    limit = max_text_chars()
    if len(value) > limit:
        raise TextTooLong(f"'{where}' has {len(value)} characters; send at most {limit} (trim or split it).")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidUtf8(
            f"'{where}' holds a lone surrogate at index {exc.start} that is not valid Unicode; "
            "send valid UTF-8 text."
        ) from exc
    try:
        text = normalise(value, max_chars=limit)
    except ExpandedTooLong as exc:
        raise TextTooLong(
            f"'{where}' has {exc.length} characters after Unicode normalisation (NFKC spells out ligatures "
            f"and compatibility characters such as 'ﬃ'); send at most {limit} (trim or split it)."
        ) from None
    if not text:
        raise EmptyText(
            f"'{where}' holds no visible text (only whitespace, control or zero-width characters); "
            "send the text to classify."
        )
    return text


def quote(values: Sequence[object]) -> str:
    """A few of `values` as short reprs, for a message that must not echo a huge request back."""
    pieces = []
    for value in values[:QUOTED_ITEMS]:
        # str() of a huge int raises (over 4300 digits) and says nothing useful anyway
        text = value if isinstance(value, str) else f"<{_json_type(value)}>"
        cut = len(text) > QUOTED_CHARS
        pieces.append(f"{text[:QUOTED_CHARS]!r}... ({len(text)} characters)" if cut else repr(text))
    more = len(values) - QUOTED_ITEMS
    return ", ".join(pieces) + (f" and {more} more" if more > 0 else "")


def _loads(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # ValueError also covers integers of over 4300 digits
        raise InvalidJson(f"{what.capitalize()} is not valid JSON; send {EXAMPLE}.") from exc


def _encoded_size(event: dict[str, Any]) -> int:
    try:
        return len(json.dumps(event, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    except (TypeError, ValueError, RecursionError):
        return 0


def _check_size(size: int) -> None:
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(
            f"The payload is {size} bytes; Lambda accepts at most {MAX_PAYLOAD_BYTES} bytes (6 MB) for a "
            "synchronous call. Send fewer or shorter texts per call."
        )


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
