"""One file the command left behind (`FileRecord`): where it is, whose it is, whether it ships and why not."""

from __future__ import annotations

from dataclasses import dataclass

from lambdakit.core.settings import IMAGE_CACHE_ROOT
from lambdakit.snapshot.caches import Root

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
