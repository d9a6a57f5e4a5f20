"""The whole deploy story against the local stand-in, offline and free (`commands/rehearse.py` is
`python -m lambdakit rehearse`, `nox -s rehearse`).

Start moto + the registry, deploy the built images, invoke every sample event, make a code change (a new
code layer on the same dependencies and weights), redeploy, invoke again, and tear everything down. Each step
prints what happened; the servers stop on every exit path. Needs `nox -s build` (and its images) first.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from lambdakit.aws import config as aws_config
from lambdakit.aws import deploy, invoke
from lambdakit.aws.rehearsal import Rehearsal
from lambdakit.config.template import Template
from lambdakit.core import settings
from lambdakit.core.config import ProjectConfig
from lambdakit.core.errors import ConfigError
from lambdakit.core.settings import REPO_ROOT

EVENTS = REPO_ROOT / "events"
SOURCE_DIR = REPO_ROOT / "src"
REVISION_KEY = "revision"
# Appended to a copy of the handler: direct answers then carry `"revision": ...`, so a redeploy is visible.
CHANGE = """

_previous_handler = {function}


def {function}(event, context):  # a rehearsal's code change (no annotations: any module)
    response = _previous_handler(event, context)
    if isinstance(response, dict) and "statusCode" not in response:
        response["{key}"] = "{revision}"
    return response
"""


def changed_source(
    workdir: Path, revision: str, project: ProjectConfig, source_dir: Path = SOURCE_DIR
) -> Path:
    """A copy of the function's source with one code change (the configured handler tags its answers)."""
    from lambdakit.images import staging

    target = workdir / "src"
    shutil.rmtree(target, ignore_errors=True)
    for package in staging.code_packages(source_dir, project):
        shutil.copytree(source_dir / package, target / package, ignore=shutil.ignore_patterns("__pycache__"))
    handler = target.joinpath(*project.handler_module.split(".")).with_suffix(".py")
    if not handler.is_file():  # the handler module is a package's __init__
        handler = target.joinpath(*project.handler_module.split("."), "__init__.py")
    change = CHANGE.replace("{key}", REVISION_KEY).replace("{revision}", revision)
    change = change.replace("{function}", project.handler_function)
    handler.write_text(handler.read_text(encoding="utf-8") + change, encoding="utf-8")
    return target


def build_changed_image(
    project: ProjectConfig,
    tpl: Template,
    tag: str,
    revision: str,
    asset_image: str | None,
    workdir: Path,
    base_image: str,
    built_context: Path | None = None,
) -> str:
    """The function image rebuilt after a code change, with the Dockerfile `nox -s build` uses.

    The change is staged into a copy of the last build's context (same folder name, so the same pip work
    dir): its deps/ stay byte for byte, and only the code layer differs, as after editing src/ and rebuilding.
    """
    from lambdakit.images import build, staging

    inputs = build.resolve_inputs(project, tpl, base=base_image, asset=asset_image)
    built_context = built_context or staging.context_dir(tpl)
    context = workdir / "context" / built_context.name
    shutil.rmtree(context, ignore_errors=True)
    shutil.copytree(built_context, context, symlinks=True)
    staging.stage(
        context=context,
        wheels=build.wheel_platform(inputs),
        project=project,
        source_dir=changed_source(workdir, revision, project),
    )
    return build.build_image(tag, inputs, context=context)


def sample_events(directory: Path = EVENTS) -> list[Path]:
    events = sorted(directory.glob("*.json"))
    if not events:
        raise ConfigError(f"no sample events in {directory}")
    return events


def invoke_all(function: str, events: list[Path]) -> dict[str, object]:
    answers: dict[str, object] = {}
    for path in events:
        result = invoke.invoke(path.read_bytes(), function)
        answers[path.stem] = result.payload
        print(f"  {path.name}: {summary(result.payload)}")
    return answers


def summary(payload: object) -> str:
    if isinstance(payload, dict) and "body" in payload:
        return f"statusCode {payload.get('statusCode')}, body {str(payload['body'])[:90]}"
    if isinstance(payload, dict) and "results" in payload:
        return f"labels {[r.get('label') for r in payload['results']]}"
    if isinstance(payload, dict):
        extra = f", {REVISION_KEY} {payload[REVISION_KEY]}" if REVISION_KEY in payload else ""
        return f"label {payload.get('label')}{extra}"
    return str(payload)[:100]


def rehearse(config: aws_config.AwsConfig, tpl: Template) -> None:
    """Deploy, invoke, change the code, redeploy, invoke again, against the stand-in; the project is
    CONFIG's, the function's build settings and architecture TPL's."""
    project, architecture = config.project, tpl.target.architecture
    with Rehearsal.start(region=config.region or settings.LOCAL_REGION) as stand_in:
        print(f"# stand-in up: moto {stand_in.endpoint}, registry {stand_in.registry} ({stand_in.workdir})")
        first = deploy.deploy(config, architecture)
        deploy.print_report(first)
        print(f"# invoke every sample event ({first.function.invoke_name})")
        invoke_all(first.function.invoke_name, sample_events())
        print("# code change: a new code layer, the same dependencies and weights")
        asset = deploy.local_asset_image(project, architecture)
        asset_image = asset[0] if asset else None
        with tempfile.TemporaryDirectory(prefix="lambdakit-change-") as work:
            tag = f"{project.function_repository}:rehearsal"
            local = build_changed_image(
                project, tpl, tag, "rehearsal-2", asset_image, Path(work), project.base_image
            )
        second = deploy.deploy(config, architecture, function_local=local)
        deploy.print_report(second)
        print("# invoke again: the answers now carry the change")
        invoke_all(second.function.invoke_name, sample_events())
        if asset:
            uploads = stand_in.upload_count(project.assets_repository)
            print(f"# asset blobs uploaded in this rehearsal: {uploads} (the first deploy only)")
        else:
            print("# no asset image: the snapshot found nothing to ship")
    print("# stand-in stopped")
