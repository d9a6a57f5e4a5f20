"""`python -m lambdakit snapshot [OPTIONS] [-- COMMAND ...]`: find hidden downloads, ship them.

Runs COMMAND (default: the project's `[tool.lambdakit] prepare` hook if it has one, then every sample event
through the configured handler with `python -m lambdakit dev`) in a sandbox with a fresh HOME and an empty
cache root, records every file it leaves and every host it contacts, attributes each to a library
(`lambdakit.snapshot.caches`), and writes:

  build/assets/assets.tar    the cache root's files under their image path (/cache/...), reproducible,
                             plus the committed files `[tool.lambdakit] assets` names (/cache/code-assets/...)
  build/assets/report.json   files, network, excluded secrets, unknown files, flags, tarball, verify;
                             `"assets": "none"` (and no tarball) when there is nothing to ship: a function
                             that downloads nothing then builds without an asset image
  build/assets/snapshot.log  everything the command printed

Then it verifies (unless --no-verify): the same COMMAND again (without the build-time prepare hook) with
only the tarball's files, offline, without network and read-only but for /tmp. `--verify` alone checks an
existing tarball. The sandbox keeps the caller's environment (HF_ENDPOINT, HF_TOKEN, the pipeline's own
variables) and replaces only HOME, TMPDIR and the cache variables.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import re
import shlex
import signal
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import IO, Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from lambdakit.console import human_bytes
from lambdakit.core import config
from lambdakit.core.errors import (
    ConfigError,
    DiskFull,
    KitError,
    SecretInAssets,
    SnapshotCommandFailed,
    VerifyFailed,
)
from lambdakit.core.settings import IMAGE_CACHE_ROOT, REPO_ROOT, build_dir, make_cache_dirs
from lambdakit.snapshot import (
    caches,
    credentials,
    integrity,
    netaudit,
    outputs,
    reaper,
    refusals,
    sandbox,
    secrets,
    tarball,
)
from lambdakit.snapshot.caches import Root

REPORT_SCHEMA = outputs.REPORT_SCHEMA
NO_ASSETS = outputs.NO_ASSETS
TARBALL_NAME = outputs.TARBALL_NAME
REPORT_NAME = outputs.REPORT_NAME
LOG_NAME = outputs.LOG_NAME
DISK_FULL_MARKERS = ("No space left on device", "[Errno 28]", "Disk quota exceeded")
# Decimal, as the kit prints sizes (`console.human_bytes`) and as AWS and registries state them.
SIZE_UNITS = {
    "": 1,
    "B": 1,
    "K": 1000,
    "KB": 1000,
    "M": 1000**2,
    "MB": 1000**2,
    "G": 1000**3,
    "GB": 1000**3,
    "T": 1000**4,
    "TB": 1000**4,
}


@dataclass(frozen=True)
class Options:
    """`commands` run in the snapshot and again in the verify; `prepare` (build-time) in the snapshot only."""

    commands: tuple[tuple[str, ...], ...]
    cwd: Path
    output: Path
    max_bytes: int = tarball.DEFAULT_MAX_BYTES
    verify: bool = True
    keep: bool = False
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    prepare: tuple[tuple[str, ...], ...] = ()
    code_assets: tuple[str, ...] = ()  # paths below src/ of committed files that ship in the asset layer

    @property
    def tarball(self) -> Path:
        return self.output / TARBALL_NAME

    @property
    def report(self) -> Path:
        return self.output / REPORT_NAME


# Why a file is excluded (FileRecord.excluded); not passwords themselves.
SECRET = "secret"  # noqa: S105 - a credential by location or link: left out of the tarball, listed
SECRET_REFUSED = "secret found in its content"  # noqa: S105 - in a file that looked shippable: refused
RUN_TIME_TOKENS = (
    "give the function its token through its environment or a secrets manager at run time, "
    "not through the image"
)


@dataclass(frozen=True)
class FileRecord:
    """One file the command left behind, where, whose, and whether it ships."""

    path: str
    root: Root
    bytes: int
    library: str
    env_var: str | None
    in_cache_root: bool
    shipped: bool
    excluded: str | None = None
    writer: str | None = None
    attributed_by: str | None = None
    sha256: str | None = None  # of a shipped file's bytes, as its manifest line in the tarball says
    secret: str | None = None  # why it is a credential (never shipped; found by content: refused)

    @property
    def display(self) -> str:
        return display_path(self.root, self.path)


def display_path(root: Root, path: str) -> str:
    prefix = {"cache": IMAGE_CACHE_ROOT, "home": "~", "tmp": "$TMPDIR", "other": ""}[root]
    return f"{prefix}/{path}" if prefix else path


def default_commands(
    project: config.ProjectConfig, repo: Path = REPO_ROOT, python: str = sys.executable
) -> tuple[tuple[str, ...], ...]:
    """Every sample event through the configured handler, in one process: what triggers lazy downloads."""
    events = tuple(str(e.relative_to(repo)) for e in sorted((repo / "events").glob("*.json")))
    if not events:
        raise ConfigError(
            f"no sample events in {repo / 'events'}: add one JSON file per event, or pass -- CMD"
        )
    return ((python, "-m", "lambdakit", "dev", "--handler", project.handler, *events),)


def prepare_commands(
    project: config.ProjectConfig, python: str = sys.executable
) -> tuple[tuple[str, ...], ...]:
    """The project's build-time hook, with `python` meaning the given interpreter (the hook's environment)."""
    if not project.prepare:
        return ()
    first, *rest = project.prepare
    return ((python if first in {"python", "python3"} else first, *rest),)


# ---------------------------------------------------------------------------------------------- scanning


def walk(root: Path) -> Iterator[str]:
    """Every non-directory under `root` (symlinks not followed), as sorted `/`-separated relative paths."""
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = Path(directory).relative_to(root)
        names = filenames + [d for d in dirnames if (Path(directory) / d).is_symlink()]
        for name in sorted(names):
            yield (base / name).as_posix()


def scan(
    box: sandbox.Sandbox, events: Sequence[netaudit.Event], env: Mapping[str, str] | None = None
) -> tuple[list[FileRecord], list[tarball.Member]]:
    """Attribute every file of the sandbox (and any other file Python code wrote); pick the members. A
    file holding the value of a credential of ENV (the caller's environment; its HOME's credential files)
    or of a credential file the command left is refused, as one holding a token's shape."""
    writers = with_folder_writes({e.path: tuple(e.stack) for e in events if e.kind == "write"})
    records: list[FileRecord] = []
    members: list[tarball.Member] = []
    places: tuple[tuple[Root, Path], ...] = (("cache", box.cache_root), ("home", box.home), ("tmp", box.tmp))
    secret_files = [
        (base / rel, display_path(root, rel))
        for root, base in places
        for rel in walk(base)
        if caches.is_secret(rel)
    ]
    by_inode = secrets.inodes_of(secret_files)
    values = secrets.needles(credentials.known_values(os.environ if env is None else env, None, secret_files))
    for rel in walk(box.cache_root):
        stack = writers.get(str(box.cache_root / rel))
        record, member = _cache_file(box.cache_root, rel, stack, by_inode, values)
        records.append(record)
        if member is not None:
            members.append(member)
    outside: tuple[tuple[Root, Path], ...] = (("home", box.home), ("tmp", box.tmp))
    for root, base in outside:
        for rel in walk(base):
            records.append(_outside_file(root, base, rel, writers.get(str(base / rel))))
    sandboxed = tuple(str(p) + os.sep for p in (box.home, box.cache_root, box.tmp, box.audit_log.parent))
    for path, stack in sorted(writers.items()):
        if not path.startswith(sandboxed) and Path(path).is_file():
            records.append(_outside_file("other", Path("/"), path.lstrip("/"), stack, absolute=True))
    return adopt_by_neighbour(records), members


