"""The Lambda Python runtimes: which one the project targets (`[tool.lambdakit] python`) and what follows.

From the one version follow the AWS base image (`public.ecr.aws/lambda/python:<version>`), the wheel tags the
build asks pip for (`cp313`, manylinux up to the OS's glibc), the offline stand-in base and its Debian suite.

The table is AWS's "Supported runtimes" (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html,
as read on `TABLE_DATE`): the OS each runtime's base image runs and the date AWS deprecates it (no more
security patches; later, no creates or updates). Re-read that page when the table's date gets old.
Standard library only: `noxfile.py` and `core.settings` import this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from lambdakit.core.errors import ConfigError

TABLE_DATE = date(2026, 12, 1)
TABLE_SOURCE = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html"
AWS_BASE_REPOSITORY = "public.ecr.aws/lambda/python"
STAND_IN_REPOSITORY = "lambdakit/lambda-python"
# The label the stand-in base carries, so the kit knows which AWS runtime an image stands in for.
RUNTIME_LABEL = "io.lambdakit.lambda-runtime"
DEFAULT_PYTHON = "3.13"
AL2 = "Amazon Linux 2"
AL2023 = "Amazon Linux 2023"
# glibc of each OS: the newest manylinux wheels its runtimes load (the stand-in's own Debian glibc is newer).
OS_GLIBC = {AL2: (2, 26), AL2023: (2, 34)}
# The Debian suite whose python3 is the runtime's minor version (the stand-in base); None: no such suite.
DEBIAN_SUITE = {"3.11": "bookworm", "3.13": "trixie"}


@dataclass(frozen=True)
class Runtime:
    """One Lambda Python runtime as AWS documents it."""

    python: str
    os_name: str
    deprecation: date

    @property
    def identifier(self) -> str:
        return f"python{self.python}"

    @property
    def glibc(self) -> tuple[int, int]:
        return OS_GLIBC[self.os_name]

    @property
    def abi(self) -> str:
        """The CPython wheel tag (`cp313`)."""
        return "cp" + self.python.replace(".", "")

    @property
    def base_image(self) -> str:
        return f"{AWS_BASE_REPOSITORY}:{self.python}"

    def stand_in_tag(self, architecture: str = "x86_64") -> str:
        """`lambdakit/lambda-python:3.13` (host architecture x86_64) or `...:3.13-arm64`."""
        suffix = "" if architecture == "x86_64" else f"-{architecture}"
        return f"{STAND_IN_REPOSITORY}:{self.python}{suffix}"

    def deprecated(self, today: date) -> bool:
        return today >= self.deprecation

    def deprecation_notice(self, image: str) -> str:
        return (
            f"{image} is the Lambda runtime {self.identifier} on {self.os_name}, which AWS deprecated on "
            f"{self.deprecation.isoformat()} (no more security patches; see {TABLE_SOURCE}). Set "
            f'[tool.lambdakit] python = "{DEFAULT_PYTHON}" in pyproject.toml and rebuild.'
        )


RUNTIMES = {
    runtime.python: runtime
    for runtime in (
        Runtime("3.10", AL2, date(2026, 6, 30)),
        Runtime("3.11", AL2, date(2026, 6, 30)),
        Runtime("3.12", AL2023, date(2028, 10, 31)),
        Runtime("3.13", AL2023, date(2029, 6, 30)),
        Runtime("3.14", AL2023, date(2029, 6, 30)),
    )
}
# What a project may target: the runtimes on Amazon Linux 2023 (AL2's ended support on 2026-06-30).
SUPPORTED = ("3.12", "3.13", "3.14")
# `public.ecr.aws/lambda/python:3.13`, `...:3.13.2026.11.20-arm64`, `lambdakit/lambda-python:3.13-arm64`
_REPOSITORIES = "|".join(re.escape(name) for name in (AWS_BASE_REPOSITORY, STAND_IN_REPOSITORY))
_IMAGE_VERSION = re.compile(rf"^(?:{_REPOSITORIES}):(\d+\.\d+)(?:[.-]|$)")


def runtime(python: str) -> Runtime:
    """The runtime a project may target, or a `ConfigError` naming the accepted versions."""
    if python not in SUPPORTED:
        raise ConfigError(
            f'[tool.lambdakit] python = "{python}" is not a Lambda runtime the kit builds for; use one of '
            f'{", ".join(SUPPORTED)} (Amazon Linux 2023), e.g. "{DEFAULT_PYTHON}".'
        )
    return RUNTIMES[python]


def for_image(image: str, label: str | None = None) -> Runtime | None:
    """The AWS runtime an image is (by its AWS or stand-in tag) or stands in for (by RUNTIME_LABEL)."""
    match = _IMAGE_VERSION.match(image)
    version = match.group(1) if match else (label or "").removeprefix("python")
    return RUNTIMES.get(version)
