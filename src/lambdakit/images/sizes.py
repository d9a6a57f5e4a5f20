"""Size advice: what the function image weighs above its base, per package, and what a CPU image should not
carry.

`nox -s build` prints it after the build. One row per distribution installed in the staged deps folder
(`build/function/deps/var/task`), from the files its `*.dist-info/RECORD` lists (a vendored `<name>.libs`
folder included; bytecode compiled after the install counts with its source), plus the code and asset layers
as Docker measured them; sorted by size. GPU libraries (the table in `gpulibs.py`) are flagged with the
package that pulls them in (METADATA's `Requires-Dist`) and the CPU-only build to install instead, and an
image over Lambda's 10 GB limit is warned about.
"""

from __future__ import annotations

import csv
import logging
import os
import posixpath
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path

from rich.console import Console
from rich.table import Table

from lambdakit.config.target import LAMBDA
from lambdakit.console import human_bytes
from lambdakit.images import gpulibs

LAMBDA_IMAGE_LIMIT_BYTES = LAMBDA.image_bytes  # Lambda: at most 10 GB uncompressed, all layers counted
MAX_ROWS = 30  # the rest of the packages share one row
SHOWN_IN_ADVICE = 3  # GPU libraries named in one line; "and N more" after them
# The Dockerfile's layers above the base, by the role `build.layer_table` gives them.
LAYER_NOTES = {"code": "your code (the code layer)", "assets": "model files (the asset layer)"}
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
EXTRA_MARKER = re.compile(r"\bextra\s*==")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Distribution:
    """What a `*.dist-info` folder says: name, version, what it requires, which files it installed."""

    name: str
    version: str
    requires: frozenset[str]  # normalised names, always required (any platform marker)
    optional: frozenset[str]  # normalised names, required only under one of its extras
    files: tuple[str, ...]  # paths relative to the deps folder, as RECORD lists them

    @property
    def key(self) -> str:
        return gpulibs.normalise(self.name)


@dataclass(frozen=True)
class Package:
    """One installed distribution as it weighs in the deps layer, and why it is a GPU library if it is."""

    name: str
    version: str
    bytes: int
    required_by: tuple[str, ...] = ()  # installed distributions naming it in Requires-Dist
    cuda_objects: tuple[str, ...] = ()  # CUDA shared objects among its files
    gpu: str | None = None  # what makes it a GPU library, else None

    @property
    def key(self) -> str:
        return gpulibs.normalise(self.name)

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


@dataclass(frozen=True)
class GpuAdvice:
    """GPU libraries a CPU Lambda image carries because of one package, and how to do without them."""

    culprit: Package  # the package to change
    libraries: tuple[Package, ...]  # the GPU libraries it brings (itself first when it is one), largest first
    fix: str

    @property
    def bytes(self) -> int:
        return sum(p.bytes for p in self.libraries)

    def message(self) -> str:
        pulled = [p for p in self.libraries if p.key != self.culprit.key]
        named = ", ".join(f"{p.name} ({human_bytes(p.bytes)})" for p in pulled[:SHOWN_IN_ADVICE])
        if len(pulled) > SHOWN_IN_ADVICE:
            named += f" and {len(pulled) - SHOWN_IN_ADVICE} more"
        culprit = self.culprit
        own = (
            f"{culprit.label} ({culprit.gpu}, {human_bytes(culprit.bytes)})" if culprit.gpu else culprit.label
        )
        if pulled:
            verb = "is" if len(pulled) == 1 else "are"
            what = f"{named} {verb} pulled in by {own}"
        else:
            by = f", pulled in by {', '.join(culprit.required_by)}" if culprit.required_by else ""
            what = f"{own}{by}"
        return (
            f"GPU libraries in a CPU Lambda image: {what}; {human_bytes(self.bytes)} the function cannot "
            f"use (Lambda has no GPU). Fix: {self.fix}."
        )


