"""Credentials recognised by where they lie, by being a link to one, or by their content.

A file named `weights.bin` may be a copy of (or a hard link to) a Hub token; a JSON config may carry a
registry password. Every shipped file is read once, in chunks, for its sha256 and for the shapes below.
Model weights are mostly random bytes, so the scan first looks for long runs of token characters
(`[A-Za-z0-9_-]`, found with `bytes.translate`, fast on binaries) and only matches the token patterns on
those runs; the few patterns that hold other characters are anchored on a literal first.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from lambdakit.snapshot import caches

CHUNK = 1 << 20
OVERLAP = 4096  # longer than any pattern below: a credential across two chunks is still seen whole
TOKEN_CHARACTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
RUN_TABLE = bytes(0x61 if byte in TOKEN_CHARACTERS else 0 for byte in range(256))
MIN_RUN = 20  # the shortest credential below: an AWS access key id (AKIA + 16)
RUN = b"a" * MIN_RUN


# Shapes documented by their issuers, each with what it is for the message. A token may follow other
# bytes directly (a credential pasted into a binary), so only short or ambiguous prefixes need a boundary.
TOKENS: dict[str, tuple[str, str]] = {
    "hf": ("a Hugging Face token (hf_...)", r"hf_[A-Za-z0-9]{34}(?![A-Za-z0-9])"),
    "aws": ("an AWS access key id (AKIA.../ASIA...)", r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"),
    "github": ("a GitHub token", r"gh[pousr]_[A-Za-z0-9]{36}(?![A-Za-z0-9])|github_pat_[A-Za-z0-9_]{82}"),
    "gitlab": ("a GitLab token (glpat-...)", r"glpat-[A-Za-z0-9_-]{20}"),
    "slack": ("a Slack token (xox.-...)", r"xox[abposr]-[A-Za-z0-9-]{10,}"),
    "google": ("a Google API key (AIza...)", r"AIza[0-9A-Za-z_-]{35}"),
    "npm": ("an npm token (npm_...)", r"npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])"),
    "pypi": ("a PyPI token (pypi-...)", r"pypi-AgE[A-Za-z0-9_-]{50,}"),
    "sk": ("an OpenAI or Anthropic key (sk-...)", r"(?<![A-Za-z0-9])sk-(?:proj-|ant-)?[A-Za-z0-9_-]{40,}"),
}
TOKEN = re.compile("|".join(f"(?P<{key}>{pattern})" for key, (_, pattern) in TOKENS.items()).encode())
# Patterns with spaces or quotes: found by a literal first, then matched where it was found.
ANCHORED: tuple[tuple[str, bytes, re.Pattern[bytes]], ...] = (
    (
        "a private key (-----BEGIN ... PRIVATE KEY-----)",
        b"PRIVATE KEY-----",
        re.compile(rb"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----"),
    ),
    (
        "a Google OAuth access token (ya29....)",
        b"ya29.",
        re.compile(rb"ya29\.[0-9A-Za-z_-]{20,}"),
    ),
    (
        "a registry password (a docker config's auths)",
        b'"auths"',
        re.compile(rb'"auths"\s*:\s*\{.{0,4096}?"(?:auth|identitytoken)"\s*:\s*"[^"]{8,}"', re.DOTALL),
    ),
)


@dataclass(frozen=True)
class Finding:
    """What a file holds, and where (for the message: one look at that offset confirms it)."""

    kind: str
    offset: int


def digest_and_scan(path: Path) -> tuple[str, Finding | None]:
    """The file's sha256, and the first credential found in it (None when there is none)."""
    digest = hashlib.sha256()
    finding = None
    tail, start = b"", 0  # `tail` holds the last OVERLAP bytes before `start`
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(CHUNK), b""):
            digest.update(block)
            if finding is None:
                window = tail + block
                found = scan(window)
                finding = Finding(found.kind, start - len(tail) + found.offset) if found else None
                tail = window[-OVERLAP:]
            start += len(block)
    return digest.hexdigest(), finding


def scan(data: bytes) -> Finding | None:
    """The first credential in DATA, if any."""
    for kind, literal, pattern in ANCHORED:
        at = data.find(literal)
        while at != -1:
            match = pattern.search(data, max(0, at - 64), at + len(literal) + 4096)
            if match:
                return Finding(kind, match.start())
            at = data.find(literal, at + 1)
    runs = data.translate(RUN_TABLE)
    at = runs.find(RUN)
    while at != -1:
        end = runs.find(b"\0", at)
        end = len(data) if end == -1 else end
        match = TOKEN.search(data, at, end)
        if match and match.lastgroup:
            return Finding(TOKENS[match.lastgroup][0], match.start())
        at = runs.find(RUN, end)
    return None


Inode = tuple[int, int]


def inodes_of(paths: Iterable[tuple[Path, str]]) -> dict[Inode, str]:
    """(device, inode) -> display path of each credential file given (path, display) pairs."""
    found = {}
    for path, display in paths:
        with contextlib.suppress(OSError):
            info = path.lstat()
            if stat.S_ISREG(info.st_mode):
                found[(info.st_dev, info.st_ino)] = display
    return found


def by_location(root: Path, rel: str, credentials: Mapping[Inode, str]) -> str | None:
    """Why ROOT/REL is a credential by where it lies, or by being a link to one (hard or symbolic): the
    bytes are the same file whatever the name, so a hard link to the Hub token named weights.bin is one."""
    if caches.is_secret(rel):
        return "a known credential location"
    path = root / rel
    try:
        info = path.stat()  # follows a symlink: what it reaches is what would be read
    except OSError:
        return None
    other = credentials.get((info.st_dev, info.st_ino))
    if other is None:
        return None
    return f"{'a symlink' if path.is_symlink() else 'a hard link'} to {other}"
