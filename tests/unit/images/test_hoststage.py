"""debootstrap's second stage by the host's dpkg: the steps it takes, checked without running them."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdakit.core.errors import ConfigError
from lambdakit.images import hoststage

REQUIRED = ["base-files", "base-passwd", "dpkg", "libc6", "mawk", "tar"]
BASE = ["ca-certificates", "python3"]


def first_stage(rootfs: Path) -> hoststage.FirstStage:
    """ROOTFS/debootstrap/ as `debootstrap --foreign` leaves it (its package lists and debpaths)."""
    state = rootfs / "debootstrap"
    state.mkdir(parents=True)
    (state / "required").write_text(" ".join(REQUIRED) + " \n")
    (state / "base").write_text(" ".join(BASE) + " \n")
    (state / "debpaths").write_text(
        "".join(f"{name} /var/cache/apt/archives/{name}_1_arm64.deb\n" for name in REQUIRED + BASE)
    )
    return hoststage.FirstStage.read(rootfs)


def test_first_stage_gives_each_package_its_deb_inside_the_rootfs(tmp_path: Path) -> None:
    stage = first_stage(tmp_path)
    assert stage.required == REQUIRED and stage.base == BASE
    assert stage.paths(["python3"]) == [str(tmp_path / "var/cache/apt/archives/python3_1_arm64.deb")]


def test_a_rootfs_without_first_stage_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"holds no debootstrap first stage .* build the base image again"):
        hoststage.FirstStage.read(tmp_path)


def test_steps_follow_debootstraps_order_with_the_hosts_dpkg_on_the_rootfs(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    steps = hoststage.steps(rootfs, first_stage(rootfs))
    assert [what for what, _ in steps] == [
        "installing base-passwd",
        "installing base-files",
        "installing dpkg",
        "installing libc6",
        "installing mawk",
        "unpacking the required packages",
        "configuring the required packages",
        "unpacking the base packages",
        "configuring the base packages",
    ]
    for _, argv in steps:
        # the rootfs's database and log, never the host's; packages of the rootfs's architecture
        assert argv[:4] == [
            "dpkg",
            f"--root={rootfs}",
            f"--log={rootfs}/var/log/dpkg.log",
            "--force-architecture",
        ]
    unpack_base = dict(steps)["unpacking the base packages"]
    assert unpack_base[-2:] == [str(rootfs / f"var/cache/apt/archives/{name}_1_arm64.deb") for name in BASE]
    assert dict(steps)["configuring the base packages"][-2:] == ["--configure", "-a"]


def test_prepare_and_finish_leave_only_what_debootstrap_leaves(tmp_path: Path) -> None:
    rootfs = tmp_path
    first_stage(rootfs)
    for folder in ("var/lib/dpkg", "etc", "usr/bin", "usr/sbin", "var/cache/apt/archives"):
        (rootfs / folder).mkdir(parents=True, exist_ok=True)
    (rootfs / "var/cache/apt/archives/tar_1_arm64.deb").write_bytes(b"")
    (rootfs / "proc").symlink_to("/proc")  # as the first stage leaves it
    hoststage.prepare(rootfs, "arm64")
    assert (rootfs / "proc").is_dir() and not (rootfs / "proc").is_symlink()
    assert (rootfs / "var/lib/dpkg/arch-native").read_text() == "arm64\n"
    assert (rootfs / "usr/bin/awk").readlink() == Path("mawk")
    assert (rootfs / "etc/localtime").readlink() == Path("/usr/share/zoneinfo/UTC")
    assert (rootfs / hoststage.POLICY_RC).stat().st_mode & 0o777 == 0o755
    hoststage.finish(rootfs)
    assert not (rootfs / hoststage.POLICY_RC).exists() and not (rootfs / "debootstrap").exists()
    assert list((rootfs / "var/cache/apt/archives").iterdir()) == []