def with_folder_writes(writers: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """A folder renamed into place (an export written in a scratch folder, then moved atomically) was
    written whole by that stack: its files inherit it, unless a write of their own says otherwise."""
    expanded = dict(writers)
    for path, stack in writers.items():
        folder = Path(path)
        if folder.is_dir() and not folder.is_symlink():
            for file in folder.rglob("*"):
                if file.is_file():
                    expanded.setdefault(str(file), stack)
    return expanded


def adopt_by_neighbour(records: Sequence[FileRecord]) -> list[FileRecord]:
    """Files unpacked beside a download (a zip's members, written through directory handles the audit
    cannot place) belong to the library that wrote the download: the nearest directory above decides."""
    owners: dict[tuple[str, str], FileRecord] = {}
    for record in records:
        if record.attributed_by == "writer":
            for parent in _parents(record.path):
                owners.setdefault((record.root, parent), record)
    adopted = []
    for record in records:
        owner = next(
            (owners[(record.root, p)] for p in _parents(record.path) if (record.root, p) in owners), None
        )
        if record.library == caches.UNKNOWN and owner is not None:
            record = replace(record, library=owner.library, env_var=owner.env_var, attributed_by="neighbour")
        adopted.append(record)
    return adopted


def _parents(path: str) -> list[str]:
    """Ancestors of a path, nearest first, up to (not including) its root."""
    parts = PurePosixPath(path.lstrip("/")).parts[:-1]
    return ["/".join(parts[:i]) for i in range(len(parts), 0, -1)]


def project_modules(source: Path = REPO_ROOT / "src") -> frozenset[str]:
    """The function's own top-level packages and modules (src/ but the kit): a write from them is its own."""
    if not source.is_dir():
        return frozenset()
    names = {p.name for p in source.iterdir() if (p / "__init__.py").is_file()}
    names |= {p.stem for p in source.glob("*.py")}
    return frozenset(names - {"lambdakit"})


def attribute(
    root: Root, path: str, stack: Sequence[str] | None, own: Collection[str] | None = None
) -> tuple[caches.Attribution, str | None]:
    """Who is responsible for a file: the library whose pattern claims its path, when that library is on
    the writing stack; else the innermost library that wrote it (a known one: its advice covers a folder
    passed by the caller); else the function's own code, when the writing frame is its; else the path's
    library; else the writing module, named even when the table has no row for it."""
    who = caches.attribute(root, path)
    if not stack:
        return who, "path" if who.known else None
    on_stack = {cache.library if (cache := caches.by_module(m)) else m for m in stack}
    if who.known and who.library in on_stack:
        return who, "path"
    writer = caches.library_of_stack(stack)[0]
    cache = caches.by_library(writer)
    if cache is not None:
        return caches.Attribution(cache.library, cache.env_var, cache), "writer"
    if writer in (project_modules() if own is None else own):
        return caches.Attribution(caches.own_code(writer), None, None), "writer"
    if who.known:
        return who, "path"
    if writer not in {caches.UNKNOWN, caches.THE_COMMAND}:
        return caches.Attribution(writer, None, None), "writer"
    return who, None


def _writer(stack: Sequence[str] | None) -> str | None:
    return caches.library_of_stack(stack)[0] if stack else None


def _cache_file(
    root: Path,
    rel: str,
    stack: Sequence[str] | None,
    by_inode: Mapping[secrets.Inode, str],
    values: secrets.Needles = secrets.NO_VALUES,
) -> tuple[FileRecord, tarball.Member | None]:
    who, how = attribute("cache", rel, stack)
    size = _size(root / rel)
    record = FileRecord(
        path=rel,
        root="cache",
        bytes=size,
        library=who.library,
        env_var=who.env_var,
        in_cache_root=True,
        shipped=False,
        writer=_writer(stack),
        attributed_by=how,
    )
    if why := secrets.by_location(root, rel, by_inode):
        return replace(record, excluded=SECRET, secret=why), None
    if who.cache is not None and not who.cache.ship:
        return replace(record, excluded=f"not shipped: {who.cache.note}"), None
    if rel == tarball.MANIFEST_NAME:
        return replace(record, excluded=f"{rel} is the tarball's manifest: the kit writes its own"), None
    kept = tarball.classify(root, rel)
    if isinstance(kept, tarball.Rejected):
        return replace(record, excluded=kept.reason), None
    if kept.kind == "file":
        digest, found = secrets.digest_and_scan(kept.source, values)
        if found is not None:
            why = f"holds {found.kind} at byte {found.offset}{found.where}"
            return replace(record, excluded=SECRET_REFUSED, secret=why), None
        kept = replace(kept, sha256=digest)
    return replace(record, shipped=True, sha256=kept.sha256 or None), kept


def _outside_file(
    root: Root, base: Path, rel: str, stack: Sequence[str] | None, absolute: bool = False
) -> FileRecord:
    path = "/" + rel if absolute else rel
    who, how = attribute(root, path, stack)
    return FileRecord(
        path=path,
        root=root,
        bytes=_size(base / rel),
        library=who.library,
        env_var=who.env_var,
        in_cache_root=False,
        shipped=False,
        excluded=SECRET if caches.is_secret(path) else None,
        writer=_writer(stack),
        attributed_by=how,
        secret="a known credential location" if caches.is_secret(path) else None,
    )


def _size(path: Path) -> int:
    try:
        return path.lstat().st_size
    except OSError:
        return 0


def network_summary(events: Sequence[netaudit.Event]) -> list[dict[str, Any]]:
    """Look-ups and connections grouped by host, port and the library that asked, with counts."""
    counts: dict[tuple[str, int | None, str, str | None, str], int] = defaultdict(int)
    for event in events:
        if event.network:
            library, via = caches.library_of_stack(event.stack)
            counts[(event.host, event.port, library, via, event.kind)] += 1
    return [
        {"host": h, "port": p, "library": lib, "via": via, "kind": kind, "count": n}
        for (h, p, lib, via, kind), n in sorted(counts.items(), key=lambda kv: tuple(map(str, kv[0])))
    ]


def flags(records: Sequence[FileRecord]) -> list[dict[str, Any]]:
    """What needs a decision, each with its fix in one line."""
    found: list[dict[str, Any]] = []
    outside: dict[tuple[Root, str], list[FileRecord]] = defaultdict(list)
    for record in records:
        if record.secret is not None:
            found.append(
                {
                    "kind": "secret",
                    "path": record.display,
                    "library": record.library,
                    "why": record.secret,
                    "fix": ("refused: " if record.excluded == SECRET_REFUSED else "never shipped: ")
                    + RUN_TIME_TOKENS,
                }
            )
        elif (cache := caches.by_library(record.library)) is not None and not cache.ship:
            found.append(
                {
                    "kind": "not_shipped",
                    "path": record.display,
                    "library": record.library,
                    "fix": f"nothing to do: {cache.note}",
                }
            )
        elif record.excluded and record.in_cache_root:
            found.append(
                {
                    "kind": "not_shipped",
                    "path": record.display,
                    "library": record.library,
                    "fix": record.excluded,
                }
            )
        elif not record.in_cache_root:
            outside[(record.root, record.library)].append(record)
        if record.library == caches.UNKNOWN and record.secret is None:
            found.append(
                {
                    "kind": "unknown_library",
                    "path": record.display,
                    "writer": record.writer,
                    "fix": caches.fix_for_outside(None, record.root)
                    if not record.in_cache_root
                    else "shipped, but no library in lambdakit/snapshot/caches.py claims it: add a row so it "
                    "is attributed (library, variable, patterns)",
                }
            )
    for (root, library), group in sorted(outside.items()):
        if library == caches.UNKNOWN:
            continue
        cache = caches.by_library(library)
        found.append(
            {
                "kind": "outside_cache_root",
                "library": library,
                "root": root,
                "env_var": cache.env_var if cache else None,
                "files": len(group),
                "bytes": sum(r.bytes for r in group),
                "paths": [r.display for r in group[:5]],
                "fix": caches.fix_for_outside(cache, root, library),
            }
        )
    return found


def build_report(
    options: Options, records: Sequence[FileRecord], events: Sequence[netaudit.Event], seconds: float
) -> dict[str, Any]:
    return {
        "schema": REPORT_SCHEMA,
        "prepare": [list(c) for c in options.prepare],
        "command": [list(c) for c in options.commands],
        "cache_root": IMAGE_CACHE_ROOT,
        "seconds": round(seconds, 2),
        "files": [_record_json(r) for r in records],
        "network": network_summary(events),
        "excluded_secrets": sorted(r.display for r in records if r.secret is not None),
        "unknown": sorted(r.display for r in records if r.library == caches.UNKNOWN and r.secret is None),
        "flags": flags(records),
        "code_assets": [],
        "assets": None,  # "tarball" or "none", once the run succeeded
        "tarball": None,
        "verify": None,
    }


def _record_json(record: FileRecord) -> dict[str, Any]:
    data = asdict(record)
    return {
        key: data[key]
        for key in (
            "path",
            "root",
            "bytes",
            "library",
            "env_var",
            "in_cache_root",
            "shipped",
            "excluded",
            "writer",
            "attributed_by",
            "sha256",
            "secret",
        )
    }


write_report = outputs.write_report


# ---------------------------------------------------------------------------------------------- running


def run_commands(
    options: Options,
    commands: Sequence[tuple[str, ...]],
    box: sandbox.Sandbox,
    env: Mapping[str, str],
    log: IO[str],
    console: Console,
    title: str,
    prefix: Sequence[str] = (),
) -> list[sandbox.StepResult]:
    """Every step with a progress line showing its latest output; stops at the first failure. What the
    steps print is redacted: the caller's credential values appear by name only (log, messages)."""
    redact = secrets.redactor(credentials.known_values(options.env))
    results = []
    total = len(commands)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        for index, argv in enumerate(commands, 1):
            label = f"{title} [{index}/{total}] {_short(argv)}"
            task = progress.add_task(label, total=None)

            def show(line: str, task: Any = task, label: str = label) -> None:
                progress.update(task, description=f"{label} [dim]{_clip(line)}[/]")

            result = sandbox.run_step(argv, env, options.cwd, log, show, prefix, redact)
            progress.remove_task(task)
            mark = "[green]ok[/]" if result.returncode == 0 else f"[red]exit {result.returncode}[/]"
            console.print(f"{label}  {mark}  {result.seconds:.1f} s", highlight=False)
            results.append(result)
            if result.returncode != 0:
                break
    return results


def _short(argv: Sequence[str]) -> str:
    first = Path(argv[0])
    words = [first.name if first.is_absolute() and first.name.startswith("python") else argv[0], *argv[1:]]
    return shlex.join(words)


def _clip(line: str, width: int = 60) -> str:
    line = re.sub(r"\[", r"\\[", line.strip())
    return line if len(line) <= width else line[: width - 1] + "…"


def failure(
    result: sandbox.StepResult,
    log_path: Path,
    what: str,
    network: Sequence[Mapping[str, Any]] = (),
    read_from: Path | None = None,
) -> SnapshotCommandFailed | DiskFull:
    """The step's failure in one first line that names the root cause (the log holds what the tail lost;
    READ_FROM is where it is now when it is not yet at LOG_PATH)."""
    tail = "\n".join(f"    {line}" for line in result.tail[-12:])
    if any(marker in line for line in result.tail for marker in DISK_FULL_MARKERS):
        return DiskFull(
            f"the disk filled up while {what} ran `{shlex.join(result.argv)}`: free some space "
            f"or pass --output on a larger disk; its last lines:\n{tail}"
        )
    cause = refusals.root_cause([*_log_lines(read_from or log_path), *result.tail], network)
    because = f": {cause}" if cause else ""
    return SnapshotCommandFailed(
        f"`{shlex.join(result.argv)}` exited with status {result.returncode} during the {what}{because} "
        f"(full output: {log_path}); fix the command, then run the snapshot again. Its last lines:\n{tail}"
    )


def _log_lines(path: Path, limit: int = 2000) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()[-limit:]
    except OSError:
        return []


# ---------------------------------------------------------------------------------------------- snapshot


def snapshot(options: Options, console: Console) -> dict[str, Any]:
    """Run, scan, report, write the tarball, verify unless told not to; then put the report and the tarball
    in place together (after a failure: the report, and no tarball). Returns the report.

    Everything happens in a locked work folder; an interrupt leaves the previous outputs as they were, and
    its folder is swept by the next start."""
    outputs.start(options.output)
    with outputs.work_folder(options.output, outputs.WORK_PREFIX, keep=options.keep) as work:
        staged = work / "out"
        staged.mkdir()
        box = sandbox.Sandbox(work / "home", work / "cache", work / "tmp", work / "audit" / "audit.jsonl")
        # The new log is staged with the report: an interrupted run leaves the previous log beside its
        # tarball.
        log = staged / LOG_NAME
        report, results, records, members = record(options, box.create(), console, log)
        try:
            refused = refusal(options, results, records, members, report, log)
            if refused is not None:
                raise refused
            members = [*members, *code_asset_members(options, report)]
            written = (
                tarball.write(members, IMAGE_CACHE_ROOT, staged / TARBALL_NAME, options.max_bytes)
                if members
                else None
            )
        except KitError:
            commit(options, staged, report)
            raise
        # nothing to ship is a result: the report says so, and the commit removes an older tarball with it
        report["assets"] = "tarball" if written else NO_ASSETS
        report["tarball"] = tarball_entry(options, written) if written else None
        if not options.keep:  # the sandbox is no longer needed: free its disk before the verify unpacks
            for folder in (box.home, box.cache_root, box.tmp):
                outputs.remove_tree(folder)
        print_summary(report, console)
        if options.verify:
            report["verify"] = verify(
                options, console, report, written.path if written else None, log, no_assets=not written
            )
        commit(options, staged, report)
        if options.keep:
            console.print(f"sandbox kept in {work}")
    if options.verify:
        raise_if_failed(report["verify"])
    return report


def record(
    options: Options, box: sandbox.Sandbox, console: Console, log_path: Path
) -> tuple[dict[str, Any], list[sandbox.StepResult], list[FileRecord], list[tarball.Member]]:
    """Run the steps in the sandbox and scan what they left: the report (no tarball yet) and its parts."""
    make_cache_dirs(box.cache_root)  # as in a finished image: nltk, for one, uses $NLTK_DATA only then
    env = sandbox.command_env(options.env, box, verify=False)
    started = time.monotonic()
    with _open_log(log_path, "w") as log:
        results = run_commands(
            options, (*options.prepare, *options.commands), box, env, log, console, "snapshot"
        )
    seconds = time.monotonic() - started
    events = netaudit.read(box.audit_log)
    records, members = scan(box, events, options.env)
    return build_report(options, records, events, seconds), results, records, members


def refusal(
    options: Options,
    results: Sequence[sandbox.StepResult],
    records: Sequence[FileRecord],
    members: Sequence[tarball.Member],
    report: Mapping[str, Any],
    log_path: Path | None = None,
) -> KitError | None:
    """Why this run must not produce a tarball, if it must not (LOG_PATH: the run's log, until it is
    committed beside the report)."""
    if results[-1].returncode != 0:
        final = options.output / LOG_NAME
        return failure(results[-1], final, "snapshot", report["network"], log_path or final)
    if refused := [r for r in records if r.excluded == SECRET_REFUSED]:
        return SecretInAssets(secret_found(refused))
    return None


def code_asset_members(options: Options, report: dict[str, Any]) -> list[tarball.Member]:
    """The committed files `[tool.lambdakit] assets` names, under /cache/code-assets/ (recorded in REPORT)."""
    members = []
    for relative in options.code_assets:
        source = REPO_ROOT / config.SOURCE_PREFIX / relative
        member = tarball.with_digest(
            tarball.Member(config.code_asset_image_path(relative), source, "file", size=source.stat().st_size)
        )
        members.append(member)
        report["code_assets"].append(
            {
                "path": f"{config.SOURCE_PREFIX}{relative}",
                "image_path": f"{IMAGE_CACHE_ROOT}/{member.path}",
                "bytes": member.size,
                "sha256": member.sha256,
            }
        )
    return members


def secret_found(refused: Sequence[FileRecord]) -> str:
    first = refused[0]
    more = f" (and {len(refused) - 1} more file(s), listed in report.json)" if len(refused) > 1 else ""
    return (
        f"refusing to ship {first.display}: it {first.secret}{more}. The command copied or linked a "
        f"credential into the cache root: remove it there, {RUN_TIME_TOKENS}, then run the snapshot again"
    )


def tarball_entry(options: Options, written: tarball.Written) -> dict[str, Any]:
    return {
        "path": _relative(options.tarball),
        "sha256": written.sha256,
        "bytes": written.bytes,
        "files": written.files,
        "members": written.members,
        "prefix": IMAGE_CACHE_ROOT,
        "manifest": f"/{written.manifest}",
    }


def commit(options: Options, staged: Path, report: Mapping[str, Any]) -> None:
    """The report, the log and the tarball (the staged one, or none) replace the previous ones together."""
    write_report(staged / REPORT_NAME, report)
    outputs.commit(options.output, staged, (TARBALL_NAME, REPORT_NAME, LOG_NAME))


def nothing_to_ship(report: Mapping[str, Any]) -> str:
    """The summary line of a run that found nothing to ship (a result, not a failure)."""
    elsewhere = [f["path"] for f in report["files"] if not f["in_cache_root"]][:5]
    where = (
        f" (it wrote only outside the cache root: {', '.join(elsewhere)}; if the function needs those, "
        "make it keep them under $XDG_CACHE_HOME)"
        if elsewhere
        else ""
    )
    return (
        f"nothing to ship: the command downloaded nothing into the cache root{where}. The function needs "
        "no asset image: `nox -s assets` has nothing to do and `nox -s build` builds without an asset stage."
    )


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _open_log(path: Path, mode: str) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open(mode, encoding="utf-8")


# ---------------------------------------------------------------------------------------------- verify


def verify(
    options: Options,
    console: Console,
    report: Mapping[str, Any] | None = None,
    tarball_path: Path | None = None,
    log_path: Path | None = None,
    no_assets: bool = False,
) -> dict[str, Any]:
    """Rerun the command with only the tarball's files (none with NO_ASSETS: an empty cache root), offline,
    cut off; list whatever still reaches out. The tarball is first checked against its manifest and REPORT.
    The output goes to LOG_PATH (default: appended to the output folder's log, which describes that
    tarball)."""
    tarball_path = None if no_assets else tarball_path or options.tarball
    if tarball_path is not None and not tarball_path.is_file():
        raise ConfigError(f"{tarball_path} does not exist: run `nox -s snapshot` (without --verify) first")
    with (
        outputs.work_folder(options.output, outputs.VERIFY_PREFIX) as image,
        outputs.work_folder(Path(tempfile.gettempdir()), outputs.TEMP_PREFIX) as scratch,
    ):
        damaged: list[str] = []
        if tarball_path is not None:
            _, damaged = integrity.inspect(tarball_path, report)
            _extract(tarball_path, image / "image")
        cache_root = image / "image" / IMAGE_CACHE_ROOT.strip("/")
        cache_root.mkdir(parents=True, exist_ok=True)
        box = sandbox.Sandbox(image / "home", cache_root, scratch / "tmp", scratch / "audit" / "audit.jsonl")
        box.create()
        env = sandbox.command_env(options.env, box, verify=True)
        writable = sorted({Path(tempfile.gettempdir()).resolve(), scratch.resolve()})
        isolation, script = sandbox.choose_isolation([box.cache_root, box.home], writable)
        console.print(f"verify: {', '.join(isolation.guarantees)}", highlight=False)
        prefix = sandbox.isolation_argv(isolation, script)
        started = time.monotonic()
        with _open_log(log_path or options.output / LOG_NAME, "a") as log:
            log.write("\n# verify\n")
            results = run_commands(options, options.commands, box, env, log, console, "verify", prefix)
        events = netaudit.read(box.audit_log)
        result = verify_result(results, events, box, isolation, time.monotonic() - started, options, report)
    result["problems"][:0] = [f"the tarball does not match what was recorded: {p}" for p in damaged]
    result["passed"] = not result["problems"]
    return result


def _extract(source: Path, destination: Path) -> None:
    try:
        tarball.extract(source, destination)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFull(f"no space left unpacking {source} to verify it: free some disk space") from exc
        raise


def verify_result(
    results: Sequence[sandbox.StepResult],
    events: Sequence[netaudit.Event],
    box: sandbox.Sandbox,
    isolation: sandbox.Isolation,
    seconds: float,
    options: Options,
    report: Mapping[str, Any] | None,
) -> dict[str, Any]:
    network = network_summary(events)
    writes = [e.path for e in events if e.kind == "write" and not allowed_write(e.path, box)]
    shipped = shipped_libraries(report)
    problems = list(dict.fromkeys(reach_out_problem(entry, shipped) for entry in network))
    problems += [
        f"wrote {image_path(path, box)} (only /tmp is writable on Lambda)" for path in sorted(set(writes))
    ]
    last = results[-1]
    if last.returncode != 0:
        problems.append(failed_problem(last, options.output / LOG_NAME, report))
    return {
        "passed": not problems,
        "isolation": isolation.name,
        "guarantees": list(isolation.guarantees),
        "seconds": round(seconds, 2),
        "steps": [
            {"command": list(r.argv), "returncode": r.returncode, "seconds": round(r.seconds, 2)}
            for r in results
        ],
        "network": network,
        "writes_outside_tmp": sorted(set(writes)),
        "problems": problems,
    }


def image_path(path: str, box: sandbox.Sandbox) -> str:
    """A path of the verify sandbox as it would read in the image (/cache/..., ~/...)."""
    for base, shown in ((box.cache_root, IMAGE_CACHE_ROOT), (box.home, "~")):
        if path.startswith(f"{base}{os.sep}"):
            return f"{shown}/{path[len(str(base)) + 1 :]}"
    return path


def allowed_write(path: str, box: sandbox.Sandbox) -> bool:
    """Only the temp dirs are writable on Lambda; the cache root and HOME may lie under /tmp here."""
    if path.startswith((f"{box.cache_root}{os.sep}", f"{box.home}{os.sep}")):
        return False
    temps = {"/tmp", tempfile.gettempdir(), str(box.tmp)}  # noqa: S108 - Lambda's one writable place
    return any(path.startswith(t.rstrip("/") + "/") for t in temps)


def reach_out_problem(entry: Mapping[str, Any], shipped: Collection[str] = ()) -> str:
    """The library that reached out, and the fix: pre-load its files, or (already shipped) stop asking."""
    library = entry["library"]
    via = f" (via {entry['via']})" if entry.get("via") else ""
    target = f"{entry['host']}:{entry['port']}" if entry.get("port") is not None else entry["host"]
    if library in shipped:
        return (
            f"{library}{via} reached out to {target} at run time although its files are shipped: the "
            f"code downloads unconditionally at load; load the shipped files (download only when they are "
            f"missing), so a cold start never waits for a network Lambda does not give it"
        )
    cache = caches.by_library(library)
    how = cache.preload if cache and cache.preload else "load it once in the snapshot command"
    return f"{library}{via} reached out to {target} at run time: pre-load it: {how}"


def shipped_libraries(report: Mapping[str, Any] | None) -> set[str]:
    return {f["library"] for f in (report or {}).get("files", []) if f.get("shipped")}


def failed_problem(result: sandbox.StepResult, log: Path, report: Mapping[str, Any] | None) -> str:
    tail = "\n".join(f"    {line}" for line in result.tail[-10:])
    hints = [f"{r.library}: {r.detail}: {r.fix}" for r in refusals.find(result.tail)]
    cause = refusals.root_cause(result.tail)
    for entry in (report or {}).get("network", []):
        hints.append(reach_out_problem(entry).replace("at run time", "during the snapshot"))
    for flag in (report or {}).get("flags", []):
        if flag["kind"] in {"outside_cache_root", "unknown_library"}:
            hints.append(f"{flag.get('library', 'unknown')}: {flag['fix']}")
    hint = (
        ("\n  what the snapshot saw:\n" + "\n".join(f"    - {h}" for h in dict.fromkeys(hints)))
        if hints
        else ""
    )
    because = f": {cause}" if cause else ""
    return (
        f"`{shlex.join(result.argv)}` exited with status {result.returncode} offline with only the shipped "
        f"files{because} (full output: {log}); its last lines:\n{tail}{hint}"
    )


def raise_if_failed(result: Mapping[str, Any]) -> None:
    if not result["passed"]:
        raise VerifyFailed(
            "the pipeline does not run from the shipped files alone:\n"
            + "\n".join(f"  - {p}" for p in result["problems"])
        )


# ---------------------------------------------------------------------------------------------- output


def print_summary(report: Mapping[str, Any], console: Console) -> None:
    """One table per library with sizes, then the flags with their fixes, the hosts, the tarball."""
    libraries: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for record in report["files"]:
        libraries[record["library"]].append(record)
    table = Table(title="files the command left behind", title_justify="left")
    for column in ("library", "files", "size", "where", "variable", "shipped"):
        table.add_column(column, justify="right" if column in {"files", "size"} else "left")
    for library, group in sorted(libraries.items(), key=lambda kv: -sum(r["bytes"] for r in kv[1])):
        shipped = sum(1 for r in group if r["shipped"])
        where = ", ".join(sorted({display_path(r["root"], "").rstrip("/") or "/" for r in group}))
        table.add_row(
            library,
            str(len(group)),
            human_bytes(sum(r["bytes"] for r in group)),
            where,
            ", ".join(sorted({r["env_var"] or "-" for r in group})),
            "all" if shipped == len(group) else f"{shipped}/{len(group)}",
        )
    console.print(table)
    if report["network"]:
        hosts = Table(title="network activity", title_justify="left")
        for column in ("host", "port", "library", "via", "kind", "count"):
            hosts.add_column(column)
        for entry in report["network"]:
            hosts.add_row(
                entry["host"],
                str(entry["port"]),
                entry["library"],
                entry["via"] or "-",
                entry["kind"],
                str(entry["count"]),
            )
        console.print(hosts)
    for flag in report["flags"]:
        subject = flag.get("path") or ", ".join(flag.get("paths", []))
        console.print(
            f"[yellow]{flag['kind']}[/] {flag.get('library', '')}: {subject}\n    fix: {flag['fix']}",
            highlight=False,
        )
    if report.get("tarball"):
        tar = report["tarball"]
        console.print(
            f"[bold]{tar['path']}[/]: {tar['files']} files, {human_bytes(tar['bytes'])}, "
            f"sha256 {tar['sha256']} (command {report['seconds']:.1f} s)",
            highlight=False,
        )
    elif report.get("assets") == NO_ASSETS:
        console.print(nothing_to_ship(report), highlight=False)


def print_verify(result: Mapping[str, Any], console: Console) -> None:
    if result["passed"]:
        console.print(
            f"[green]verify passed[/]: offline, read-only, no connection attempt "
            f"({result['seconds']:.1f} s; {result['isolation']})",
            highlight=False,
        )


# ---------------------------------------------------------------------------------------------- CLI


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?B?)\s*", text.upper())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 10GB, 500MB, 1048576)")
    return int(float(match.group(1)) * SIZE_UNITS[match.group(2)])


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lambdakit snapshot",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        usage="%(prog)s [-h] [--output DIR] [--max-size SIZE] [--no-verify | --verify] [--keep] "
        "[--python PATH] [--prepare-python PATH] [-- COMMAND ...]",
    )
    parser.add_argument("--output", type=Path, default=build_dir() / "assets", help="default: build/assets")
    parser.add_argument(
        "--max-size",
        type=parse_size,
        default=tarball.DEFAULT_MAX_BYTES,
        help="largest tarball allowed (default 10GB; K/M/G/T are powers of 1000)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--no-verify", dest="verify", action="store_false", help="skip the offline rerun")
    mode.add_argument(
        "--verify",
        dest="verify_only",
        action="store_true",
        help="only verify the existing tarball (no new snapshot)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the sandbox (HOME, cache root, TMPDIR)")
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="the interpreter of the function's environment, which runs the events (default: this one)",
    )
    parser.add_argument(
        "--prepare-python",
        help="the interpreter of the prepare hook's environment (default: --python)",
    )
    parser.add_argument(
        "command", nargs=argparse.REMAINDER, help="after --: the command (default: the pipeline)"
    )
    return parser