@dataclass(frozen=True)
class SizeReport:
    """The image above its base: packages (largest first), bytes no RECORD claims, layers by role."""

    packages: tuple[Package, ...]
    unattributed_bytes: int = 0
    layers: Mapping[str, int] = field(default_factory=dict)  # role (base, assets, deps, code, ...) → bytes
    advice: tuple[GpuAdvice, ...] = ()

    @property
    def above_base(self) -> int:
        above = sum(size for role, size in self.layers.items() if role != "base")
        return above or sum(p.bytes for p in self.packages) + self.unattributed_bytes

    @property
    def total(self) -> int:
        return self.above_base + self.layers.get("base", 0)

    @property
    def over_limit(self) -> bool:
        return self.total > LAMBDA_IMAGE_LIMIT_BYTES


def survey(deps: Path, layers: Sequence[tuple[str, str, int]] = ()) -> SizeReport:
    """Weigh the staged deps folder per distribution; LAYERS: `build.layer_table`'s (role, digest, bytes)."""
    distributions = read_distributions(deps)
    sizes, cuda_objects, unattributed = weigh(deps, distributions)
    packages = classify(distributions, sizes, cuda_objects)
    by_role: dict[str, int] = {}
    for role, _, size in layers:
        by_role[role] = by_role.get(role, 0) + size
    return SizeReport(
        packages=tuple(sorted(packages, key=lambda p: (-p.bytes, p.key))),
        unattributed_bytes=unattributed,
        layers=by_role,
        advice=tuple(advise(packages)),
    )


def read_distributions(deps: Path) -> dict[str, Distribution]:
    """Every `*.dist-info` in DEPS (the folder pip installed into), by normalised name."""
    found: dict[str, Distribution] = {}
    for info in sorted(deps.glob("*.dist-info")):
        metadata = info / "METADATA"
        if not metadata.is_file():
            continue
        headers = HeaderParser().parsestr(metadata.read_text(encoding="utf-8", errors="replace"))
        requires: set[str] = set()
        optional: set[str] = set()
        for requirement in headers.get_all("Requires-Dist") or []:
            name = NAME.match(requirement.strip())
            if name is not None:
                _, _, marker = requirement.partition(";")
                (optional if EXTRA_MARKER.search(marker) else requires).add(gpulibs.normalise(name.group()))
        record = info / "RECORD"
        files: tuple[str, ...] = ()
        if record.is_file():
            with record.open(encoding="utf-8", newline="") as stream:
                files = tuple(row[0] for row in csv.reader(stream) if row)
        dist = Distribution(
            name=str(headers.get("Name", info.name.split("-")[0])),
            version=str(headers.get("Version", "")),
            requires=frozenset(requires),
            optional=frozenset(optional),
            files=files,
        )
        found[dist.key] = dist
    return found


def weigh(
    deps: Path, distributions: Mapping[str, Distribution]
) -> tuple[dict[str, int], dict[str, list[str]], int]:
    """Bytes per distribution, the CUDA shared objects each holds, and the bytes no distribution claims."""
    owners = Owners(distributions)
    sizes = dict.fromkeys(distributions, 0)
    cuda_objects: dict[str, list[str]] = {key: [] for key in distributions}
    unattributed = 0
    for folder, _, names in os.walk(deps):
        for name in names:
            path = Path(folder, name)
            size = path.lstat().st_size  # a link weighs what the layer stores: the link itself
            owner = owners.of(path.relative_to(deps).as_posix())
            if owner is None:
                unattributed += size
                continue
            sizes[owner] += size
            if gpulibs.is_cuda_shared_object(name):
                cuda_objects[owner].append(name)
    return sizes, cuda_objects, unattributed


