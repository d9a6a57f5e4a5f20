"""What the scan of a sandbox keeps out of the tarball, though it lists it."""

from __future__ import annotations

from pathlib import Path

from lambdakit.snapshot import sandbox, scan


def put(path: Path, data: bytes = b"x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_telemetry_state_in_the_cache_root_is_listed_but_not_shipped(box: sandbox.Sandbox) -> None:
    put(box.cache_root / "Microsoft/DeveloperTools/.onnxruntime/deviceid")
    records, members = scan.scan(box, [])
    assert not members
    assert records[0].excluded and "device id" in records[0].excluded