def options_from(args: argparse.Namespace) -> Options:
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if command and command[0].startswith("-"):
        raise ConfigError(f"unknown option {command[0]!r}; put the command after `--`")
    project = config.load()
    code_assets = tuple(config.code_asset_files(project))
    if command:
        return Options(
            (tuple(command),),
            Path.cwd(),
            args.output.resolve(),
            args.max_size,
            args.verify,
            args.keep,
            code_assets=code_assets,
        )
    return Options(
        default_commands(project, python=args.python),
        REPO_ROOT,
        args.output.resolve(),
        args.max_size,
        args.verify,
        args.keep,
        prepare=prepare_commands(project, args.prepare_python or args.python),
        code_assets=code_assets,
    )


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def cli(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    options = options_from(args)
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
    reaper.die_with_parent()  # a nox session killed by SIGKILL takes the snapshot with it
    for stop in (signal.SIGTERM, signal.SIGHUP):  # unwind, so every step and work folder is cleaned up
        signal.signal(stop, _interrupted)
    if args.verify_only:
        outputs.start(options.output)
        previous = json.loads(options.report.read_text()) if options.report.is_file() else None
        if previous and not args.command:
            options = replace(options, commands=tuple(tuple(c) for c in previous["command"]))
        no_assets = bool(previous and previous.get("assets") == NO_ASSETS)
        result = verify(options, console, previous, no_assets=no_assets)
        if previous is not None:
            outputs.update_report(options.output, {**previous, "verify": result})
        print_verify(result, console)
        raise_if_failed(result)
        return 0
    report = snapshot(options, console)
    if report["verify"]:
        print_verify(report["verify"], console)
    return 0
