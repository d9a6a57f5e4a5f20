"""`python -m lambdakit build` (`nox -s build`): stage the function's build context, then `sam build`.

How: images/build.py. The project's settings and template.yaml are read here, once, and passed down; the
base image is inspected once (`platform.inspect`) for the checks, the deps' bytecode and the layer table.
"""

from __future__ import annotations

import argparse

from lambdakit import console
from lambdakit.config import template
from lambdakit.core import config
from lambdakit.core.settings import BASE_IMAGE_ENV
from lambdakit.images import build, platform, sizes, staging


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m lambdakit build", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--base-image", default=None, help=f"default: ${BASE_IMAGE_ENV}, else AWS's of the project's python"
    )
    parser.add_argument("--asset-image", default=None, help="default: <project>-assets at its content tag")
    parser.add_argument("--stage-only", action="store_true", help="write build/function/ and stop")
    args, extra = parser.parse_known_args(argv)
    project = config.load()
    tpl = template.load(project=project)
    if args.stage_only:
        wheels = platform.documented_platform(project.runtime, tpl.target.architecture)
        staged = staging.stage(staging.context_dir(tpl), wheels, project)
        print(f"staged {staged.context} (deps {staged.deps_digest[:12]}, code {staged.code_digest[:12]})")
        return 0
    inputs = build.resolve_inputs(project, tpl, args.base_image, args.asset_image)
    base = platform.inspect(inputs.base_image)
    tag = build.build(project, tpl, inputs, base, extra)
    if not base.present:  # Docker pulled it during the build: its layers are known only now
        base = platform.inspect(inputs.base_image)
    rows = build.layer_table(tag, base)
    show_layers(tag, inputs, rows)
    sizes.show(
        sizes.survey(staging.context_dir(tpl) / "deps" / staging.TASK_ROOT, rows)
    )  # per package, GPU advice
    return 0


def show_layers(tag: str, inputs: build.BuildInputs, rows: list[tuple[str, str, int]]) -> None:
    print(f"\nfunction image {tag} ({inputs.describe()}):")
    for role, digest, size in rows:
        print(f"  {role:<8} {digest}  {console.human_bytes(size):>9}")
    above = sum(size for role, _, size in rows if role != "base")
    total = sum(size for *_, size in rows)
    print(f"  total {console.human_bytes(total)}, above the base {console.human_bytes(above)}")
