"""The offline re-run: the command again with only the tarball's files (checked against its manifest and
the report first), without network, read-only but for /tmp; whatever still reaches out or writes, and why a
failed run failed."""

from __future__ import annotations

import errno
import os
import shlex
import tempfile
import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from lambdakit.core.errors import ConfigError, DiskFull, VerifyFailed
from lambdakit.core.settings import IMAGE_CACHE_ROOT
from lambdakit.snapshot import caches, integrity, netaudit, outputs, refusals, sandbox, tarball
from lambdakit.snapshot.options import Options
from lambdakit.snapshot.report import network_summary
from lambdakit.snapshot.steps import open_log, run_commands


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
        with open_log(log_path or options.output / outputs.LOG_NAME, "a") as log:
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
        problems.append(failed_problem(last, options.output / outputs.LOG_NAME, report))
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
