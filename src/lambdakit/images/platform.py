"""The base image a function image is built FROM, inspected once per build, and what pip installs for on it.

`inspect` asks the engine about the base once (`BaseImage`); `for_build` checks it against what the build
inputs carry (the project's runtime and the template's architecture: never read back from the base's name)
and gives the `WheelPlatform` the deps are installed for: the runtime's Python, the glibc of the AWS
runtime's OS, the architecture, and the image whose python3 compiles the bytecode.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from lambdakit.config.target import ARCHITECTURES
from lambdakit.core import runtimes
from lambdakit.core.errors import ConfigError, ImageMissing
from lambdakit.core.settings import BASE_IMAGE_ENV
from lambdakit.images import emulation, engine, hostinstall

GLIBC_FLOOR = hostinstall.MANYLINUX_FLOOR

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WheelPlatform:
    """What pip installs the deps for: the runtime's Python (and the image that compiles its bytecode),
    the newest glibc the REAL Lambda base loads, and the architecture. (Where the function runs, its
    limits and prices, is `config.target.Target`.)"""

    interpreter: hostinstall.Interpreter
    glibc: tuple[int, int] = GLIBC_FLOOR
    architecture: str = "x86_64"

    @property
    def platforms(self) -> list[str]:
        return hostinstall.manylinux_platforms(self.architecture, self.glibc)


@dataclass(frozen=True)
class BaseImage:
    """The base image as the engine holds it, inspected once per build (`inspect`)."""

    reference: str
    attrs: Mapping[str, Any] | None  # its `docker inspect`; None when the engine does not have it

    @property
    def present(self) -> bool:
        return self.attrs is not None

    @property
    def architecture(self) -> str:
        """Docker's name of its architecture (`amd64`, `arm64`), "" when unknown."""
        return str((self.attrs or {}).get("Architecture") or "")

    @property
    def layer_count(self) -> int:
        return len(((self.attrs or {}).get("RootFS") or {}).get("Layers") or [])

    @property
    def stands_for(self) -> runtimes.Runtime | None:
        """The AWS runtime it is (by its AWS or stand-in tag) or stands in for (the stand-in's label)."""
        labels = ((self.attrs or {}).get("Config") or {}).get("Labels") or {}
        return runtimes.for_image(self.reference, labels.get(runtimes.RUNTIME_LABEL))

    def deprecation_notice(self, today: date | None = None) -> str | None:
        """A warning when it is (or stands in for) a Lambda runtime AWS has deprecated, else None."""
        runtime = self.stands_for
        if runtime is None or not runtime.deprecated(today or date.today()):
            return None
        return runtime.deprecation_notice(self.reference)


def inspect(reference: str) -> BaseImage:
    """The base as the engine holds it (one `docker inspect`; absent: Docker pulls it at the build)."""
    return BaseImage(reference, engine.image_attrs(reference))


def for_build(base: BaseImage, runtime: runtimes.Runtime, architecture: str) -> WheelPlatform:
    """Check BASE against the build's RUNTIME and ARCHITECTURE (`check`), then what pip installs for on it."""
    check(base, runtime, architecture)
    return wheel_platform(base, runtime, architecture)


def check(base: BaseImage, runtime: runtimes.Runtime, architecture: str) -> None:
    """The base must be built (a stand-in) or pullable, of the template's architecture and of the project's
    runtime; a deprecated runtime is warned about."""
    if not base.present:
        if base.reference.startswith("lambdakit/"):
            raise ImageMissing(
                f"The base image {base.reference} is not built; run `nox -s base-image` first."
            )
        log.warning(
            "%s is not in the local engine: Docker will pull it. Offline, run `nox -s base-image` and "
            "`export %s=%s` instead.",
            base.reference,
            BASE_IMAGE_ENV,
            runtime.stand_in_tag(),
        )
    else:
        check_architecture(base, runtime, architecture)
    stands_for = base.stands_for
    if stands_for is not None and stands_for != runtime:
        raise ConfigError(
            f"{base.reference} is the Lambda runtime {stands_for.identifier} but [tool.lambdakit] python "
            f"is {runtime.python}: use its base ({runtime.base_image}, offline `nox -s base-image`) or set "
            f'python = "{stands_for.python}" in pyproject.toml.'
        )
    if (notice := base.deprecation_notice()) is not None:
        log.warning(notice)


def check_architecture(base: BaseImage, runtime: runtimes.Runtime, architecture: str) -> None:
    """template.yaml's Architectures and the base image's must agree: the deps are installed for one."""
    expected = ARCHITECTURES[architecture].docker_platform.split("/")[1]
    if base.architecture and base.architecture != expected:
        other = "x86_64" if architecture == "arm64" else "arm64"
        raise ConfigError(
            f"{base.reference} is an {base.architecture} image but template.yaml's Architectures is "
            f"[{architecture}]: use a {architecture} base (offline: `nox -s base-image`, then export "
            f"{BASE_IMAGE_ENV}={runtime.stand_in_tag(architecture)}), or set Architectures to [{other}]."
        )


def wheel_platform(base: BaseImage, runtime: runtimes.Runtime, architecture: str) -> WheelPlatform:
    """What the deps are installed for on BASE: RUNTIME's Python, with the glibc of the AWS runtime's OS
    (Amazon Linux 2023: 2.34; a stand-in's own Debian glibc is newer, and a wheel that loads locally but not
    on Lambda must be refused here, not found at the first cold start). The bytecode is compiled by the
    base's python3 when the engine has the base."""
    compiler = compiler_image(base.reference, runtime, architecture) if base.present else None
    return WheelPlatform(hostinstall.Interpreter(runtime.python, compiler), runtime.glibc, architecture)


def documented_platform(runtime: runtimes.Runtime, architecture: str) -> WheelPlatform:
    """The platform of RUNTIME as AWS documents it (no engine needed; bytecode only when the host's Python
    is that version)."""
    return WheelPlatform(hostinstall.Interpreter(runtime.python), runtime.glibc, architecture)


def compiler_image(base: str, runtime: runtimes.Runtime, architecture: str) -> str:
    """The image whose python3 compiles the bytecode: BASE, or when BASE runs here only under QEMU (ten times
    slower), the host's stand-in of the same Python: bytecode does not depend on the architecture."""
    emulation.require(architecture)  # the compiler runs the base's python3
    if emulation.is_emulated(architecture):
        sibling = runtime.stand_in_tag(emulation.host_architecture())
        if engine.image_exists(sibling):
            return sibling
    return base


def deprecation_notice(base: str, today: date | None = None) -> str | None:
    """A warning when the image BASE is (or stands in for) a Lambda runtime AWS has deprecated, else None."""
    return inspect(base).deprecation_notice(today)
