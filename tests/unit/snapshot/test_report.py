"""The snapshot's scan, report, flags, errors and command line, on sandboxes built by hand."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from lambdakit.core import config
from lambdakit.core.errors import ConfigError, DiskFull, SnapshotCommandFailed, SnapshotCommandNotFound
from lambdakit.core.settings import OFFLINE_ENV
from lambdakit.snapshot import command, netaudit, sandbox

FILE_FIELDS = {"path", "root", "bytes", "library", "env_var", "in_cache_root"}


@pytest.fixture
def box(tmp_path: Path) -> sandbox.Sandbox:
    return sandbox.Sandbox(
        tmp_path / "home", tmp_path / "cache", tmp_path / "tmp", tmp_path / "a" / "log"
    ).create()


def put(path: Path, data: bytes = b"x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def options(tmp_path: Path) -> command.Options:
    return command.Options(commands=(("python", "pipeline.py"),), cwd=tmp_path, output=tmp_path / "out")


def test_report_lists_files_secrets_unknowns_network_with_the_documented_fields(
    box: sandbox.Sandbox, tmp_path: Path
) -> None:
    put(box.cache_root / "huggingface/hub/models--a--b/blobs/abc", b"w" * 10)
    put(box.cache_root / "huggingface/token", b"hf_x")
    put(box.home / ".somelib/state.json")
    put(box.home / ".aws/credentials")
    put(box.tmp / "torchinductor_root/k.py")
    events = [
        netaudit.Event("resolve", host="huggingface.co", port=443, stack=("socket", "huggingface_hub")),
        netaudit.Event(
            "connect", host="1.2.3.4", port=443, stack=("socket", "huggingface_hub", "transformers")
        ),
    ]
    records, members = command.scan(box, events)
    report = command.build_report(options(tmp_path), records, events, 1.5)

    assert [m.path for m in members] == ["huggingface/hub/models--a--b/blobs/abc"]
    for entry in report["files"]:
        assert set(entry) >= FILE_FIELDS
    by_path = {f["path"]: f for f in report["files"]}
    blob = by_path["huggingface/hub/models--a--b/blobs/abc"]
    assert (blob["root"], blob["bytes"], blob["library"], blob["env_var"], blob["in_cache_root"]) == (
        "cache",
        10,
        "huggingface_hub",
        "HF_HUB_CACHE",
        True,
    )
    assert by_path["torchinductor_root/k.py"]["root"] == "tmp"
    assert sorted(report["excluded_secrets"]) == ["/cache/huggingface/token", "~/.aws/credentials"]
    assert report["unknown"] == ["~/.somelib/state.json"]
    assert {(n["host"], n["port"], n["library"], n["via"]) for n in report["network"]} == {
        ("huggingface.co", 443, "huggingface_hub", None),
        ("1.2.3.4", 443, "huggingface_hub", "transformers"),
    }
    kinds = {f["kind"] for f in report["flags"]}
    assert {"secret", "unknown_library", "outside_cache_root"} <= kinds
    outside = next(f for f in report["flags"] if f["kind"] == "outside_cache_root")
    assert outside["library"] == "torch inductor" and "TORCHINDUCTOR_CACHE_DIR" in outside["fix"]
    json.dumps(report)  # the report must serialise as is


def test_telemetry_state_in_the_cache_root_is_listed_but_not_shipped(box: sandbox.Sandbox) -> None:
    put(box.cache_root / "Microsoft/DeveloperTools/.onnxruntime/deviceid")
    records, members = command.scan(box, [])
    assert not members
    assert records[0].excluded and "device id" in records[0].excluded


def test_files_unpacked_beside_a_download_go_to_the_library_that_wrote_it(box: sandbox.Sandbox) -> None:
    put(box.tmp / "corpus-1/corpora/words.zip")
    put(box.tmp / "corpus-1/corpora/words/list")
    write = netaudit.Event(
        "write", path=str(box.tmp / "corpus-1/corpora/words.zip"), stack=("nltk", "__main__")
    )
    records, _ = command.scan(box, [write])
    assert {(r.path, r.library, r.attributed_by) for r in records} == {
        ("corpus-1/corpora/words.zip", "nltk", "writer"),
        ("corpus-1/corpora/words/list", "nltk", "neighbour"),
    }


def test_command_env_clears_the_callers_caches_and_switches(box: sandbox.Sandbox) -> None:
    base = {
        "PATH": "/bin",
        "HF_HOME": "/home/me/.cache/hf",
        "TRANSFORMERS_CACHE": "/x",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": "src",
        "HF_ENDPOINT": "http://mirror",
    }
    env = command.sandbox.command_env(base, box, verify=False)
    assert env["HF_HOME"] == f"{box.cache_root}/huggingface" and "TRANSFORMERS_CACHE" not in env
    assert env["HOME"] == str(box.home) and env["TMPDIR"] == str(box.tmp)
    assert "HF_HUB_OFFLINE" not in env and env["HF_ENDPOINT"] == "http://mirror"
    assert env["PYTHONPATH"].split(":") == [str(netaudit.HOOK_DIR), "src"]
    offline = sandbox.command_env(base, box, verify=True)
    assert OFFLINE_ENV.items() <= offline.items() and offline[netaudit.MODE_ENV] == "verify"


def test_lockdown_keeps_temp_dirs_writable_before_making_the_rest_read_only() -> None:
    script = sandbox.lockdown_script([Path("/w/cache dir"), Path("/w/home")], [Path("/tmp")])
    lines = script.splitlines()
    assert lines[0] == "set -e" and lines[-1] == 'exec "$@"'
    assert lines.index("mount --bind /tmp /tmp") < lines.index("mount -o remount,bind,ro /")
    assert "mount -o remount,bind,ro '/w/cache dir'" in lines
    argv = sandbox.isolation_argv(sandbox.Isolation("x", sandbox.UNSHARE_AS_ROOT, ()), script)
    assert argv[:2] == ["unshare", "--net"] and argv[-3:] == ["-c", script, "lambdakit-verify"]
    assert sandbox.isolation_argv(sandbox.AUDIT_ONLY, script) == []


def test_a_missing_program_is_named_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(SnapshotCommandNotFound, match=r"'no-such-tool'.*\$PATH"):
        sandbox.resolve_program(["no-such-tool", "x"], {"PATH": str(tmp_path)}, tmp_path)


def test_a_failed_step_shows_its_last_lines_and_a_full_disk_says_so(tmp_path: Path) -> None:
    failed = sandbox.StepResult(("python", "x.py"), 3, 1.0, ("Traceback", "ValueError: boom"))
    error = command.failure(failed, tmp_path / "log", "snapshot")
    assert (
        isinstance(error, SnapshotCommandFailed)
        and "status 3" in str(error)
        and "ValueError: boom" in str(error)
    )
    full = sandbox.StepResult(("python", "x.py"), 1, 1.0, ("OSError: [Errno 28] No space left on device",))
    assert isinstance(command.failure(full, tmp_path / "log", "snapshot"), DiskFull)


@pytest.mark.parametrize(
    ("text", "size"),
    [("10GB", 10 * 1000**3), ("500mb", 500 * 1000**2), ("1024", 1024), ("1.5G", int(1.5 * 1000**3))],
)
def test_sizes_parse(text: str, size: int) -> None:
    assert command.parse_size(text) == size


def test_a_size_that_is_not_one_is_refused() -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        command.parse_size("ten")


def test_the_command_after_dashes_replaces_the_default_pipeline(tmp_path: Path) -> None:
    args = command.parser().parse_args(["--output", str(tmp_path), "--no-verify", "--", "python", "-c", "--"])
    chosen = command.options_from(args)
    assert chosen.commands == (("python", "-c", "--"),) and not chosen.verify and chosen.output == tmp_path
    assert chosen.prepare == (), "a custom command replaces the prepare hook too"


def test_the_default_is_the_prepare_hook_then_every_event_through_the_configured_handler(
    tmp_path: Path,
) -> None:
    (tmp_path / "events").mkdir()
    for name in ("b", "a"):
        (tmp_path / "events" / f"{name}.json").write_text("{}")
    project = config.ProjectConfig("fn", "app.main.handle", ("python", "-m", "app.prepare", "--fast"))
    assert command.default_commands(project, tmp_path, "/py") == (
        ("/py", "-m", "lambdakit", "dev", "--handler", "app.main.handle", "events/a.json", "events/b.json"),
    )
    assert command.prepare_commands(project, "/py") == (("/py", "-m", "app.prepare", "--fast"),)
    assert command.prepare_commands(config.ProjectConfig(prepare=("make", "model")), "/py") == (
        ("make", "model"),
    )
    assert command.prepare_commands(config.ProjectConfig(), "/py") == ()


def test_the_events_and_the_hook_run_on_the_interpreters_nox_names() -> None:
    # nox -s snapshot runs in the kit's tools env: the function's and the hook's environments are others
    args = ["--python", "/envs/function/bin/python", "--prepare-python", "/envs/prepare/bin/python"]
    chosen = command.options_from(command.parser().parse_args(args))
    assert {argv[0] for argv in chosen.commands} == {"/envs/function/bin/python"}
    alone = command.options_from(command.parser().parse_args(args[:2]))  # the hook defaults to --python
    hook = config.load().prepare
    if hook and hook[0] in {"python", "python3"}:  # the demo's hook; an adopted repository may have none
        assert chosen.prepare[0][0] == "/envs/prepare/bin/python"
        assert alone.prepare[0][0] == "/envs/function/bin/python"


def test_a_project_without_events_is_told_to_add_them(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no sample events"):
        command.default_commands(config.ProjectConfig(), tmp_path)


def test_verify_allows_writes_to_tmp_only(box: sandbox.Sandbox) -> None:
    assert command.allowed_write(str(box.tmp / "x"), box)
    assert command.allowed_write("/tmp/x", box)
    assert not command.allowed_write(str(box.cache_root / "x"), box)
    assert not command.allowed_write("/var/task/x", box)
