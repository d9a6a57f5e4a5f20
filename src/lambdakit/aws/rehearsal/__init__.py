"""The offline deploy rehearsal: a local AWS stand-in that `deploy` and `invoke` run against for real.

    with Rehearsal.start() as stand_in:      # moto server + docker-registry, both on 127.0.0.1
        ...                                  # os.environ now points boto3 and `sam` at them
                                             # both are stopped, and their containers removed, on every exit

* `motoext`: moto server with the three extensions it needs (SAM transform, ECR endpoint, image invoke).
* `registry`: Debian's `docker-registry`, our config, its storage and push log for the tests (and the bench).
* `servers`: a free loopback port, start, wait until it answers, stop: for both servers.
`lambdakit.aws.rehearse` (`nox -s rehearse`) runs on it: deploy, invoke every sample event, change the code,
redeploy, invoke again.

While a rehearsal runs, `AWS_ENDPOINT_URL` sends every AWS call (boto3 and `sam`) to moto with dummy
credentials; profiles, config files and per-service endpoints of the user are masked, so a rehearsal can
never reach a real account.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lambdakit.aws.rehearsal import registry as registry_mod
from lambdakit.aws.rehearsal import servers
from lambdakit.aws.rehearsal.motoext import CONTAINER_LABEL
from lambdakit.core import settings

MASKED_ENV_PREFIXES = ("AWS_ENDPOINT_URL_",)
MASKED_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


def aws_env(endpoint: str, region: str, workdir: Path) -> dict[str, str]:
    """The variables that send boto3 and `sam` to the stand-in, and nowhere else."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "rehearsal",
        "AWS_SECRET_ACCESS_KEY": "rehearsal",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_CONFIG_FILE": str(workdir / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "SAM_CLI_TELEMETRY": "0",
    }


@dataclass
class Rehearsal:
    """The running stand-in: moto on `endpoint`, the registry on `registry`, and where their logs go."""

    endpoint: str
    registry: str
    region: str
    workdir: Path
    server_id: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)  # moto's
    local_registry: registry_mod.LocalRegistry | None = None

    @property
    def moto_log(self) -> Path:
        return self.workdir / "moto.log"

    def layer_blobs(self, repository: str) -> set[str]:
        return registry_mod.layer_blobs(self.workdir / registry_mod.STORAGE_NAME, repository)

    def upload_count(self, repository: str) -> int:
        log = self.workdir / registry_mod.LOG_NAME
        return registry_mod.upload_count(log.read_text(errors="replace"), repository)

    @classmethod
    @contextlib.contextmanager
    def start(cls, region: str = settings.LOCAL_REGION, workdir: Path | None = None) -> Iterator[Rehearsal]:
        """Start both servers, point this process's environment at them, and undo all of it on exit."""
        with contextlib.ExitStack() as stack:
            if workdir is None:
                workdir = Path(
                    stack.enter_context(tempfile.TemporaryDirectory(prefix="lambdakit-rehearsal-"))
                )
            moto_port, registry_port = servers.free_port(), servers.free_port()
            stand_in = cls(
                endpoint=f"http://localhost:{moto_port}",  # moto finds template buckets only via "localhost"
                registry=f"127.0.0.1:{registry_port}",
                region=region,
                workdir=workdir,
                server_id=uuid.uuid4().hex[:12],
            )
            stack.callback(stand_in.stop)
            stand_in.local_registry = registry_mod.LocalRegistry.start(workdir, registry_port)
            stand_in._start_moto(moto_port)
            stack.enter_context(patched_environ(aws_env(stand_in.endpoint, region, workdir)))
            yield stand_in

    def _start_moto(self, port: int) -> None:
        argv = [sys.executable, "-m", "lambdakit.aws.rehearsal.motoext", "--port", str(port)]
        argv += ["--registry", self.registry, "--server-id", self.server_id]
        env = os.environ | {"AWS_DEFAULT_REGION": self.region, "PYTHONPATH": _src_path()}
        self.processes.append(servers.spawn(argv, self.moto_log, env=env))
        servers.wait_http(
            self.processes[-1], f"http://127.0.0.1:{port}/moto-api/", "moto server", self.moto_log
        )

    def stop(self) -> None:
        """Stop the servers we started (by pid, moto first) and remove the containers moto started."""
        for process in reversed(self.processes):
            servers.stop(process)
        self.processes.clear()
        if self.local_registry is not None:
            self.local_registry.stop()
        remove_containers(self.server_id)


def remove_containers(server_id: str) -> None:
    """Containers a moto server left behind (killed before it could clean up), found by their label."""
    from lambdakit.core.errors import KitError
    from lambdakit.images import engine

    try:
        engine.remove_labelled(f"{CONTAINER_LABEL}={server_id}")
    except KitError as exc:  # no engine, nothing to clean: a rehearsal that failed earlier already says why
        print(f"rehearsal: could not list leftover containers: {exc}", file=sys.stderr)


@contextlib.contextmanager
def patched_environ(values: dict[str, str]) -> Iterator[None]:
    """Set `values` (and mask the user's AWS profile and endpoints) in os.environ; restore it after."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name in MASKED_ENV or name.startswith(MASKED_ENV_PREFIXES):
            del os.environ[name]
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _src_path() -> str:
    src = str(Path(__file__).resolve().parents[3])
    return os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))
