"""Install Python packages on the host for the image's platform, as layer-ready folders.

`docker build` never touches the network: pip runs here, for the Lambda platform (`--platform`,
`--python-version`, `--only-binary=:all:`), and the result gets byte-stable metadata (mtime 0, modes 644/755,
no host-specific scripts, compiled bytecode with hash-based invalidation), so the same lock gives the same
layer digest on every build and every machine.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import py_compile
import re
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lambdakit import console
from lambdakit.config.target import ARCHITECTURES
from lambdakit.core import proc
from lambdakit.images import engine

HOST_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
# What a copied source package leaves behind, at any depth: caches and hidden files never ship.
COPY_IGNORED = ("__pycache__", "*.pyc", ".*")
MANYLINUX_FLOOR = (2, 17)  # manylinux2014: the oldest wheels pip is asked for (every Lambda base loads them)
COMPILE_MOUNT = "/lambdakit-compile"
# Run by the image's python3: the same hash-based, never re-validated bytecode as `compile_bytecode`.
COMPILE_SCRIPT = (
    "import compileall, py_compile, sys; compileall.compile_dir(sys.argv[1], ddir=sys.argv[2], quiet=2, "
    "invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)"
)
# pip starts on a requirement: `Collecting numpy==2.4.6` from an index, `Processing ./numpy-2.4.6-...whl`
# from a file (a find-links folder, a file:// index)
PIP_STARTS = re.compile(
    r"^(?:Collecting ([A-Za-z0-9][A-Za-z0-9._-]*)|Processing \S*?([A-Za-z0-9][\w.]*)-\d\S*\.whl)"
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Interpreter:
    """The Python the packages will run on: its version (pip's `--python-version`) and, when the host's
    Python is another version, an image whose python3 is that version, to compile the bytecode with."""

    version: str = HOST_PYTHON
    image: str | None = None

    @property
    def abi(self) -> str:
        return "cp" + self.version.replace(".", "")

    def compile(self, root: Path, image_path: str | None = None) -> None:
        """Pre-compile so a read-only image never compiles at cold start (skipped when no such Python)."""
        if self.version == HOST_PYTHON:
            compile_bytecode(root, image_path)
        elif self.image is not None:
            compile_in_image(self.image, root, image_path)


HOST = Interpreter()


def manylinux_platforms(architecture: str, glibc: tuple[int, int] = MANYLINUX_FLOOR) -> list[str]:
    """The wheel platform tags a base with this glibc can load, newest first (pip takes no ranges)."""
    machine = ARCHITECTURES[architecture].pip_platform.removeprefix("manylinux2014_")
    floor = MANYLINUX_FLOOR[1]
    if glibc[0] != 2 or glibc[1] < floor:
        raise ValueError(f"glibc {glibc[0]}.{glibc[1]} is older than manylinux2014 (2.17)")
    return [f"manylinux_2_{minor}_{machine}" for minor in range(glibc[1], floor - 1, -1)] + [
        f"manylinux2014_{machine}"
    ]


def pip_target_argv(
    target: Path,
    requirements: Sequence[str],
    platforms: Sequence[str],
    python_version: str = HOST_PYTHON,
    hashes: bool = True,
    python: str = sys.executable,
    index_url: str | None = None,
) -> list[str]:
    """`pip install --target` for the Lambda platform: wheels only, no resolution (the lock is complete);
    from INDEX_URL alone when given, else from pip's configured index."""
    abi = Interpreter(python_version).abi
    platform_args = [arg for platform in platforms for arg in ("--platform", platform)]
    argv = [
        python,
        "-m",
        "pip",
        "install",
        "--progress-bar",
        "off",  # the kit's bar counts packages (`run_pip`); pip's own would draw into the log
        "--disable-pip-version-check",
        "--no-input",
        "--target",
        str(target),
        *platform_args,
        "--python-version",
        python_version,
        "--implementation",
        "cp",
        "--abi",
        abi,
        "--only-binary=:all:",
        "--no-deps",
        "--no-compile",
        "--upgrade",
    ]
    if hashes:
        argv.append("--require-hashes")
    if index_url is not None:
        argv += ["--index-url", index_url]
    return [*argv, *requirements]


Group = tuple[str | None, Sequence[str]]  # (index URL or None for pip's own, requirement lines)


def index_groups(requirements: Sequence[str] | Sequence[Group]) -> list[Group]:
    """Plain lines are one group from pip's configured index; `lock.locked_groups` gives one per index."""
    if all(isinstance(item, str) for item in requirements):
        return [(None, [str(item) for item in requirements])]
    return [item for item in requirements if not isinstance(item, str)]


def install(
    target: Path,
    requirements: Sequence[str] | Sequence[Group],
    work: Path,
    platforms: Sequence[str],
    interpreter: Interpreter = HOST,
    hashes: bool = True,
    image_path: str | None = None,
) -> bool:
    """Install REQUIREMENTS into TARGET unless the same install is already there; True when pip ran.

    WORK (same file system) holds the stamp, the requirements file and the half-done install, so TARGET only
    ever holds a complete install and nothing of the kit's own. IMAGE_PATH is where TARGET lands in the image
    (the file names compiled into the bytecode). REQUIREMENTS grouped by index (`lock.locked_groups`) are
    installed group by group, each from its own index only.
    """
    groups = index_groups(requirements)
    # one group from pip's index keeps the key of a plain list: existing installs stay valid
    material = (
        list(groups[0][1])
        if len(groups) == 1 and groups[0][0] is None
        else [json.dumps([url, list(lines)]) for url, lines in groups]
    )
    key = _install_key(material, [*platforms, image_path or ""], interpreter)
    work.mkdir(parents=True, exist_ok=True)
    stamp = work / f"{target.name}.stamp.json"
    if target.is_dir() and stamp.is_file() and json.loads(stamp.read_text()).get("key") == key:
        return False
    scratch = work / f"{target.name}.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    total = sum(len(lines) for _, lines in groups)
    with console.progress(f"pip install {total} packages ({interpreter.abi}, {platforms[0]})", total) as bar:
        _install_groups(target, scratch, groups, platforms, interpreter, hashes, bar)
        bar.update(note=f"{bar.description}: compiling bytecode")
        # console scripts carry the host's interpreter path
        shutil.rmtree(scratch / "bin", ignore_errors=True)
        interpreter.compile(scratch, image_path)
    normalise_tree(scratch)
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(scratch, target)  # a rename, or a copy (modes and mtimes kept) across file systems
    stamp.write_text(json.dumps({"key": key, "requirements": [[u, list(r)] for u, r in groups]}, indent=1))
    return True


def _install_groups(
    target: Path,
    scratch: Path,
    groups: Sequence[Group],
    platforms: Sequence[str],
    interpreter: Interpreter,
    hashes: bool,
    bar: console.Bar,
) -> None:
    for number, (url, lines) in enumerate(groups):
        requirements_file = scratch.parent / f"{target.name}.requirements-{number}.txt"
        requirements_file.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        where = f" from {url}" if url else ""
        log.info(
            "pip install --target %s (%d packages%s, %s, %s and older)",
            target,
            len(lines),
            where,
            interpreter.abi,
            platforms[0],
        )
        argv = pip_target_argv(
            scratch, ["-r", str(requirements_file)], platforms, interpreter.version, hashes, index_url=url
        )
        run_pip(
            argv, f"installing {len(lines)} packages{where} for {platforms[0]} (glibc of the base image)", bar
        )


def run_pip(argv: Sequence[str], what: str, bar: console.Bar, timeout: float | None = None) -> None:
    """pip, moving BAR a step per requirement it starts on; its warnings are logged, the rest at debug."""

    def show(line: str) -> None:
        if (match := PIP_STARTS.match(line)) is not None:
            bar.advance()
            bar.update(note=f"{bar.description}: {match.group(1) or match.group(2)}")
        if line.startswith("WARNING:"):
            log.warning("pip: %s", line.removeprefix("WARNING:").strip())
        else:
            log.debug("%s", line)

    proc.follow(argv, what, show, env=pip_environment(), timeout=timeout)


def pip_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """pip's cache stays where the user keeps it: the kit's XDG_CACHE_HOME is the ML cache root, not pip's."""
    env = dict(os.environ if base is None else base)
    env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    return env


def compile_bytecode(root: Path, image_path: str | None = None) -> None:
    """Pre-compile with the host's Python (for an image of the same Python version).

    `UNCHECKED_HASH` bytecode records no source mtime, so it is never re-validated; the file name compiled in
    is the one in the image (IMAGE_PATH/relative, or just relative), never the host's, so it is reproducible
    and tracebacks show image paths.
    """
    for source in sorted(root.rglob("*.py")):
        cfile = Path(importlib.util.cache_from_source(str(source)))
        relative = source.relative_to(root).as_posix()
        try:
            py_compile.compile(
                str(source),
                cfile=str(cfile),
                dfile=f"{image_path.rstrip('/')}/{relative}" if image_path else relative,
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
        except py_compile.PyCompileError:
            continue  # templates and test data shipped as .py: the runtime would not import them either


def compile_in_image(image: str, root: Path, image_path: str | None = None) -> None:
    """`compile_bytecode` done by IMAGE's python3 (no network) on a copy of ROOT, copied back."""
    engine.run_once(
        image,
        ["python3", "-c", COMPILE_SCRIPT, COMPILE_MOUNT, image_path or ""],
        folder=(root, COMPILE_MOUNT),
    )


def normalise_tree(root: Path) -> None:
    """mtime 0 everywhere; directories and executables 755, other files 644 (readable by Lambda's uid)."""
    for path in sorted(root.rglob("*"), reverse=True):
        if path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(0o755)
        else:
            path.chmod(0o755 if path.stat().st_mode & 0o111 else 0o644)
        os.utime(path, (0, 0))
    root.chmod(0o755)
    os.utime(root, (0, 0))


def normalise_parents(path: Path, top: Path) -> None:
    """Give PATH's parent folders up to and including TOP the same mtime 0 and mode 755."""
    for parent in [path.parent, *path.parent.parents]:
        parent.chmod(0o755)
        os.utime(parent, (0, 0))
        if parent == top:
            return
    raise ValueError(f"{top} is not a parent of {path}")


def copy_package(
    source: Path,
    target: Path,
    image_path: str | None = None,
    interpreter: Interpreter = HOST,
    links: Mapping[str, str] | None = None,
) -> None:
    """Copy a source package without caches, compiled as an install would be (IMAGE_PATH: where it lands).
    LINKS maps files below the package to where they point instead (symlinks at mtime 0, so the layer stays
    reproducible); a name the copy does not hold is passed over."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*COPY_IGNORED))
    for relative, destination in (links or {}).items():
        path = target / relative
        if path.is_file():
            path.unlink()
            path.symlink_to(destination)
            os.utime(path, (0, 0), follow_symlinks=False)
    interpreter.compile(target, image_path)


def tree_digest(root: Path) -> str:
    """sha256 over relative paths, modes and contents: what decides the layer a COPY of ROOT makes."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        digest.update(f"{relative}\0{path.lstat().st_mode:o}\0".encode())
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:  # in chunks: a committed model can be hundreds of MB
                digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def _install_key(requirements: Sequence[str], platforms: Sequence[str], interpreter: Interpreter) -> str:
    material = json.dumps(
        {
            "requirements": list(requirements),
            "platforms": list(platforms),
            "python": interpreter.version,
            "compiled_by": interpreter.image if interpreter.version != HOST_PYTHON else HOST_PYTHON,
        }
    )
    return hashlib.sha256(material.encode()).hexdigest()
