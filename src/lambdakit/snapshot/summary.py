"""What the snapshot prints: one table per library with sizes, the hosts, the flags with their fixes, the
tarball (or that there is nothing to ship), and the verify's verdict."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

from lambdakit.console import human_bytes
from lambdakit.snapshot import outputs
from lambdakit.snapshot.records import display_path


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
    elif report.get("assets") == outputs.NO_ASSETS:
        console.print(nothing_to_ship(report), highlight=False)


def print_verify(result: Mapping[str, Any], console: Console) -> None:
    if result["passed"]:
        console.print(
            f"[green]verify passed[/]: offline, read-only, no connection attempt "
            f"({result['seconds']:.1f} s; {result['isolation']})",
            highlight=False,
        )


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
