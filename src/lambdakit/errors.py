"""The kit's typed errors: each message states the problem and the fix, in one line."""

from __future__ import annotations


class KitError(Exception):
    """Base of every error the CLI and nox show as one line, without a traceback."""


class ToolMissing(KitError):
    """A command-line tool the step needs is not on PATH."""


class CommandFailed(KitError):
    """An external command exited non-zero; the message carries its last lines."""


class DockerUnavailable(KitError):
    """No Docker engine answers."""


class ConfigError(KitError):
    """A setting, file or argument of the project is wrong."""
