"""What a snapshot runs and where: the steps (the project's prepare hook, then every sample event through its
handler, or the caller's command), the output folder, the size limit, verify and keep."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lambdakit.core import config
from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import REPO_ROOT
from lambdakit.snapshot import outputs, tarball


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
        return self.output / outputs.TARBALL_NAME

    @property
    def report(self) -> Path:
        return self.output / outputs.REPORT_NAME


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
