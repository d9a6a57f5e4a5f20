"""The base image, inspected once, against the runtime and architecture the build inputs carry; what pip
installs for on it."""

from __future__ import annotations

import pytest

from lambdakit.core import runtimes
from lambdakit.core.errors import ConfigError
from lambdakit.images import hostinstall, platform

RUNTIME = runtimes.RUNTIMES["3.13"]


def test_the_deps_are_installed_for_the_runtime_the_inputs_carry_not_the_bases_name() -> None:
    # a base the engine does not have, named by no runtime: the runtime is the build's, not read from the name
    wheels = platform.wheel_platform(platform.BaseImage("mirror.local/anything:1", None), RUNTIME, "x86_64")
    assert wheels.interpreter == hostinstall.Interpreter("3.13", None)
    assert wheels.glibc == (2, 34) and wheels.platforms[0] == "manylinux_2_34_x86_64"


def test_a_base_of_another_runtime_than_the_projects_is_refused_in_one_line() -> None:
    attrs = {"Architecture": "amd64", "Config": {"Labels": {runtimes.RUNTIME_LABEL: "python3.12"}}}
    with pytest.raises(ConfigError, match=r'is the Lambda runtime python3\.12 but .* set python = "3\.12"'):
        platform.check(platform.BaseImage("lambdakit/lambda-python:custom", attrs), RUNTIME, "x86_64")
    with pytest.raises(
        ConfigError, match=r"is an arm64 image but template.yaml's Architectures is \[x86_64\]"
    ):
        platform.check(platform.BaseImage("b:1", {"Architecture": "arm64"}), RUNTIME, "x86_64")
