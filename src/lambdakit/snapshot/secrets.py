"""Credentials recognised by where they lie, by being a link to one, or by their content.

A file named `weights.bin` may be a copy of (or a hard link to) a Hub token; a JSON config may carry a
registry password, or the value of the caller's `$AWS_SECRET_ACCESS_KEY`. Every shipped file is read once,
in chunks, for its sha256, for the token shapes below and for the caller's credential values
(`credentials.known_values`), each plain or in the usual encodings: base64 (standard and URL-safe, at any
alignment), hex (either case), percent- or JSON-escaped, UTF-16 (LE or BE), and inside a gzip stream or a
zip member (bounded: at most `MAX_INFLATED` bytes inflated per file: a zip bomb costs 2 s of CPU).

One pass per chunk, cheap on model weights: `bytes.translate` marks printable bytes and NULs, and the rest of
the work happens only inside runs of at least 16 printable characters (plain and encoded text: a few per 100
MB of random weights) or of 16 ASCII characters in UTF-16 (printable, NUL, printable, ...). Inside a run:
`bytes.find` for every precomputed encoded form of every value (the needles), the token patterns on runs of
token characters, and those runs decoded from base64 and hex for the token shapes in those encodings.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import lzma
import re
import stat
import urllib.parse
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambdakit.snapshot import caches
from lambdakit.snapshot.credentials import Credential

CHUNK = 1 << 20
OVERLAP = 4096  # longer than any pattern or needle below: a credential across two chunks is still seen whole
TOKEN_CHARACTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
RUN_TABLE = bytes(0x61 if byte in TOKEN_CHARACTERS else 0 for byte in range(256))
MIN_RUN = 20  # the shortest credential below: an AWS access key id (AKIA + 16)
RUN = b"a" * MIN_RUN
# Base64 (both alphabets) holds the token characters and `+/`: the runs decoded for shapes in base64 or hex.
ENCODED_TABLE = bytes(0x61 if byte in TOKEN_CHARACTERS + b"+/" else 0 for byte in range(256))
MIN_ENCODED = 24  # the base64 of the shortest shape (20 bytes) is 27 characters, 3 of them alignment
HEX_RUN = re.compile(rb"[0-9A-Fa-f]{40,}")
TO_STANDARD = bytes.maketrans(b"-_", b"+/")
TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
# The window's mask: printable ASCII and whitespace -> `a`, NUL -> `z`, anything else -> 1.
PRINTABLE, NUL, OTHER = 0x61, 0x7A, 0x01
MASK = bytes(
    PRINTABLE if 0x20 <= byte < 0x7F or byte in b"\t\n\r" else NUL if byte == 0 else OTHER
    for byte in range(256)
)
DENSE_RUNS = 16  # runs in a window after which its rest is searched whole
MIN_TEXT = 16  # = credentials.MIN_VALUE: no needle is shorter, no shape either
TEXT = b"a" * MIN_TEXT
WIDE = b"az" * MIN_TEXT  # 16 ASCII characters in UTF-16 (LE, or BE one byte later)
WIDE_RUN = re.compile(rb"(?:az)+")
VALUE_PREFIX = 256  # longer values (an AWS session token: ~1 KB) are found by their first 256 bytes
MAX_INFLATED = 256 << 20  # per file, all its gzip streams and zip members together
MAX_ZIP_DIRECTORY = 4 << 20  # a larger central directory (~50,000 members) is not opened
# A damaged or unsupported archive (compression method, encryption) is scanned as far as it inflates.
BROKEN = (
    zlib.error,
    lzma.LZMAError,
    zipfile.BadZipFile,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)
GZIP_MAGIC = b"\x1f\x8b\x08"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


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
    """What a file holds, and where (for the message: one look at that offset confirms it). `where` names
    the inflated stream the offset counts in (`of its gzip stream`), empty for the file's own bytes."""

    kind: str
    offset: int
    where: str = ""