class Owners:
    """Which distribution a file of the deps folder belongs to.

    A file RECORD lists is its distribution's; bytecode compiled after the install (`__pycache__/x.*.pyc`)
    is its source's; a vendored `<name>.libs/` folder RECORD does not list is `<name>`'s; anything else is the
    distribution owning its nearest folder, unless several share that folder (a namespace such as `nvidia/`).
    """

    def __init__(self, distributions: Mapping[str, Distribution]) -> None:
        self.files: dict[str, str] = {}
        self.folders: dict[str, set[str]] = {}
        for key, dist in distributions.items():
            for listed in dist.files:
                path = posixpath.normpath(listed)
                if path.startswith("../"):
                    continue  # a script pip put outside the target folder
                self.files.setdefault(path, key)
                parent = posixpath.dirname(path)
                while parent:
                    self.folders.setdefault(parent, set()).add(key)
                    parent = posixpath.dirname(parent)
        self.keys = set(distributions)

    def of(self, path: str) -> str | None:
        if path in self.files:
            return self.files[path]
        folder, name = posixpath.split(path)
        if posixpath.basename(folder) == "__pycache__":
            source = posixpath.join(posixpath.dirname(folder), name.split(".", 1)[0] + ".py")
            if source in self.files:
                return self.files[source]
        top = path.split("/", 1)[0]
        if top.endswith(".libs") and top != path:
            vendor = top.removesuffix(".libs")
            if gpulibs.normalise(vendor) in self.keys:
                return gpulibs.normalise(vendor)
            return self._folder_owner(vendor)
        while folder:
            if folder in self.folders:
                return self._folder_owner(folder)
            folder = posixpath.dirname(folder)
        return None

    def _folder_owner(self, folder: str) -> str | None:
        owners = self.folders.get(folder, set())
        return next(iter(owners)) if len(owners) == 1 else None


def classify(
    distributions: Mapping[str, Distribution],
    sizes: Mapping[str, int],
    cuda_objects: Mapping[str, Sequence[str]],
) -> list[Package]:
    """Packages with who requires them and, for GPU libraries, what makes them one."""
    required_by = _requirers(distributions)
    gpu_only = {key for key in distributions if gpulibs.gpu_only(key) is not None}
    packages = []
    for key, dist in distributions.items():
        entry = gpulibs.gpu_only(key)
        objects = tuple(sorted(set(cuda_objects.get(key, ()))))
        gpu = entry.what if entry is not None else None
        if gpu is None and key in gpulibs.CUDA_BUILDS:
            local = gpulibs.CUDA_LOCAL_VERSION.search(dist.version)
            if local is not None or objects or dist.requires & gpu_only:
                gpu = f"a CUDA build{f' ({dist.version})' if local else ''}"
        if gpu is None and objects:
            gpu = f"holds CUDA libraries ({objects[0]}{' ...' if len(objects) > 1 else ''})"
        packages.append(
            Package(dist.name, dist.version, sizes.get(key, 0), required_by.get(key, ()), objects, gpu)
        )
    return packages


def _requirers(distributions: Mapping[str, Distribution]) -> dict[str, tuple[str, ...]]:
    """Who pulled each distribution in: the installed ones requiring it, else those naming it in an extra."""
    always: dict[str, list[str]] = {}
    extras: dict[str, list[str]] = {}
    for key, dist in sorted(distributions.items()):
        for needed in dist.requires - {key}:  # `tokenizers[testing]; extra == "dev"` names itself
            always.setdefault(needed, []).append(dist.name)
        for needed in dist.optional - {key}:
            extras.setdefault(needed, []).append(dist.name)
    return {key: tuple(always.get(key) or extras.get(key) or ()) for key in distributions}


def advise(packages: Iterable[Package]) -> list[GpuAdvice]:
    """One piece of advice per package to change: a GPU library that follows its requirer (nvidia-*,
    triton) is grouped under the nearest requirer that does not; largest first."""
    by_key = {p.key: p for p in packages}
    groups: dict[str, list[Package]] = {}
    for package in by_key.values():
        if package.gpu is None:
            continue
        for culprit in _culprits(package, by_key):
            groups.setdefault(culprit, []).append(package)
    advice = []
    for key, libraries in groups.items():
        ordered = sorted(libraries, key=lambda p: (p.key != key, -p.bytes))  # the culprit first
        advice.append(GpuAdvice(by_key[key], tuple(ordered), _fix(by_key[key])))
    return sorted(advice, key=lambda a: -a.bytes)


