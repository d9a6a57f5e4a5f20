"""`python -m lambdakit tune`'s arguments: the MemorySize list; an emulated build is refused before timing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lambdakit.commands import tune
from lambdakit.config import template
from lambdakit.core.config import ProjectConfig
from lambdakit.core.errors import ConfigError
from lambdakit.images import emulation
from tests.unit.core.test_runtimes import foreign_architecture


def test_memory_list_is_parsed_sorted_and_checked() -> None:
    assert tune.memory_sizes("3008, 512,1024,512") == [512, 1024, 3008]
    with pytest.raises(ConfigError, match="comma-separated"):
        tune.memory_sizes("512,lots")
    with pytest.raises(ConfigError, match="MemorySize must be between"):
        tune.memory_sizes("64")


def test_tune_refuses_to_time_an_emulated_build(tmp_path: Path) -> None:
    foreign, _ = foreign_architecture()
    shipped = template.TEMPLATE.read_text(encoding="utf-8")
    foreign_template = tmp_path / "template.yaml"
    foreign_template.write_text(
        re.sub(r"(Architectures:\s*\n\s*- )\w+", rf"\g<1>{foreign}", shipped), encoding="utf-8"
    )
    assert template.load(foreign_template, project=ProjectConfig()).target.architecture == foreign
    with pytest.raises(ConfigError, match=r"only under QEMU emulation: its times are not Lambda's"):
        tune.cli(["--template", str(foreign_template)])
    emulation.require_native(emulation.host_architecture(), "anything")  # the host's own is timed