@dataclass(frozen=True)
class Needles:
    """Every encoded form of every credential value, with what to call it (by name, never by value)."""

    text: tuple[tuple[bytes, str], ...] = field(default=(), repr=False)  # printable: found inside runs
    other: tuple[tuple[bytes, str], ...] = field(default=(), repr=False)  # found in the whole window


NO_VALUES = Needles()


def needles(known: Iterable[Credential]) -> Needles:
    """The needles of KNOWN credentials: their values plain and in every encoding the scan knows."""
    text: dict[bytes, str] = {}
    other: dict[bytes, str] = {}
    for credential in known:
        value = credential.value.strip().encode("utf-8")[:VALUE_PREFIX]
        for needle, how in encoded_forms(value):
            label = f"the value of {credential.name}" + (f" ({how})" if how else "")
            printable = needle.translate(MASK).strip(b"a") == b""
            (text if printable else other).setdefault(needle, label)
    return Needles(tuple(text.items()), tuple(other.items()))


def redactor(known: Iterable[Credential]) -> Callable[[str], str]:
    """A function that replaces every printable form of KNOWN values in a line by the credential's name:
    what the command prints goes to snapshot.log and into error messages, never a value."""
    forms: dict[str, str] = {}
    for needle, label in needles(known).text:
        forms.setdefault(needle.decode("ascii"), "[" + label.removeprefix("the value of ") + "]")
    ordered = sorted(forms.items(), key=lambda item: -len(item[0]))  # the longest form of a value first

    def redact(line: str) -> str:
        for form, name in ordered:
            if form in line:
                line = line.replace(form, name)
        return line

    return redact


def encoded_forms(value: bytes) -> Iterator[tuple[bytes, str]]:
    """VALUE plain, hex, base64 at its three alignments (only the characters that do not depend on the
    bytes around it), percent- and JSON-escaped. UTF-16 is decoded by the scan, not encoded here."""
    yield value, ""
    yield value.hex().encode(), "hex-encoded"
    yield value.hex().upper().encode(), "hex-encoded"
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + value)
        stable = encoded[(0, 2, 3)[pad] : (pad + len(value)) * 8 // 6]
        yield stable, "base64-encoded"
        yield stable.translate(TO_URLSAFE), "base64-encoded"
    quoted = urllib.parse.quote_from_bytes(value, safe="").encode()
    if quoted != value:
        yield quoted, "percent-encoded"
    if b"/" in value:
        yield value.replace(b"/", b"\\/"), "JSON-escaped"


def digest_and_scan(path: Path, values: Needles = NO_VALUES) -> tuple[str, Finding | None]:
    """The file's sha256, and the first credential found in it (None when there is none): in its bytes,
    then in what its gzip stream or zip members inflate to."""
    digest = hashlib.sha256()
    scanner = _Scanner(values)
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(CHUNK), b""):
            digest.update(block)
            scanner.feed(block)
    return digest.hexdigest(), scanner.finding or inflated(path, scanner.head, values)


class _Scanner:
    """Scans a stream block by block, each window overlapping the previous one by OVERLAP bytes."""

    def __init__(self, values: Needles) -> None:
        self.values = values
        self.finding: Finding | None = None
        self.head = b""
        self.window = b""  # kept until the next one is made: freeing ~1 MB per block costs page faults
        self.start = 0  # of the block after the window

    def feed(self, block: bytes) -> None:
        if not self.start:
            self.head = block[:8]
        if self.finding is None:
            tail = self.window[-OVERLAP:]
            self.window = tail + block
            found = scan(self.window, self.values)
            if found:
                self.finding = Finding(found.kind, self.start - len(tail) + found.offset)
        self.start += len(block)


