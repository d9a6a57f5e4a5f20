"""A minimal NLTK data server on 127.0.0.1: an `index.xml` and one tiny zipped corpus.

Use it as `nltk.downloader.Downloader(server_index_url=f"{url}/index.xml")` or
`nltk.download(PACKAGE_ID, ...)` after pointing `nltk.downloader._downloader` at such a Downloader.
nltk >= 3.10 refuses loopback URLs (its SSRF guard, `nltk.pathsec.validate_network_url`); the client
must opt out with `nltk.pathsec.ENFORCE = False` for the download, as the test pipelines do.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from .server import RecordingHandler, StandIn

PACKAGE_ID = "tinycorpus"
SUBDIR = "corpora"
WORDS = ("parcel", "refund", "invoice", "crash", "login")


def package_zip() -> tuple[bytes, int]:
    """The zipped corpus (fixed timestamps: the same bytes every time) and its unzipped size."""
    files = {
        f"{PACKAGE_ID}/README": b"A tiny test corpus.\n",
        f"{PACKAGE_ID}/words": "\n".join(WORDS).encode(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo(f"{PACKAGE_ID}/", date_time=(2026, 1, 1, 0, 0, 0)), b"")
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue(), sum(len(d) for d in files.values())


def index_xml(base_url: str) -> bytes:
    data, unzipped = package_zip()
    attributes = {
        "id": PACKAGE_ID,
        "name": "Tiny test corpus",
        "subdir": SUBDIR,
        "unzip": "1",
        "url": f"{base_url}/packages/{SUBDIR}/{PACKAGE_ID}.zip",
        "size": str(len(data)),
        "unzipped_size": str(unzipped),
        "checksum": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "sha256_checksum": hashlib.sha256(data).hexdigest(),
    }
    package = " ".join(f"{key}={quoteattr(value)}" for key, value in attributes.items())
    return (
        f'<?xml version="1.0"?>\n<nltk_data>\n<packages>\n<package {package} />\n</packages>\n'
        f"<collections>\n</collections>\n</nltk_data>\n"
    ).encode()


class NltkHandler(RecordingHandler):
    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        standin = self.server.standin  # type: ignore[attr-defined]
        if path == "/index.xml":
            return self.send(200, index_xml(standin.url), {"Content-Type": "application/xml"})
        if path == f"/packages/{SUBDIR}/{PACKAGE_ID}.zip":
            return self.send(200, package_zip()[0], {"Content-Type": "application/zip"})
        return self.send(404, b"not found", {"Content-Type": "text/plain"})


class NltkStandIn(StandIn):
    def __init__(self) -> None:
        super().__init__(NltkHandler)

    @property
    def index_url(self) -> str:
        return f"{self.url}/index.xml"
