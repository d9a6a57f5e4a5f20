"""The Lambda Python runtime: one setting, the base image and wheels that follow, and the guard rails."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from lambdakit.config.target import Target
from lambdakit.core import config as project_config
from lambdakit.core import runtimes, settings
from lambdakit.core.errors import ConfigError
from lambdakit.images import emulation, platform

DEFAULTS = project_config.ProjectConfig()  # no pyproject.toml beside these templates: the defaults


def project(tmp_path: Path, table: str) -> Path:
    """A project folder of its own per table: the config is read once per folder."""
    folder = tmp_path / hashlib.sha256(table.encode()).hexdigest()[:8]
    folder.mkdir(exist_ok=True)
    (folder / "pyproject.toml").write_text(f"[tool.lambdakit]\n{table}\n", encoding="utf-8")
    return folder


def test_one_setting_picks_the_base_image_and_defaults_to_313(tmp_path: Path) -> None:
    assert project_config.load(project(tmp_path, 'project = "x"')).python == "3.13"
    assert project_config.load(project(tmp_path, 'python = "3.12"')).base_image == (
        "public.ecr.aws/lambda/python:3.12"
    )
    runtime = project_config.load(project(tmp_path, 'python = "3.14"')).runtime
    assert (runtime.abi, runtime.os_name, runtime.glibc) == ("cp314", "Amazon Linux 2023", (2, 34))


@pytest.mark.parametrize("version", ["3.11", "3.10", "3.9", "3"])
def test_runtimes_on_amazon_linux_2_or_unknown_are_refused_with_the_accepted_list(
    tmp_path: Path, version: str
) -> None:
    with pytest.raises(ConfigError, match=r'python = "[\d.]+" .* use one of 3\.12, 3\.13, 3\.14'):
        project_config.load(project(tmp_path, f'python = "{version}"'))


def test_a_version_written_as_a_number_is_refused_with_the_string_form(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r'must be a string, e\.g\. python = "3\.13"'):
        project_config.load(project(tmp_path, "python = 3.13"))


def test_environment_variable_overrides_the_base_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(settings.BASE_IMAGE_ENV, "lambdakit/lambda-python:3.13")
    assert (
        project_config.load(project(tmp_path, 'python = "3.12"')).base_image == "lambdakit/lambda-python:3.13"
    )
    monkeypatch.delenv(settings.BASE_IMAGE_ENV)
    assert (
        project_config.load(project(tmp_path, 'python = "3.12"')).base_image
        == "public.ecr.aws/lambda/python:3.12"
    )


def test_aws_and_stand_in_tags_and_the_stand_in_label_name_their_runtime() -> None:
    assert runtimes.for_image("public.ecr.aws/lambda/python:3.11") is runtimes.RUNTIMES["3.11"]
    dated = "public.ecr.aws/lambda/python:3.13.2026.11.20-arm64"
    assert runtimes.for_image(dated) is runtimes.RUNTIMES["3.13"]
    assert runtimes.for_image("lambdakit/lambda-python:3.13-arm64") is runtimes.RUNTIMES["3.13"]
    assert runtimes.for_image("my/base:1", label="python3.12") is runtimes.RUNTIMES["3.12"]
    assert runtimes.for_image("public.ecr.aws/lambda/python:latest") is None
    assert runtimes.for_image("my/base:1") is None


def test_deprecated_runtimes_warn_with_the_date_and_the_fix() -> None:
    al2 = runtimes.RUNTIMES["3.11"]
    assert al2.deprecated(date(2026, 6, 30)) and not al2.deprecated(date(2026, 6, 29))
    notice = al2.deprecation_notice("public.ecr.aws/lambda/python:3.11")
    assert "python3.11 on Amazon Linux 2" in notice and "2026-06-30" in notice
    assert 'python = "3.13"' in notice and runtimes.TABLE_SOURCE in notice
    assert not runtimes.RUNTIMES["3.13"].deprecated(runtimes.TABLE_DATE)


def test_build_warns_for_a_deprecated_base_known_by_tag_even_when_not_pulled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(platform.engine, "image_attrs", lambda tag: None)
    assert platform.deprecation_notice("public.ecr.aws/lambda/python:3.10", date(2026, 12, 1)) is not None
    assert platform.deprecation_notice("public.ecr.aws/lambda/python:3.13", date(2026, 12, 1)) is None
    assert platform.deprecation_notice("public.ecr.aws/lambda/python:3.13", date(2029, 7, 1)) is not None


def test_wheels_follow_the_real_base_glibc_not_the_stand_ins() -> None:
    # The stand-in (Debian trixie, glibc 2.41) would load manylinux_2_41 wheels; Lambda's AL2023 only 2_34.
    target = platform.documented_platform(runtimes.RUNTIMES["3.13"], "arm64")
    assert target.platforms[0] == "manylinux_2_34_aarch64"
    assert "manylinux_2_35_aarch64" not in target.platforms


def test_foreign_architecture_needs_a_registered_qemu_handler(tmp_path: Path) -> None:
    foreign = "arm64" if emulation.host_architecture() == "x86_64" else "x86_64"
    machine = "aarch64" if foreign == "arm64" else "x86_64"
    with pytest.raises(ConfigError, match=r"sudo bash \.ci/ensure-qemu"):
        emulation.require(foreign, tmp_path)
    (tmp_path / f"qemu-{machine}").write_text("enabled\ninterpreter /usr/bin/qemu\nflags: P\n")
    assert not emulation.registered(foreign, tmp_path)  # without F it cannot run inside containers
    (tmp_path / f"qemu-{machine}").write_text("enabled\ninterpreter /usr/bin/qemu\nflags: PF\n")
    emulation.require(foreign, tmp_path)
    emulation.require(emulation.host_architecture(), tmp_path / "none")  # the host's own needs nothing


def foreign_architecture() -> tuple[str, str]:
    """The architecture this host emulates, and its `uname -m` (the binfmt_misc entry's name)."""
    return ("arm64", "aarch64") if emulation.host_architecture() == "x86_64" else ("x86_64", "x86_64")


def test_an_emulator_known_to_hang_is_refused_with_the_fix(tmp_path: Path) -> None:
    foreign, machine = foreign_architecture()
    qemu = tmp_path / "qemu"
    (tmp_path / f"qemu-{machine}").write_text(f"enabled\ninterpreter {qemu}\nflags: PF\n")
    qemu.write_text(f"#!/bin/sh\necho 'qemu-{machine} version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18)'\n")
    qemu.chmod(0o755)
    emulation.require(foreign, tmp_path)  # builds run on it (no onnxruntime there)
    with pytest.raises(ConfigError, match=r"QEMU 7\.2, which hangs .* `sudo bash \.ci/ensure-qemu`"):
        emulation.require_for_function(foreign, tmp_path)
    qemu.write_text(f"#!/bin/sh\necho 'qemu-{machine} version 10.0.13 (Debian 1:10.0.13+ds-0+deb13u1)'\n")
    emulation.require_for_function(foreign, tmp_path)


def test_an_emulated_run_gets_a_longer_timeout_and_init_limit_and_lambdas_arm64_cpu() -> None:
    foreign, _ = foreign_architecture()
    limits = Target(memory_mb=1769, timeout_s=30, ephemeral_mb=512, architecture=foreign)
    assert emulation.relaxed(limits).timeout_s == 300
    assert emulation.relaxed(limits).init_limit_s == 100  # QEMU's init is ~10x slower too
    native = Target(
        memory_mb=1769, timeout_s=30, ephemeral_mb=512, architecture=emulation.host_architecture()
    )
    assert emulation.relaxed(native) == native
    assert emulation.environment(emulation.host_architecture()) == {}
    if foreign == "arm64":
        assert emulation.environment("arm64") == {"QEMU_CPU": "neoverse-n1"}  # Graviton2, not QEMU's `max`