def scan(data: bytes, values: Needles = NO_VALUES) -> Finding | None:
    """The first credential in DATA, if any: a known shape, or a value of VALUES, plain or encoded. Every
    shape and needle is printable text of 16 characters or more: only such runs are looked at."""
    mask = data.translate(MASK)
    at, runs = mask.find(TEXT), 0
    while at != -1:
        runs += 1
        # Text, or a binary full of strings: the rest of the window at once costs less than run by run
        # (nothing printable straddles a non-printable byte, so the answer is the same)
        end = len(data) if runs > DENSE_RUNS else _text_end(mask, at)
        if found := _text(data[at:end], values):
            return Finding(found.kind, at + found.offset)
        at = mask.find(TEXT, end)
    # (text holds no NUL: there the search for UTF-16 would crawl through a mask of `a`s byte by byte)
    at = mask.find(WIDE) if b"z" in mask else -1
    while at != -1:
        end = _wide_end(mask, at)
        # one character more: in UTF-16 BE the last character follows its NUL, past the run of pairs
        if found := _text(data[at : end + 1 : 2], values):
            return Finding(f"{found.kind} in UTF-16", at + 2 * found.offset)
        at = mask.find(WIDE, end)
    for needle, label in values.other:
        if (at := data.find(needle)) != -1:
            return Finding(label, at)
    return None


def _text_end(mask: bytes, at: int) -> int:
    """Where the run of printable bytes at AT ends (two memchr; a regex walks it byte by byte)."""
    end = mask.find(b"\x01", at)
    end = len(mask) if end == -1 else end
    nul = mask.find(b"z", at, end)  # within the run only: text has no NUL, and looking costs its length
    return end if nul == -1 else nul


def _wide_end(mask: bytes, at: int) -> int:
    match = WIDE_RUN.match(mask, at)
    return match.end() if match else at + 1


def _text(run: bytes, values: Needles) -> Finding | None:
    """A value (any encoded form) or a shape (plain, base64, hex) in a run of text."""
    for needle, label in values.text:
        if (at := run.find(needle)) != -1:
            return Finding(label, at)
    if found := _anchored(run):
        return found
    marks = run.translate(ENCODED_TABLE)
    at = marks.find(RUN)
    while at != -1:
        end = marks.find(b"\0", at)
        end = len(run) if end == -1 else end
        match = TOKEN.search(run, at, end)
        if match and match.lastgroup:
            return Finding(TOKENS[match.lastgroup][0], match.start())
        if end - at >= MIN_ENCODED and (found := _decoded(run[at:end])):
            return Finding(found.kind, at + found.offset)
        at = marks.find(RUN, end)
    return None


