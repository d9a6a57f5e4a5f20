"""What a failed or refused download looks like in a pipeline's output, per library, and its root cause.

Libraries report a refused download in their own words, and some do not raise at all: `nltk.download()`
prints `[nltk_data] Error loading X: ...` and returns False, so a function whose data is shipped still
answers, while trying the network at every cold start. The snapshot's one-line errors, its verify and the
faithful run read the output with these patterns (each library's entry in `lambdakit.core.libraries`), so
the advice names the library and the real cause (`127.0.0.1:8765 refused the connection`, `HTTP 404 for
URL`) instead of the last line of a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from lambdakit.core import libraries as libs


@dataclass(frozen=True)
class Refusal:
    """A library's download that did not happen: which library, what it tried, and the fix."""

    library: str
    detail: str
    fix: str


@dataclass(frozen=True)
class Pattern:
    library: str
    regex: re.Pattern[str]
    fix: str


def _patterns(libraries: Iterable[libs.Library] = libs.LIBRARIES) -> tuple[Pattern, ...]:
    """Each library's refusal patterns, from the library registry (`lambdakit.core.libraries`)."""
    return tuple(
        Pattern(refusal.label or library.name, re.compile(refusal.regex), refusal.fix)
        for library in libraries
        for refusal in library.refusals
    )


REFUSALS: tuple[Pattern, ...] = _patterns()

HTTP_STATUS = re.compile(
    r"(?:(\d{3}) (?:Client|Server) Error[^\n]*?for url: (\S+)|HTTP Error (\d{3}):?[^\n]*|"
    r"status(?: code)?[ =:]+(\d{3})\b[^\n]*)"
)
CAUSES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Connection refused|\[Errno 111\]|ECONNREFUSED"), "refused the connection"),
    (
        re.compile(
            r"Name or service not known|Temporary failure in name resolution|nodename nor servname|"
            r"No address associated with hostname|no validated address for host|getaddrinfo failed"
        ),
        "did not resolve (no DNS)",
    ),
    (re.compile(r"Network is unreachable|No route to host|\[Errno 101\]|\[Errno 113\]"), "is unreachable"),
    (re.compile(r"timed out|ReadTimeout|ConnectTimeout|\[Errno 110\]"), "timed out"),
)


def find(lines: Iterable[str]) -> list[Refusal]:
    """Every refused download the output shows, once per library and detail, in order."""
    found: dict[tuple[str, str], Refusal] = {}
    for line in lines:
        named: set[str] = set()  # one refusal per library and line: its first pattern says the most
        for pattern in REFUSALS:
            match = pattern.regex.search(line) if pattern.library not in named else None
            if match:
                named.add(pattern.library)
                detail = " ".join(g for g in match.groups() if g).strip()
                found.setdefault((pattern.library, detail), Refusal(pattern.library, detail, pattern.fix))
    return list(found.values())


def root_cause(lines: Sequence[str], network: Sequence[Mapping[str, object]] = ()) -> str | None:
    """One phrase for why a download failed: the target (from the audit) and what happened to it."""
    text = "\n".join(lines)
    targets = _targets(network)
    status = HTTP_STATUS.search(text)
    if status:
        code = next(g for g in (status.group(1), status.group(3), status.group(4)) if g)
        url = status.group(2)
        return f"HTTP {code}" + (f" for {url}" if url else f" from {targets}" if targets else "")
    for regex, what in CAUSES:
        if regex.search(text):
            return f"{targets or 'the server'} {what}"
    refusals = find(lines)
    if refusals:
        return f"{refusals[0].library}: {refusals[0].detail}"
    return None


def _targets(network: Sequence[Mapping[str, object]]) -> str:
    """`host:port (library)` of the connections the audit saw, the last first (the one that failed)."""
    seen: dict[str, None] = {}
    for entry in reversed(network):
        if entry.get("kind") != "connect":
            continue
        port = entry.get("port")
        target = f"{entry['host']}:{port}" if port is not None else str(entry["host"])
        seen[f"{target} ({entry['library']})"] = None
    return ", ".join(list(seen)[:2])
