"""The target: Lambda's rules in one place, and the function's settings on them, read from template.yaml."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from lambdakit.config import template
from lambdakit.config.target import LAMBDA, SNAPSTART_ON, Concurrency, Target
from lambdakit.core import config as project_config
from lambdakit.core.errors import ConfigError
from lambdakit.perf import pricing
from tests.unit.config.test_template import image_function, write

DEFAULTS = project_config.ProjectConfig()  # no pyproject.toml beside these templates: the defaults


def test_lambdas_rules_as_aws_documents_them() -> None:
    assert LAMBDA.ranges == {
        "Timeout": (1, 900),
        "MemorySize": (128, 10240),
        "EphemeralStorage": (512, 10240),
    }
    assert (LAMBDA.mb_per_vcpu, LAMBDA.init_limit_s, LAMBDA.max_timeout_s) == (1769, 10.0, 900)
    assert LAMBDA.payload_bytes == 6 * 2**20 and LAMBDA.image_bytes == 10 * 1000**3
    # arm64 (Graviton) is 20 % cheaper per GB-second
    assert LAMBDA.price_per_gb_second["arm64"] == pytest.approx(
        0.8 * LAMBDA.price_per_gb_second["x86_64"], rel=1e-5
    )


def test_the_template_and_the_project_make_the_target(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        image_function(
            "MemorySize: 1024",
            "SnapStart: {ApplyOn: PublishedVersions}",
            "ReservedConcurrentExecutions: 5",
        ),
    )
    target = template.load(path, project=project_config.ProjectConfig(python="3.12")).target
    assert (target.memory_mb, target.python, target.snapstart) == (1024, "3.12", SNAPSTART_ON)
    assert target.concurrency == Concurrency(reserved=5, provisioned=None)
    # SnapStart inits ahead of any request: not under the on-demand 10 s
    assert not target.on_demand and target.init_limit_s == LAMBDA.prepared_init_limit_s


@pytest.mark.parametrize(
    ("properties", "problem"),
    [
        (
            ("ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 2}",),
            "provisioned concurrency",
        ),
        (("FileSystemConfigs: [{Arn: a, LocalMountPath: /mnt/efs}]",), "an EFS file system"),
        (("EphemeralStorage: {Size: 1024}",), "EphemeralStorage over 512 MB"),
    ],
)
def test_snapstart_refuses_what_lambda_refuses_with_it(
    tmp_path: Path, properties: tuple[str, ...], problem: str
) -> None:
    path = write(tmp_path, image_function("SnapStart: {ApplyOn: PublishedVersions}", *properties))
    with pytest.raises(ConfigError, match=f"SnapStart cannot be used with {problem}"):
        template.load(path, project=DEFAULTS)


def test_an_on_demand_target_has_the_10_s_init_limit_and_provisioned_ones_do_not() -> None:
    on_demand = Target(memory_mb=512, timeout_s=3, ephemeral_mb=512)
    provisioned = dataclasses.replace(on_demand, concurrency=Concurrency(provisioned=1))
    assert on_demand.on_demand and on_demand.init_limit_s == 10.0
    assert not provisioned.on_demand and provisioned.init_limit_s == 130.0
    assert dataclasses.replace(provisioned, timeout_s=600).init_limit_s == 600.0  # Timeout when higher


def test_prices_come_from_the_targets_rules() -> None:
    doubled = dataclasses.replace(
        LAMBDA, price_per_gb_second={"x86_64": 2 * LAMBDA.price_per_gb_second["x86_64"]}
    )
    base = pricing.cost_per_million(1024, 1000.0) - LAMBDA.price_per_million_requests
    assert pricing.cost_per_million(1024, 1000.0, rules=doubled) - 0.20 == pytest.approx(2 * base)
    assert Target(memory_mb=1024, timeout_s=3, ephemeral_mb=512).price_per_gb_second == 0.0000166667


def test_the_projects_snapstart_key_turns_it_on_and_meets_the_same_refusals(tmp_path: Path) -> None:
    on = project_config.ProjectConfig(snapstart=True)  # [tool.lambdakit] snapstart = true
    assert template.load(write(tmp_path, image_function()), project=on).target.snapstart_on
    with pytest.raises(ConfigError) as refused:
        template.load(
            write(tmp_path, image_function("EphemeralStorage: {Size: 1024}")),
            project=on,
        )
    assert "SnapStart cannot be used with EphemeralStorage over 512 MB" in str(refused.value)
    assert "\n" not in str(refused.value)  # one line: the CLI prints it as `error: ...`, no traceback
    with pytest.raises(ConfigError, match=r"snapstart = true but the function sets SnapStart .*keep one"):
        template.load(
            write(tmp_path, image_function("SnapStart: {ApplyOn: None}")),
            project=on,
        )


def test_snapstart_is_off_unless_the_template_or_the_project_says_so(tmp_path: Path) -> None:
    target = template.load(write(tmp_path, image_function()), project=DEFAULTS).target
    assert not target.snapstart_on and target.on_demand


def test_snapstarts_prices_name_their_source() -> None:
    assert LAMBDA.snapstart_cache_per_gb_second == pytest.approx(0.0000015046)
    assert LAMBDA.snapstart_restore_per_gb == pytest.approx(0.0001397998)
    assert LAMBDA.snapstart_min_cache_hours == 3
    assert "aws.amazon.com/lambda/pricing" in LAMBDA.snapstart_prices_source