def _decoded(run: bytes) -> Finding | None:
    """A shape in RUN read as base64 (either alphabet, any alignment) or as hex."""
    for match in HEX_RUN.finditer(run):
        for skip in (0, 1):
            digits = match.group()[skip:]
            if found := _shapes(bytes.fromhex(digits[: len(digits) // 2 * 2].decode())):
                return Finding(f"{found.kind}, hex-encoded", match.start())
    standard = run.translate(TO_STANDARD)
    for skip in range(4):
        part = standard[skip:]
        part = part[: len(part) - (len(part) % 4 == 1)]  # one character alone decodes to no byte
        if found := _shapes(base64.b64decode(part + b"=" * (-len(part) % 4))):
            return Finding(f"{found.kind}, base64-encoded", 0)
    return None


def _shapes(data: bytes) -> Finding | None:
    """A known token shape in DATA (decoded bytes: no further decoding)."""
    if found := _anchored(data):
        return found
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


def _anchored(data: bytes) -> Finding | None:
    for kind, literal, pattern in ANCHORED:
        at = data.find(literal)
        while at != -1:
            match = pattern.search(data, max(0, at - 64), at + len(literal) + 4096)
            if match:
                return Finding(kind, match.start())
            at = data.find(literal, at + 1)
    return None


# ---------------------------------------------------------------------------------------------- inflated


def inflated(path: Path, head: bytes, values: Needles) -> Finding | None:
    """A credential in what the file's gzip stream or its zip members inflate to (at most MAX_INFLATED
    bytes in all; a corrupt stream is scanned as far as it inflates)."""
    budget = [MAX_INFLATED]
    if head.startswith(GZIP_MAGIC):
        with path.open("rb") as stream:
            found = _scan_blocks(_gunzip(_blocks(stream), budget), values)
        return replace_where(found, " of its gzip stream")
    if not head.startswith(ZIP_MAGIC) or not _small_zip_directory(path):
        return None
    with contextlib.suppress(*BROKEN), zipfile.ZipFile(path) as zf:
        for index, info in enumerate(zf.infolist(), 1):
            if info.is_dir() or info.flag_bits & 0x1 or budget[0] <= 0:  # encrypted: nothing to read
                continue
            with zf.open(info) as member:
                blocks = _budgeted(_blocks(member), budget)
                if info.compress_type == zipfile.ZIP_STORED:  # its bytes were scanned as the file's
                    blocks = _only_gzip(blocks, budget)
                found = _scan_blocks(_gunzip_if_gzip(blocks, budget), values)
            if found:
                return replace_where(found, f" of its zip member {index}")
    return None


def replace_where(found: Finding | None, where: str) -> Finding | None:
    return Finding(found.kind, found.offset, where) if found else None


def _scan_blocks(blocks: Iterable[bytes], values: Needles) -> Finding | None:
    scanner = _Scanner(values)
    with contextlib.suppress(*BROKEN):
        for block in blocks:
            scanner.feed(block)
            if scanner.finding:
                break
    return scanner.finding


def _blocks(stream: Any) -> Iterator[bytes]:
    yield from iter(lambda: stream.read(CHUNK), b"")


def _budgeted(blocks: Iterable[bytes], budget: list[int]) -> Iterator[bytes]:
    for block in blocks:
        if budget[0] <= 0:
            return
        budget[0] -= len(block)
        yield block


def _peek(blocks: Iterable[bytes]) -> tuple[bytes, Iterator[bytes]]:
    iterator = iter(blocks)
    first = next(iterator, b"")

    def chained() -> Iterator[bytes]:
        if first:
            yield first
        yield from iterator

    return first, chained()


def _only_gzip(blocks: Iterable[bytes], budget: list[int]) -> Iterator[bytes]:
    first, chained = _peek(blocks)
    return _gunzip(chained, budget) if first.startswith(GZIP_MAGIC) else iter(())


def _gunzip_if_gzip(blocks: Iterable[bytes], budget: list[int]) -> Iterator[bytes]:
    first, chained = _peek(blocks)
    return _gunzip(chained, budget) if first.startswith(GZIP_MAGIC) else chained


def _gunzip(blocks: Iterable[bytes], budget: list[int]) -> Iterator[bytes]:
    """Inflate gzip members one after the other, never more than the budget left (nor CHUNK at a time)."""
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    for block in blocks:
        data = block
        while data:
            if budget[0] <= 0:
                return
            out = inflater.decompress(data, min(CHUNK, budget[0]))
            budget[0] -= len(out)
            if out:
                yield out
            if inflater.eof:
                data = inflater.unused_data
                if not data.startswith(GZIP_MAGIC[:2]):
                    return  # trailing bytes that are not another member
                inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
            else:
                data = inflater.unconsumed_tail


def _small_zip_directory(path: Path) -> bool:
    """Whether the zip's central directory is small enough to read (zipfile holds it all in memory)."""
    with path.open("rb") as stream:
        size = stream.seek(0, 2)
        stream.seek(max(0, size - (1 << 16) - 22))
        tail = stream.read()
    at = tail.rfind(b"PK\x05\x06")
    if at == -1 or len(tail) < at + 22:
        return False
    directory = int.from_bytes(tail[at + 12 : at + 16], "little")
    return directory <= MAX_ZIP_DIRECTORY


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
