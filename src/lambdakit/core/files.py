"""The project's own files (pyproject.toml, Pipfile, Pipfile.lock, samconfig.toml, events) read as the kit
reads them: each problem is one `BrokenFile` line naming the file, the key and the fix, never a traceback.

Standard library only (the noxfile imports it through `core.config` and `core.lock`). The readers take the
fix as an argument, since only the caller knows the command that regenerates or explains its file.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lambdakit.core.errors import BrokenFile

SHOWN_MAX = 60  # characters of a wrong value quoted in a message: enough to recognise it, never a page

TYPE_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "a table",
    type(None): "nothing",
}


def display(path: Path) -> str:
    """PATH as the user typed it: relative to the current folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except (ValueError, OSError):
        return str(path)


def shown(value: Any) -> str:
    """`3 (an integer)`: a wrong value, short, and what kind of value it is."""
    kind = next((name for cls, name in TYPE_NAMES.items() if type(value) is cls), None)
    if kind is None:
        kind = next(
            (name for cls, name in TYPE_NAMES.items() if isinstance(value, cls)), type(value).__name__
        )
    try:
        text = repr(value)
    except RecursionError:  # a deeply nested list: its repr would recurse as deep
        text = "..."
    if len(text) > SHOWN_MAX:
        text = text[: SHOWN_MAX - 3] + "..."
    return f"{text} ({kind})"


def decode(raw: bytes, name: str, fix: str) -> str:
    """RAW as UTF-8 text; a one-line error pointing at the first bad byte otherwise."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BrokenFile(
            f"{name} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); {fix}"
        ) from None


def read_text(path: Path, fix: str) -> str:
    """The file's UTF-8 text; FileNotFoundError is left to the caller, whose fix for a missing file varies."""
    try:
        raw = path.read_bytes()
    except OSError as exc:  # a folder where the file should be, no permission
        if isinstance(exc, FileNotFoundError):
            raise
        raise BrokenFile(f"{display(path)} cannot be read ({exc.strerror or exc}); {fix}") from None
    return decode(raw, display(path), fix)


def parse_toml(text: str, name: str, fix: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BrokenFile(f"{name} is not valid TOML ({exc}); {fix}") from None
    except RecursionError:
        raise BrokenFile(f"{name} nests deeper than a TOML parser can read; {fix}") from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise BrokenFile(f"{name} cannot be read as TOML ({exc}); {fix}") from None


def load_toml(path: Path, fix: str) -> dict[str, Any]:
    return parse_toml(read_text(path, fix), display(path), fix)


def parse_json(text: str, name: str, fix: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.pos == 0 and text.startswith("\ufeff"):
            raise BrokenFile(
                f"{name} starts with a byte-order mark, which JSON parsers refuse; save it as UTF-8 without "
                f"a BOM; {fix}"
            ) from None
        what = "is empty" if not text.strip() else f"is not valid JSON ({exc.msg}: line {exc.lineno}, "
        what += "" if not text.strip() else f"column {exc.colno})"
        raise BrokenFile(f"{name} {what}; {fix}") from None
    except RecursionError:
        raise BrokenFile(
            f"{name} nests deeper than Python's JSON parser allows (about 1000 levels); {fix}"
        ) from None
    except ValueError as exc:  # an integer of more than 4300 digits
        raise BrokenFile(f"{name} cannot be read as JSON ({exc}); {fix}") from None


def load_json(path: Path, fix: str) -> Any:
    return parse_json(read_text(path, fix), display(path), fix)


def expect(value: Any, check: Callable[[Any], bool], expected: str, name: str, key: str, fix: str) -> Any:
    """VALUE when CHECK accepts it; else `NAME: KEY must be EXPECTED, not VALUE (its kind); FIX`."""
    if not check(value):
        raise BrokenFile(f"{name}: {key} must be {expected}, not {shown(value)}; {fix}")
    return value


def table(value: Any, name: str, key: str, fix: str) -> dict[str, Any]:
    """VALUE, which must be a table (a TOML table, a JSON object, a YAML mapping)."""
    return expect(value, lambda v: isinstance(v, dict), "a table", name, key, fix)  # type: ignore[no-any-return]


def string(value: Any, name: str, key: str, fix: str) -> str:
    return expect(value, lambda v: isinstance(v, str), "a string", name, key, fix)  # type: ignore[no-any-return]


def strings(value: Any, name: str, key: str, fix: str) -> list[str]:
    return expect(  # type: ignore[no-any-return]
        value,
        lambda v: isinstance(v, list) and all(isinstance(item, str) for item in v),
        "a list of strings",
        name,
        key,
        fix,
    )
