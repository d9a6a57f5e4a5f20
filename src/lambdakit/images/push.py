"""Pushing an image to a registry — the account's ECR or a loopback one — with the bytes sent on a bar.

The one push of the kit: `deploy` pushes to ECR with the credentials of `GetAuthorizationToken`, the bench
measures what a push costs against a local registry. Docker's push stream says, per layer, how many bytes
went up or that the layer was already there; `PushReport` keeps both, and the manifest digest.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lambdakit import console
from lambdakit.core.errors import ImageMissing, PushFailed
from lambdakit.images import engine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Registry:
    """A registry as Docker sees it: host (no scheme) and the credentials for pushes and pulls."""

    host: str
    username: str
    password: str

    @property
    def auth_config(self) -> dict[str, str]:
        return {"username": self.username, "password": self.password}


def registry_from_token(authorization_data: Mapping[str, Any]) -> Registry:
    """ECR's GetAuthorizationToken answer (base64 `user:password`, proxy endpoint) as a `Registry`."""
    username, _, password = base64.b64decode(authorization_data["authorizationToken"]).decode().partition(":")
    host = str(authorization_data["proxyEndpoint"]).split("://", 1)[-1].rstrip("/")
    return Registry(host=host, username=username, password=password)


def ecr_pull_auth(region: str) -> dict[str, str]:
    """Credentials to pull from the caller's ECR in REGION (a token from their AWS credentials); the images
    room needs them to pull a pinned asset image, without the deploy machinery of `lambdakit.aws`."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        data = (
            boto3.Session(region_name=region).client("ecr").get_authorization_token()["authorizationData"][0]
        )
    except (BotoCoreError, ClientError) as exc:
        raise ImageMissing(f"no ECR credentials for {region} ({exc}); configure AWS credentials") from exc
    return registry_from_token(data).auth_config


@dataclass
class PushReport:
    """What one push did: the remote reference, its digest, and which layers went up or were already there."""

    image: str
    digest: str = ""
    skipped: bool = False  # the tag was already in the registry: nothing sent
    pushed: dict[str, int] = field(default_factory=dict)  # layer id -> bytes sent
    existing: set[str] = field(default_factory=set)

    @property
    def pushed_bytes(self) -> int:
        return sum(self.pushed.values())

    def summary(self) -> str:
        if self.skipped:
            return f"{self.image}: already in the registry, push skipped"
        return (
            f"{self.image}: pushed {len(self.pushed)} layer(s), {console.human_bytes(self.pushed_bytes)}; "
            f"{len(self.existing)} layer(s) already there"
        )


def remote_digest(reference: str, auth: Mapping[str, str] | None = None) -> str | None:
    """The manifest digest the registry holds for REFERENCE, or None when it has no such tag."""
    return engine.registry_digest(reference, auth)


def login(registry: str, username: str, password: str) -> None:
    """`docker login` for the pushes of this process (the engine keeps the credentials per registry)."""
    engine.registry_login(registry, username, password)


def push(
    local_image: str,
    remote: str,
    tag: str,
    auth: Mapping[str, str] | None = None,
    skip_existing: bool = False,
) -> PushReport:
    """Push LOCAL_IMAGE as REMOTE:TAG (REMOTE = registry/repository) and report what went up.

    `skip_existing` asks the registry first and sends nothing when it already has the tag (immutable tags:
    the same content tag is the same image). The remote tag is removed locally afterwards.
    """
    report = PushReport(image=f"{remote}:{tag}")
    if skip_existing and (existing := remote_digest(report.image, auth)) is not None:
        report.digest, report.skipped = existing, True
        return report
    with (
        engine.pushing(local_image, remote, tag, auth) as stream,
        console.progress(f"push {report.image}", unit="bytes") as bar,
    ):
        fold(stream, report, bar)
    if not report.digest:
        raise PushFailed(f"pushing {report.image} ended without a digest; check the registry and retry")
    log.info(report.summary())
    return report


def fold(
    chunks: Iterable[Mapping[str, Any]], report: PushReport, bar: console.Bar | None = None
) -> PushReport:
    """Fold Docker's push stream into REPORT (bytes per pushed layer, layers already there, the digest),
    moving BAR by the bytes sent so far over the bytes known to be going up."""
    sent: dict[str, int] = {}
    sizes: dict[str, int] = {}
    for chunk in chunks:
        if "error" in chunk:
            raise PushFailed(f"pushing {report.image} failed: {chunk['error']}")
        layer, status = str(chunk.get("id", "")), str(chunk.get("status", ""))
        detail = chunk.get("progressDetail") or {}
        if status == "Pushing":
            sent[layer] = max(sent.get(layer, 0), int(detail.get("current", 0)))
            sizes[layer] = max(sizes.get(layer, 0), int(detail.get("total", 0) or 0), sent[layer])
        elif status == "Pushed":
            report.pushed[layer] = sent.get(layer, 0)
        elif status == "Layer already exists" or status.startswith("Mounted from"):
            report.existing.add(layer)
        if "Digest" in (chunk.get("aux") or {}):
            report.digest = str(chunk["aux"]["Digest"])
        if bar is not None and sizes:
            bar.update(completed=sum(sent.values()), total=sum(sizes.values()))
    return report
