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


class BrokenFile(ConfigError):
    """A project file cannot be read as the kit reads it (encoding, syntax, nesting, a key of the wrong type);
    the message names the file, the key and the fix, on one line."""

    def __init__(self, message: str) -> None:
        # one line, whatever a parser's own message held
        super().__init__(" ".join(part.strip() for part in message.splitlines() if part.strip()))


class BrokenEvent(BrokenFile):
    """A sample event is not what Lambda's runtime would accept (one JSON document in UTF-8)."""


class HandlerFailed(KitError):
    """The handler cannot be used: its import raised, or it is not a callable of (event, context)."""


class AwsUnreachable(KitError):
    """An AWS endpoint was not reached, or refused the call before it ran (network, region, credentials)."""


class InvokeFailed(KitError):
    """The Invoke API call itself failed (refused, unreachable, timed out); the function may not have run."""


class InvokePayloadTooLarge(KitError):
    """The request payload exceeds Lambda's 6 MB limit for synchronous invocation; refused before sending."""


class InvocationError(KitError):
    """The function was invoked and its answer is an error; carries the error type, payload and log tail."""

    def __init__(self, message: str, *, error_type: str, payload: object = None, log_tail: str = "") -> None:
        super().__init__(message)
        self.error_type = error_type
        self.payload = payload
        self.log_tail = log_tail


class FunctionFailed(InvocationError):
    """The function raised or crashed (FunctionError, or an `errorType` body from the emulator)."""


class FunctionErrorResponse(InvocationError):
    """The function ran and answered with its own error payload (bad input, or its internal error)."""


class DeployFailed(KitError):
    """A deploy step failed; the message says which, and whether CloudFormation rolled back."""


class RehearsalFailed(KitError):
    """The local AWS stand-in (moto server, registry) could not start or answer."""


class ImageBuildFailed(KitError):
    """`docker build`, `docker import` or `sam build` of an image failed."""


class ImageMissing(KitError):
    """An image the step needs is not in the local engine; the message names the command that builds it."""


class ContainerFailed(KitError):
    """The engine could not start, reach or read a container the kit runs."""


class EmulatorFailed(KitError):
    """The Lambda-faithful container could not start, or its emulator could not be reached."""


class SnapshotCommandNotFound(ToolMissing):
    """The snapshot's COMMAND (its first word) is neither on PATH nor a file."""


class SnapshotCommandFailed(CommandFailed):
    """The snapshot's COMMAND exited non-zero; the message carries its last lines."""


class DiskFull(KitError):
    """The disk filled up while the snapshot ran or wrote its tarball."""


class TarballTooLarge(KitError):
    """The asset tarball would exceed the size limit (Lambda images hold at most 10 GB)."""


class VerifyFailed(KitError):
    """The offline, read-only rerun of the snapshot's COMMAND downloaded, wrote or reached out."""


class TarballRejected(KitError):
    """The asset tarball is empty, or not byte for byte what the last snapshot and its manifest recorded."""


class SecretInAssets(KitError):
    """A file that would ship holds a credential (recognised by its content); the message names the file."""


class PushFailed(KitError):
    """Pushing an image to a registry failed; the message carries the registry's own reason."""


class CheckpointUnavailable(KitError):
    """The engine cannot checkpoint a container (`docker checkpoint`: --experimental, criu, native arch)."""


class CheckpointFailed(KitError):
    """`docker checkpoint create` or `docker start --checkpoint` failed; the message carries criu's error."""
