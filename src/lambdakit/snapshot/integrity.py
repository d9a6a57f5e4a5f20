"""Whether a tarball may ship: whole per its own manifest, and the one the last snapshot's report describes.

`report.json` records every shipped file's sha256 and the tarball's; the tarball carries the same digests as
its manifest (`/cache/SHA256SUMS`). A tarball is trusted only when all three agree.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lambdakit.core.errors import TarballRejected
from lambdakit.core.settings import IMAGE_CACHE_ROOT
from lambdakit.snapshot import outputs, tarball

RERUN = "run `nox -s snapshot` again"
MANIFEST = f"{IMAGE_CACHE_ROOT}/{tarball.MANIFEST_NAME}"


def shipped_digests(report: Mapping[str, Any]) -> dict[str, str]:
    """path below the cache root -> sha256 of every file the report says shipped."""
    return {
        f["path"]: f["sha256"]
        for f in report.get("files", [])
        if f.get("shipped") and f.get("root") == "cache" and f.get("sha256")
    }


def inspect(path: Path, report: Mapping[str, Any] | None) -> tuple[str, list[str]]:
    """The tarball's sha256, and what is wrong with it: not a tarball, no file, no manifest, bytes that differ
    from its manifest or from REPORT (a snapshot report, when given). No problem: it can be trusted."""
    try:
        contents = tarball.read_contents(path, IMAGE_CACHE_ROOT)
    except (OSError, EOFError, tarfile.TarError) as exc:
        return "", [f"it is not a readable tar archive ({exc})"]
    if not contents.files:
        return contents.sha256, ["it holds no file"]
    if contents.manifest is None:
        return contents.sha256, [f"it has no {MANIFEST}: it was not written by the snapshot"]
    problems = [f"{p} (per its {MANIFEST}: damaged)" for p in tarball.mismatches(contents, contents.manifest)]
    recorded = str(((report or {}).get("tarball") or {}).get("sha256"))
    if report is not None and contents.sha256 != recorded:
        changed = tarball.mismatches(contents, shipped_digests(report))
        problems += [f"{p} (per the report: changed since the snapshot)" for p in changed]
        problems.append(f"its sha256 is {contents.sha256[:12]}…, the report's {recorded[:12]}…")
    return contents.sha256, list(dict.fromkeys(problems))


def last_report(path: Path) -> dict[str, Any]:
    """The report of the last snapshot that wrote a tarball and passed its verify (or skipped it)."""
    if not path.is_file():
        raise TarballRejected(
            f"there is no {path}: only a tarball the snapshot described can ship; {RERUN} (or pass --report)"
        )
    report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if report.get("schema") != outputs.REPORT_SCHEMA:
        raise TarballRejected(
            f"{path} was written by another version of the kit (schema {report.get('schema')}, this one "
            f"reads {outputs.REPORT_SCHEMA}): {RERUN}"
        )
    if not report.get("tarball"):
        raise TarballRejected(
            f"the last snapshot did not finish ({path} lists no tarball): fix what it reported, then {RERUN}"
        )
    verify = report.get("verify")
    if verify is not None and not verify.get("passed"):
        first = next(iter(verify.get("problems") or []), "see the report").splitlines()[0]
        raise TarballRejected(
            f"the last snapshot's verify failed ({first}): fix it, then {RERUN} "
            "(`-- --no-verify` ships without the offline check)"
        )
    return report


def check_tarball(path: Path, report: Path | None) -> str:
    """The tarball's sha256 once it is found whole and as the last snapshot's REPORT (if given) describes it;
    otherwise `TarballRejected` naming what is wrong."""
    outputs.settle(path.parent)
    if not path.is_file():
        raise TarballRejected(
            f"{path} is missing: run `nox -s snapshot` first to record the model files in it"
        )
    if path.stat().st_size == 0:
        raise TarballRejected(f"{path} is empty (0 bytes): {RERUN}")
    sha256, problems = inspect(path, last_report(report) if report is not None else None)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise TarballRejected(f"{path} cannot ship: {problems[0]}{more}; {RERUN}")
    return sha256
