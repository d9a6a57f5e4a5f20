"""report.json's content: the files with their libraries, the network activity grouped by host, the flags
(what needs a decision, each with its fix), the tarball's entry."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from lambdakit.core.settings import IMAGE_CACHE_ROOT
from lambdakit.snapshot import caches, netaudit, outputs, tarball
from lambdakit.snapshot.caches import Root
from lambdakit.snapshot.options import Options
from lambdakit.snapshot.records import RUN_TIME_TOKENS, SECRET_REFUSED, FileRecord


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
                    else "shipped, but no library of the registry claims it: add an entry to "
                    "lambdakit/core/libraries.py so it is attributed (modules, cache folders, variables)",
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
        "schema": outputs.REPORT_SCHEMA,
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


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
