"""Typed errors of the function. Each carries the `type` a client sees and an HTTP-style status."""

from __future__ import annotations


class InferenceError(Exception):
    """Base of every error the handler turns into a structured error response."""

    error_type = "InferenceError"
    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"type": self.error_type, "message": self.message}


class InvalidJson(InferenceError):
    """The payload or body is not valid JSON."""

    error_type = "InvalidJson"


class InvalidEventType(InferenceError):
    """The event's top-level value is neither an object nor a JSON string of one."""

    error_type = "InvalidEventType"


class MissingText(InferenceError):
    """Neither `text` nor `texts` was sent."""

    error_type = "MissingText"


class EmptyText(InferenceError):
    """A text is empty or only whitespace."""

    error_type = "EmptyText"


class InvalidFieldType(InferenceError):
    """A field has the wrong JSON type."""

    error_type = "InvalidFieldType"


class UnknownField(InferenceError):
    """The request carries a field the function does not understand (caught so typos are not ignored)."""

    error_type = "UnknownField"


class TooManyTexts(InferenceError):
    """A batch holds more texts than the function accepts in one call."""

    error_type = "TooManyTexts"


class TextTooLong(InferenceError):
    """A text exceeds the maximum length in characters."""

    error_type = "TextTooLong"


class PayloadTooLarge(InferenceError):
    """The payload exceeds Lambda's 6 MB limit for synchronous invocation."""

    error_type = "PayloadTooLarge"
    status_code = 413


class InvalidBase64(InferenceError):
    """An `isBase64Encoded` body is not valid base64."""

    error_type = "InvalidBase64"


class InvalidUtf8(InferenceError):
    """A decoded body is not valid UTF-8."""

    error_type = "InvalidUtf8"


class InvalidSetting(Exception):
    """An INFERENCE_* environment variable has a value the function cannot use."""


class ModelAssetMissing(Exception):
    """A file the pipeline needs is not in the cache root; the message names the file, variable and fix."""


class ModelIntegrityError(Exception):
    """A model file's digest is not the one its manifest records; the message names the file and the fix."""
