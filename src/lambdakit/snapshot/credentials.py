"""The values of the caller's credentials, so that the snapshot refuses a file holding one by its value.

A command run in the sandbox keeps the caller's environment (HF_TOKEN, AWS keys, the pipeline's own
variables), and it may read the caller's credential files: a value it writes into `config.json` has no
recognisable shape. The values come from

* the environment: the AWS and Hugging Face names, and any `*_TOKEN`, `*_SECRET`, `*_PASSWORD`, `*_KEY`;
* the caller's credential files (`caches.CREDENTIAL_FILES`: `~/.aws/credentials` and `config` with every
  profile, the Hub token, `~/.netrc`, `~/.git-credentials`, docker and kaggle configs, ...), and the
  credential files the command itself left in the sandbox.

A value counts when it is at least `MIN_VALUE` characters long and not plainly something else (see
`plausible`). Values live only in memory: the scan reports a credential by its NAME, never by its value.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import itertools
import json
import os
import re
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambdakit.snapshot import caches

# Shorter values are left out. Every credential format the kit knows is longer (an AWS access key id: 20,
# a Hub token: 37, an AWS secret key and GitHub tokens: 40), while 8-15 characters are often ordinary words
# or settings (`*_KEY=us-east-1`, a short password that is also a word in a vocabulary file), and the scan
# looks for values only inside runs of at least 16 printable bytes: in model weights such a run occurs a few
# times per 100 MB, a run of 8 every few KB (the cost would be per run).
MIN_VALUE = 16
MIN_DISTINCT = 6  # `****************`, `xxxxxxxx...`: placeholders, not credentials
MAX_FILE_BYTES = 1 << 20  # credential files are small; anything larger is not one
NAMED = frozenset(
    {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
    }
)
SECRET_NAME = re.compile(r"(?:^|_)(?:TOKEN|SECRET|PASSWORD|PASSWD|KEY|APIKEY)$")
# Names the pattern matches that hold no credential: the official python images' release-signing key
# fingerprint (a public value that the image and its own files print).
NOT_SECRETS = frozenset({"GPG_KEY"})
# In key-value files (INI, .npmrc, YAML, JSON): keys whose value is a credential.
SECRET_KEY = re.compile(
    r"secret|token|password|passwd|_auth$|^auth$|authtoken|access_key|api_?key|private_key|^key$",
    re.IGNORECASE,
)
LINE = re.compile(r"^\s*([^\s=:#;\[][^=:]*?)\s*[=:]\s*(.*?)\s*$")
SECTION = re.compile(r"^\s*\[([^\]]*)\]")
# A key as shown in messages: short words. Anything else (a key that is itself a token?) is shown as
# `a credential`: a message must never carry what may be a credential.
SAFE_LABEL = re.compile(r"(?![^\n]*[A-Za-z0-9]{16})[A-Za-z0-9_.@/ \[\]-]{1,80}")


@dataclass(frozen=True)
class Credential:
    """A credential's name for messages (never its value), and its value (kept out of every repr)."""

    name: str
    value: str = field(repr=False)


def known_values(
    env: Mapping[str, str],
    home: Path | None = None,
    sandbox_files: Iterable[tuple[Path, str]] = (),
) -> tuple[Credential, ...]:
    """Every credential value of ENV, of the credential files under HOME (default: ENV's HOME) and of
    SANDBOX_FILES ((path, display) of credential files the command left), each value once."""
    home = home if home is not None else Path(env.get("HOME") or Path.home())
    found = list(from_environment(env))
    for path, display, fmt in host_files(env, home):
        found += from_file(path, display, fmt)
    for path, display in sandbox_files:
        found += from_file(path, display, format_of(path))
    unique: dict[str, Credential] = {}
    for credential in found:
        unique.setdefault(credential.value, credential)
    return tuple(unique.values())


def from_environment(env: Mapping[str, str]) -> Iterator[Credential]:
    for name, value in sorted(env.items()):
        upper = name.upper()
        if upper in NAMED:
            if plausible(value):
                yield Credential(f"${name}", value)
        elif (
            upper not in NOT_SECRETS and SECRET_NAME.search(upper) and plausible(value) and not _a_path(value)
        ):
            yield Credential(f"${name}", value)


def plausible(value: str) -> bool:
    """Long enough and varied enough to be a credential."""
    value = value.strip()
    return len(value) >= MIN_VALUE and len(set(value)) >= MIN_DISTINCT


