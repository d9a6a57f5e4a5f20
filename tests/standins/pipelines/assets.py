"""A test pipeline that leaves model files in the cache root, plants secrets, or lingers, on request.

    python assets.py STAGE [STAGE ...]

Stages, run in order:
  weights       write a model ($HF_HOME/exports/tiny/model.onnx, 256 KB) and its tokenizer.json, unless
                they are there already (so the verify's read-only rerun passes)
  load          read them back (the verify's offline run: fails when they are missing)
  token         leave a Hub token where `hf auth login` would ($HF_HOME/token)
  hardlink      a hard link to that token named like weights ($HF_HOME/exports/tiny/weights.bin)
  plant=KIND    a copy of a credential, by content, in a file named like weights (see PLANTS)
  config=PATH   a credential file at PATH below the cache root (e.g. config=gcloud/credentials.db)
  copy=VAR:ENCODING:PATH   the value of $VAR, encoded (plain, base64, hex, utf16, gzip), in a JSON file at
                PATH below the cache root (e.g. copy=AWS_SECRET_ACCESS_KEY:base64:mylib/config.json)
  say=VAR       print the value of $VAR (a command that logs a credential: the log must not keep it)
  linger=NAME   leave a grandchild running in its own session (it ignores SIGTERM and SIGHUP), write
                $STANDIN_MARKERS/NAME.ready, then sleep: the snapshot must end them both
  offline-linger=NAME   the same, only in the verify's run (the libraries' offline switches are on)
  linger-then-exit      leave that grandchild running and go on (it holds the step's output open)
  fail          exit 3

Everything is derived from fixed seeds, so two runs leave the same bytes.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HF_HOME = Path(os.environ.get("HF_HOME", "."))
MODEL = HF_HOME / "exports" / "tiny"
# Built from pieces so that no credential-shaped string sits in this file.
PLANTS = {
    "hf": "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567",
    "aws": "AKIA" + "IOSFODNN7EXAMPLE",
    "aws-session": "ASIA" + "Y34FZKBOKMUTVV7A",
    "private-key": "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n",
    "github": "ghp_" + "0123456789abcdefghijklmnopqrstuvwxyz",
}


def weights() -> None:
    if (MODEL / "tokenizer.json").is_file():
        return
    MODEL.mkdir(parents=True, exist_ok=True)
    blocks = (hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(8192))
    (MODEL / "model.onnx").write_bytes(b"".join(blocks))
    (MODEL / "tokenizer.json").write_text('{"model": {"vocab": {"hello": 0, "world": 1}}}\n')


def copy(spec: str) -> None:
    """A command that hands a credential of its environment to a library's config, encoded."""
    variable, encoding, path = spec.split(":", 2)
    value = os.environ[variable].encode()
    encoded = {
        "plain": lambda v: v,
        "base64": base64.b64encode,
        "hex": lambda v: v.hex().encode(),
        "utf16": lambda v: v.decode().encode("utf-16-le"),
        "gzip": lambda v: gzip.compress(b'{"token": "' + v + b'"}', mtime=0),
    }[encoding](value)
    target = Path(os.environ["XDG_CACHE_HOME"]) / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(encoded if encoding == "gzip" else b'{"setting": "' + encoded + b'"}\n')


def load() -> None:
    size = len((MODEL / "model.onnx").read_bytes())
    vocab = (MODEL / "tokenizer.json").read_text()
    print(f"loaded {size} bytes of weights and {len(vocab)} of vocabulary")


def grandchild() -> None:
    """Start a process in a session of its own that ignores SIGTERM and SIGHUP; return once it is so."""
    ready = Path(tempfile.mkdtemp()) / "ready"
    code = (
        "import os, signal, sys, time\n"
        "os.setsid()\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
        "open(sys.argv[1], 'w').close()\n"
        "time.sleep(600)\n"
    )
    subprocess.Popen([sys.executable, "-c", code, str(ready)], stdin=subprocess.DEVNULL)
    while not ready.exists():
        time.sleep(0.01)


def linger(name: str) -> None:
    grandchild()
    markers = Path(os.environ["STANDIN_MARKERS"])
    markers.mkdir(parents=True, exist_ok=True)
    (markers / f"{name}.ready").write_text(str(os.getpid()))
    time.sleep(600)


def main(stages: list[str]) -> None:
    for stage in stages:
        name, _, value = stage.partition("=")
        if name == "weights":
            weights()
        elif name == "load":
            load()
        elif name == "token":
            HF_HOME.mkdir(parents=True, exist_ok=True)
            (HF_HOME / "token").write_text(PLANTS["hf"])
        elif name == "hardlink":
            MODEL.mkdir(parents=True, exist_ok=True)
            os.link(HF_HOME / "token", MODEL / "weights.bin")
        elif name == "plant":
            MODEL.mkdir(parents=True, exist_ok=True)
            (MODEL / f"{value}.bin").write_bytes(b"\x00\x01weights" + PLANTS[value].encode() + b"\x00")
        elif name == "config":
            target = Path(os.environ["XDG_CACHE_HOME"]) / value
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text('{"note": "a credential file"}\n')
        elif name == "copy":
            copy(value)
        elif name == "say":
            print(f"using the credential {os.environ[value]} (and in hex {os.environ[value].encode().hex()})")
        elif name == "linger":
            linger(value)
        elif name == "linger-then-exit":
            grandchild()
        elif name == "offline-linger":
            if os.environ.get("HF_HUB_OFFLINE") == "1":
                linger(value)
        elif name == "fail":
            raise SystemExit(3)
        else:
            raise SystemExit(f"unknown stage {stage!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
