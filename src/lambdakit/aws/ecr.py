"""The account's ECR: the project's repositories (scan on push, immutable tags) and the registry login."""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import ClientError

from lambdakit.aws.errors import aws_error
from lambdakit.core.errors import DeployFailed
from lambdakit.images import push
from lambdakit.images.push import Registry, registry_from_token

log = logging.getLogger(__name__)


def ensure_repository(ecr: Any, name: str) -> None:
    """Create the repository (scan on push, immutable tags), or bring an existing one to those settings."""
    try:
        ecr.create_repository(
            repositoryName=name,
            imageTagMutability="IMMUTABLE",
            imageScanningConfiguration={"scanOnPush": True},
        )
        log.info("created ECR repository %s (scan on push, immutable tags)", name)
        return
    except ecr.exceptions.RepositoryAlreadyExistsException:
        pass
    except ClientError as exc:
        raise DeployFailed(f"cannot create ECR repository {name}: {aws_error(exc)}") from exc
    try:
        current = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
        if current.get("imageTagMutability") != "IMMUTABLE":
            ecr.put_image_tag_mutability(repositoryName=name, imageTagMutability="IMMUTABLE")
        if not current.get("imageScanningConfiguration", {}).get("scanOnPush"):
            ecr.put_image_scanning_configuration(
                repositoryName=name, imageScanningConfiguration={"scanOnPush": True}
            )
    except ClientError as exc:
        raise DeployFailed(f"cannot configure ECR repository {name}: {aws_error(exc)}") from exc


def login(ecr: Any) -> Registry:
    """GetAuthorizationToken, then `docker login` to the registry it names (the token lasts 12 hours)."""
    try:
        data = ecr.get_authorization_token()["authorizationData"][0]
    except ClientError as exc:
        raise DeployFailed(f"ECR GetAuthorizationToken failed: {aws_error(exc)}") from exc
    registry = registry_from_token(data)
    push.login(str(data["proxyEndpoint"]), registry.username, registry.password)
    return registry
