"""Broken variants of the project's files, for the property tests of their readers (issue 22: every broken
file is one line naming it, never a traceback).

Two kinds: structured ones (a value of the wrong type at a key the kit reads, written back as TOML, JSON or
YAML) and byte-level ones (truncated text, other encodings, stray bytes, deep nesting, garbage).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from lambdakit.core.errors import KitError

Key = Sequence[str | int]


def examples(count: int) -> settings:
    """Hypothesis settings for these tests: COUNT examples (the whole set stays within seconds), no deadline
    (a loaded machine is slow), no example database, the same examples on every run (CI must not turn red on
    a new random draw: widen `count` locally to search), and `tmp_path` shared by the examples (each one
    rewrites the file)."""
    return settings(
        max_examples=count,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


SCALARS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(max_size=12),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)


def kind(value: Any) -> type:
    """The value's type, a boolean counted apart from the integers it subclasses."""
    return bool if isinstance(value, bool) else type(value)


def wrong(expected: type | tuple[type, ...]) -> st.SearchStrategy[Any]:
    """Values whose type is not EXPECTED."""
    kinds = expected if isinstance(expected, tuple) else (expected,)
    return VALUES.filter(lambda value: kind(value) not in kinds)


def with_value(document: dict[str, Any], key: Key, value: Any) -> Any:
    """DOCUMENT with VALUE at KEY (the whole document for an empty KEY)."""
    if not key:
        return value
    changed = copy.deepcopy(document)
    parent = changed
    for part in key[:-1]:
        parent = parent[part]
    parent[key[-1]] = value
    return changed


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON's escapes are TOML's (a lone surrogate makes the file invalid)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(document: Any) -> bytes:
    """DOCUMENT as TOML: one `key = value` line per top-level key, inline tables below."""
    return "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in document.items()).encode()


def json_document(document: Any) -> bytes:
    """DOCUMENT as JSON, which is also YAML 1.2 (what the template reader parses)."""
    return json.dumps(document).encode()


def broken_bytes(base: bytes, nest: Callable[[int], bytes]) -> st.SearchStrategy[bytes]:
    """BASE truncated, re-encoded, with stray bytes, deeply nested (NEST(depth)), or garbage."""
    text = base.decode("utf-8")
    return st.one_of(
        st.integers(0, len(base)).map(lambda n: base[:n]),
        st.sampled_from(["utf-16", "utf-32", "cp1252"]).map(
            lambda codec: (text + "\n# é ü\n").encode(codec, errors="replace")
        ),
        st.tuples(st.integers(0, len(base)), st.binary(min_size=1, max_size=4)).map(
            lambda cut: base[: cut[0]] + b"\xff" + cut[1] + base[cut[0] :]
        ),
        st.integers(50, 100_000).map(nest),
        st.binary(max_size=64),
    )


def one_line(load: Callable[[], object], name: str) -> KitError | None:
    """Call LOAD: it returns, or raises a `KitError` whose message is one line naming the file NAME. Any
    other exception escapes, and fails the test that called it."""
    try:
        load()
    except KitError as exc:
        message = str(exc)
        assert len(message.splitlines()) == 1, message
        assert name in message, message
        assert "Traceback" not in message
        return exc
    return None
