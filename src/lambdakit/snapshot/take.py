"""Taking a snapshot: run the steps in a fresh sandbox, scan what they left, refuse a failed run or a
secret, write the tarball (with the committed code assets), verify, then put the report, the log and the
tarball in place together."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from lambdakit.core import config
from lambdakit.core.errors import KitError, SecretInAssets
from lambdakit.core.settings import IMAGE_CACHE_ROOT, REPO_ROOT, make_cache_dirs
from lambdakit.snapshot import netaudit, outputs, sandbox, tarball
from lambdakit.snapshot.options import Options
from lambdakit.snapshot.records import RUN_TIME_TOKENS, SECRET_REFUSED, FileRecord
from lambdakit.snapshot.report import build_report, tarball_entry
from lambdakit.snapshot.scan import scan
from lambdakit.snapshot.steps import failure, open_log, run_commands
from lambdakit.snapshot.summary import print_summary
from lambdakit.snapshot.verify import raise_if_failed, verify


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
        log = staged / outputs.LOG_NAME
        report, results, records, members = record(options, box.create(), console, log)
        try:
            refused = refusal(options, results, records, members, report, log)
            if refused is not None:
                raise refused
            members = [*members, *code_asset_members(options, report)]
            written = (
                tarball.write(members, IMAGE_CACHE_ROOT, staged / outputs.TARBALL_NAME, options.max_bytes)
                if members
                else None
            )
        except KitError:
            commit(options, staged, report)
            raise
        # nothing to ship is a result: the report says so, and the commit removes an older tarball with it
        report["assets"] = "tarball" if written else outputs.NO_ASSETS
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
    with open_log(log_path, "w") as log:
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
        final = options.output / outputs.LOG_NAME
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


def commit(options: Options, staged: Path, report: Mapping[str, Any]) -> None:
    """The report, the log and the tarball (the staged one, or none) replace the previous ones together."""
    outputs.write_report(staged / outputs.REPORT_NAME, report)
    outputs.commit(options.output, staged, (outputs.TARBALL_NAME, outputs.REPORT_NAME, outputs.LOG_NAME))
