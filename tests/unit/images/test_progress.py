"""Long image steps show how far they are: debootstrap per package and stage, pip per package, on one bar
each that a log file (CI, nox without a terminal) receives as one finished line."""

from __future__ import annotations

import io
import logging
import os
import zipfile
from pathlib import Path

import pytest

from lambdakit import console
from lambdakit.images import baseimage, hostinstall, sam

# As debootstrap 1.0.141 printed them for `--variant=minbase --include=python3,ca-certificates trixie`.
DEBOOTSTRAP_LINES = """\
I: Retrieving InRelease
I: Checking Release signature
I: Retrieving Packages
I: Resolving dependencies of base packages...
I: Retrieving base-files 13.8+deb13u8
I: Validating base-files 13.8+deb13u8
I: Retrieving libc6 2.41-12+deb13u5
I: Retrieving python3.13 3.13.5-2+deb13u5
I: Chosen extractor for .deb packages: dpkg-deb
I: Extracting base-files...
I: Extracting libc6...
I: Installing core packages...
I: Unpacking the base system...
I: Unpacking libc6:amd64...
I: Configuring python3.13...
I: Base system installed successfully.
""".splitlines()


def test_debootstrap_shows_each_stage_against_the_packages_it_retrieved() -> None:
    steps = baseimage.DebootstrapSteps("trixie")
    read = [steps.read(line) for line in DEBOOTSTRAP_LINES]
    counted = [step for step in read if step is not None and step[1] is not None]
    assert counted == [
        ("debootstrap trixie: retrieving base-files", 1, None),
        ("debootstrap trixie: retrieving libc6", 2, None),
        ("debootstrap trixie: retrieving python3.13", 3, None),
        ("debootstrap trixie: extracting base-files", 1, 3),
        ("debootstrap trixie: extracting libc6", 2, 3),
        ("debootstrap trixie: unpacking libc6", 1, 3),
        ("debootstrap trixie: configuring python3.13", 1, 3),
    ]
    # every other line of debootstrap's still says what it is doing, without moving the count
    assert read[0] == ("debootstrap trixie: Retrieving InRelease", None, None)
    assert read[12] == ("debootstrap trixie: Unpacking the base system", None, None)
    assert steps.read("W: an unrelated warning") is None


def simple_index(root: Path, names: list[str]) -> str:
    """A PEP 503 index of tiny pure-Python wheels, read by pip over file://."""
    for name in names:
        folder = root / "simple" / name
        folder.mkdir(parents=True)
        wheel = f"{name}-1.0-py3-none-any.whl"
        with zipfile.ZipFile(folder / wheel, "w") as archive:
            archive.writestr(f"{name}/__init__.py", "VALUE = 1\n")
            info = f"{name}-1.0.dist-info"
            archive.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
            archive.writestr(
                f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
            )
            archive.writestr(f"{info}/RECORD", "")
        (folder / "index.html").write_text(f'<a href="{wheel}">{wheel}</a>\n', encoding="utf-8")
    return (root / "simple").as_uri()


def test_pip_installs_show_one_finished_bar_per_install_in_a_log(
    tmp_path: Path,
    console_output: io.StringIO,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # this index alone: no pip configuration of the machine's (other indexes, find-links) takes part
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)
    names = ["lambdakitprobea", "lambdakitprobeb", "lambdakitprobec"]
    index = simple_index(tmp_path / "index", names)
    caplog.set_level(logging.DEBUG, logger="lambdakit")
    platforms = hostinstall.manylinux_platforms("x86_64")
    group = (index, [f"{name}==1.0" for name in names])
    assert hostinstall.install(tmp_path / "deps", [group], tmp_path / "work", platforms, hashes=False)
    assert sorted(p.name for p in (tmp_path / "deps").iterdir() if "dist-info" not in p.name) == names
    shown = console_output.getvalue().splitlines()
    title = f"✓ pip install 3 packages ({hostinstall.HOST.abi}, manylinux_2_17_x86_64)"
    assert len(shown) == 1 and shown[0].startswith(title)
    assert shown[0].split()[-2] == "3/3"  # then the elapsed time
    assert "pip install --target" in caplog.text and "Installing collected packages" in caplog.text


# As `sam build` (SAM CLI 1.170) printed them for the demo's image, shortened; the warning is made up.
SAM_BUILD_LINES = """\
Building codeuri: /work/project runtime: None architecture: x86_64 functions: InferenceFunction
Building image for InferenceFunction function
Warning: a made-up warning that must stay visible
Step 1/3 : ARG BASE_IMAGE=public.ecr.aws/lambda/python:3.13
 ---> Using cache
Step 2/3 : COPY code/ /
 ---> 62e50c2f46ca
Step 3/3 : CMD ["inference.handler.lambda_handler"]
Successfully built 3f1d0c2a9b7e
Successfully tagged inferencefunction:triage

Build Succeeded
[*] Deploy: sam deploy --guided
""".splitlines()


def test_sam_build_shows_the_builders_steps_on_a_bar_and_its_warnings(
    console_output: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="lambdakit")
    with console.progress("sam build inferencefunction:triage") as bar:
        for line in SAM_BUILD_LINES:
            sam.show_build_line(line, bar)
    (shown,) = console_output.getvalue().splitlines()
    assert shown.startswith("✓ sam build inferencefunction:triage ") and shown.split()[-2] == "3/3"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["sam build: Warning: a made-up warning that must stay visible"]
    assert "Build Succeeded" in caplog.text  # SAM's own text: a debug record, not on the screen