def _a_path(value: str) -> bool:
    """`SSH_KEY=/home/me/.ssh/id_rsa` names a credential file: it is not one (that file is found by
    location)."""
    if not value.startswith(("/", "~", "./")):
        return False
    try:
        return os.path.lexists(Path(value).expanduser())
    except RuntimeError:  # `~user` of no such user
        return False


def host_files(env: Mapping[str, str], home: Path) -> list[tuple[Path, str, caches.CredentialFormat]]:
    """The caller's credential files (path, display, format), per `caches.CREDENTIAL_FILES` and their
    variables."""
    files = []
    for default, file_var, dir_var, fmt in caches.CREDENTIAL_FILES:
        path = home / default
        if file_var and env.get(file_var):
            path = Path(env[file_var]).expanduser()
        elif dir_var and env.get(dir_var):
            path = Path(env[dir_var]).expanduser() / Path(default).name
        files.append((path, _display(path, home), fmt))
    return list(dict.fromkeys(files))


def _display(path: Path, home: Path) -> str:
    with contextlib.suppress(ValueError):
        return f"~/{path.relative_to(home).as_posix()}"
    return str(path)


def format_of(path: Path) -> caches.CredentialFormat:
    """How to read a credential file the command left, by its name (the table's, or a guess)."""
    for default, _, _, fmt in caches.CREDENTIAL_FILES:
        if path.name == Path(default).name:
            return fmt
    if path.suffix == ".json":
        return "json"
    if path.name in {"token", "access_token"} or path.suffix in {".pem", ".key"}:
        return "whole"
    return "keys"


def from_file(path: Path, display: str, fmt: caches.CredentialFormat) -> list[Credential]:
    """The credentials in one file (none when it is missing, unreadable, too large or not text)."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            return []
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return from_file_text(text, fmt, display)


def from_file_text(text: str, fmt: caches.CredentialFormat, display: str) -> list[Credential]:
    reader = {
        "keys": _keys,
        "whole": _whole,
        "netrc": _netrc,
        "urls": _urls,
        "json": _json,
        "pgpass": _pgpass,
    }[fmt]
    return [
        Credential(f"{what if SAFE_LABEL.fullmatch(what) else 'a credential'} in {display}", value.strip())
        for what, value in reader(text)
        if plausible(value)
    ]


def _whole(text: str) -> Iterator[tuple[str, str]]:
    yield "the token", text.strip()


def _keys(text: str) -> Iterator[tuple[str, str]]:
    """`key = value` / `key: value` lines (INI with profiles, .npmrc, YAML); URLs with a password too."""
    section = ""
    for line in text.splitlines():
        if header := SECTION.match(line):
            section = f" [{header.group(1).strip()}]"
            continue
        match = LINE.match(line)
        if not match:
            continue
        key, value = match.group(1), match.group(2).strip().strip("'\"")
        if SECRET_KEY.search(key.rsplit(":", 1)[-1]):
            yield f"{key.strip()}{section}", value
        if password := _url_password(value):
            yield f"the password in {key.strip()}{section}", password


def _netrc(text: str) -> Iterator[tuple[str, str]]:
    words = text.split()
    for keyword, value in itertools.pairwise(words):
        if keyword in {"password", "account"}:
            yield keyword, value


def _urls(text: str) -> Iterator[tuple[str, str]]:
    for line in text.split():
        if password := _url_password(line):
            yield "a password", password


def _url_password(text: str) -> str | None:
    if "://" not in text or "@" not in text:
        return None
    with contextlib.suppress(ValueError):
        password = urllib.parse.urlsplit(text).password
        return urllib.parse.unquote(password) if password else None
    return None


def _pgpass(text: str) -> Iterator[tuple[str, str]]:
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            yield "a password", re.split(r"(?<!\\):", line)[-1]


def _json(text: str) -> Iterator[tuple[str, str]]:
    try:
        data = json.loads(text)
    except ValueError:
        yield from _keys(text)
        return
    yield from _json_values(data, "")


def _json_values(data: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(value, str) and SECRET_KEY.search(str(key)):
                yield where, value
                if key == "auth":  # docker: base64 of user:password
                    with contextlib.suppress(binascii.Error, ValueError):
                        password = base64.b64decode(value, validate=True).decode().partition(":")[2]
                        yield f"the password in {where}", password
            else:
                yield from _json_values(value, where)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _json_values(item, f"{path}[{index}]")