def _culprits(package: Package, by_key: Mapping[str, Package]) -> list[str]:
    """The packages to change so PACKAGE goes: itself, or for a library that only follows its requirer,
    the nearest requirers that are not such libraries (itself when nothing installed requires it)."""
    found: list[str] = []
    seen = {package.key}
    frontier = [package.key]
    while frontier:
        key = frontier.pop(0)
        entry = gpulibs.gpu_only(key)
        requirers = [gpulibs.normalise(name) for name in by_key[key].required_by if name]
        if entry is None or not entry.follows_requirer or not requirers:
            found.append(key)
            continue
        for requirer in requirers:
            if requirer in by_key and requirer not in seen:
                seen.add(requirer)
                frontier.append(requirer)
    return found or [package.key]  # its requirers form a circle: itself, then


def _fix(culprit: Package) -> str:
    cuda_fix = gpulibs.cuda_build_fix(culprit.key, culprit.version)
    if cuda_fix is not None:
        return cuda_fix
    entry = gpulibs.gpu_only(culprit.key)
    if entry is not None and entry.follows_requirer:  # nothing installed requires it: the Pipfile names it
        return f"remove {culprit.name} from the Pipfile (nothing on a CPU loads it) and run `pipenv lock`"
    if entry is not None:
        return entry.fix
    return (
        f"look for a CPU-only build of {culprit.name} (a `-cpu` distribution, or a CPU index bound to it "
        "as docs/own-pipeline.md shows for torch) and run `pipenv lock`"
    )


def table(report: SizeReport) -> Table:
    """The rows, largest first: packages, the code and asset layers, files no RECORD claims."""
    above = report.above_base or 1
    rows: list[tuple[str, str, int, str]] = [
        (p.name, p.version, p.bytes, _note(p)) for p in report.packages[:MAX_ROWS]
    ]
    rest = report.packages[MAX_ROWS:]
    if rest:
        rows.append((f"{len(rest)} more packages", "", sum(p.bytes for p in rest), ""))
    for role, size in report.layers.items():
        if role not in ("base", "deps"):
            rows.append((role, "", size, LAYER_NOTES.get(role, "another layer of the Dockerfile")))
    if report.unattributed_bytes:
        rows.append(("other files", "", report.unattributed_bytes, "in the deps folder, listed by no RECORD"))
    whole = f", the whole image {human_bytes(report.total)}" if report.layers else ""
    result = Table(
        title="The image above its base", caption=f"above the base {human_bytes(report.above_base)}{whole}"
    )
    result.add_column("package", no_wrap=True)
    result.add_column("version", no_wrap=True)
    result.add_column("size", justify="right", no_wrap=True)
    result.add_column("share", justify="right", no_wrap=True)
    result.add_column("note")
    for name, version, size, note in sorted(rows, key=lambda row: -row[2]):
        result.add_row(name, version, human_bytes(size), f"{100 * size / above:.1f} %", note)
    return result


def _note(package: Package) -> str:
    pulled = f"pulled in by {', '.join(package.required_by)}" if package.required_by else ""
    if package.gpu is None:
        return pulled
    return f"[yellow]GPU: {package.gpu}[/]" + (f", {pulled}" if pulled else "")


def warnings(report: SizeReport) -> list[str]:
    """One line per problem, each with its fix."""
    lines = [advice.message() for advice in report.advice]
    if report.over_limit:
        lines.append(
            f"The image is {human_bytes(report.total)}, over Lambda's "
            f"{human_bytes(LAMBDA_IMAGE_LIMIT_BYTES)} "
            "limit for a container image (uncompressed, all layers): Lambda will refuse it. Ship less: the "
            "largest rows above first."
        )
    return lines


def show(report: SizeReport) -> None:
    """The table on stdout (the build's result), each problem as a warning."""
    Console(highlight=False, width=None if sys.stdout.isatty() else 160).print(table(report))
    for line in warnings(report):
        log.warning("%s", line)
