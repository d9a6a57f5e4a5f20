"""Size advice on a staged deps folder made of real dist-info structures (METADATA, RECORD, WHEEL, INSTALLER).

Big files are sparse (their size is real to `stat`, their blocks are never written), so a 469 MB NCCL costs
nothing here.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from pathlib import Path

import pytest
from rich.console import Console

from lambdakit.images import gpulibs, sizes

MB = 1000**2


def install(
    deps: Path,
    name: str,
    version: str,
    files: dict[str, int | bytes],
    requires: tuple[str, ...] = (),
    unrecorded: dict[str, int | bytes] | None = None,
) -> None:
    """Lay out a distribution as pip --target does: its files, and a dist-info listing them in RECORD.

    FILES map a path to its content or to a size (a sparse file); UNRECORDED files are written but not listed
    (bytecode compiled after the install, a vendored folder an old RECORD forgot)."""
    info = f"{name.replace('-', '_')}-{version}.dist-info"
    metadata = "".join(
        [
            "Metadata-Version: 2.1\n",
            f"Name: {name}\n",
            f"Version: {version}\n",
            "Summary: a test distribution\n",
            *(f"Requires-Dist: {requirement}\n" for requirement in requires),
            "\n",
            f"# {name}\n\nRequires-Dist: not-a-header (this is the description)\n",
        ]
    )
    written = {
        **files,
        f"{info}/METADATA": metadata.encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: bdist_wheel (0.45.1)\nRoot-Is-Purelib: false\n",
        f"{info}/INSTALLER": b"pip\n",
    }
    rows = []
    for path, content in written.items():
        data = _write(deps / path, content)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.append(f"{path},sha256={digest},{(deps / path).stat().st_size}\n")
    rows.append(f"{info}/RECORD,,\n")
    (deps / info / "RECORD").write_text("".join(rows), encoding="utf-8")
    for path, content in (unrecorded or {}).items():
        _write(deps / path, content)


def _write(path: Path, content: int | bytes) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
        return content
    with path.open("wb") as stream:
        stream.truncate(content)  # sparse: `content` bytes long, no block written
    return b""  # the digest of a sparse file is not what the test is about


def recorded_bytes(deps: Path, name: str) -> int:
    """What a distribution's RECORD lists, summed from the files themselves."""
    info = next(deps.glob(f"{name.replace('-', '_')}-*.dist-info"))
    paths = [line.split(",")[0] for line in (info / "RECORD").read_text().splitlines()]
    return sum((deps / path).stat().st_size for path in paths)


def by_name(report: sizes.SizeReport) -> dict[str, sizes.Package]:
    return {p.name: p for p in report.packages}


@pytest.fixture
def cuda_torch(tmp_path: Path) -> Path:
    """torch 2.5.1 as PyPI ships it for Linux: it requires NVIDIA's libraries (in the shared `nvidia/`
    namespace) and triton, under platform markers."""
    deps = tmp_path / "deps" / "var" / "task"
    linux = '; platform_system == "Linux" and platform_machine == "x86_64"'
    install(
        deps,
        "torch",
        "2.5.1",
        {"torch/__init__.py": b"import torch._C\n", "torch/lib/libtorch_cpu.so": 400 * MB},
        requires=(
            "filelock",
            f"nvidia-nccl-cu12==2.21.5{linux}",
            f"nvidia-cublas-cu12==12.4.5.8{linux}",
            f"triton==3.1.0{linux}",
            'opt-einsum>=3.3; extra == "opt-einsum"',
        ),
        unrecorded={"torch/__pycache__/__init__.cpython-313.pyc": b"\x00" * 300},
    )
    install(
        deps,
        "nvidia-nccl-cu12",
        "2.21.5",
        {"nvidia/__init__.py": b"", "nvidia/nccl/lib/libnccl.so.2": 469 * MB},
    )
    install(
        deps,
        "nvidia-cublas-cu12",
        "12.4.5.8",
        {"nvidia/__init__.py": b"", "nvidia/cublas/lib/libcublas.so.12": 100 * MB},
        unrecorded={"nvidia/cublas/lib/__pycache__/__init__.cpython-313.pyc": b"\x00" * 10},
    )
    install(deps, "triton", "3.1.0", {"triton/__init__.py": b"", "triton/_C/libtriton.so": 250 * MB})
    install(deps, "filelock", "3.16.1", {"filelock/__init__.py": b"x" * 1000})
    return deps


def test_each_distribution_weighs_its_recorded_files_its_bytecode_and_its_libs_folder(tmp_path: Path) -> None:
    deps = tmp_path / "deps"
    install(
        deps,
        "numpy",
        "2.4.6",
        {
            "numpy/__init__.py": b"x" * 5000,
            "numpy/_core/_multiarray_umath.cpython-313-x86_64-linux-gnu.so": 9 * MB,
            "numpy.libs/libscipy_openblas64_-ff651d7f.so": 25 * MB,  # auditwheel's folder, in RECORD
        },
        unrecorded={"numpy/__pycache__/__init__.cpython-313.pyc": b"y" * 700},
    )
    # an older wheel whose RECORD forgot its vendored folder: named after the distribution, not its package
    install(
        deps,
        "Pillow",
        "11.0.0",
        {"PIL/__init__.py": b"z" * 100, "PIL/_imaging.so": 3 * MB},
        unrecorded={
            "pillow.libs/libjpeg-1b553a2b.so.62": 2 * MB,
            "PIL/__pycache__/Image.cpython-313.pyc": b"p",
        },
    )
    _write(deps / "stray.txt", b"nobody's")

    report = sizes.survey(deps)

    packages = by_name(report)
    assert packages["numpy"].bytes == recorded_bytes(deps, "numpy") + 700
    assert packages["Pillow"].bytes == recorded_bytes(deps, "Pillow") + 2 * MB + 1
    assert report.unattributed_bytes == len(b"nobody's")
    assert [p.name for p in report.packages] == ["numpy", "Pillow"]  # largest first
    assert report.above_base == sum(p.bytes for p in report.packages) + report.unattributed_bytes
    assert report.advice == ()  # nothing of a GPU here


def test_nvidia_nccl_pulled_in_by_a_cuda_torch_is_named_with_the_cpu_index(cuda_torch: Path) -> None:
    report = sizes.survey(cuda_torch)

    packages = by_name(report)
    assert packages["nvidia-nccl-cu12"].bytes == recorded_bytes(cuda_torch, "nvidia-nccl-cu12")
    assert packages["nvidia-nccl-cu12"].required_by == ("torch",)
    assert packages["nvidia-nccl-cu12"].gpu == "NVIDIA's CUDA libraries"
    assert packages["nvidia-cublas-cu12"].cuda_objects == ("libcublas.so.12",)
    assert packages["torch"].gpu == "a CUDA build"  # it requires GPU-only libraries
    assert packages["filelock"].gpu is None and packages["filelock"].required_by == ("torch",)
    # the namespace's __init__.py is listed by both NVIDIA wheels: counted once, by the first
    assert sum(p.bytes for p in report.packages) + report.unattributed_bytes == sum(
        f.stat().st_size for f in cuda_torch.rglob("*") if f.is_file()
    )

    [advice] = report.advice  # one package to change: torch
    assert advice.culprit.name == "torch"
    assert [p.name for p in advice.libraries] == ["torch", "nvidia-nccl-cu12", "triton", "nvidia-cublas-cu12"]
    message = advice.message()
    assert (
        "nvidia-nccl-cu12 (469.0 MB), triton (250.0 MB), nvidia-cublas-cu12 (100.0 MB) are pulled in by "
        in (message)
    )
    assert "torch 2.5.1 (a CUDA build, 400.0 MB)" in message
    assert gpulibs.PYTORCH_CPU_INDEX in message
    assert 'torch = {version = "==2.5.1", index = "pytorch-cpu"}' in message


def test_the_table_and_the_warnings_show_the_gpu_libraries_and_the_layers(
    cuda_torch: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    layers = [("base", "aaa", 600 * MB), ("assets", "bbb", 90 * MB), ("deps", "ccc", 1230 * MB)]
    layers.append(("code", "ddd", 20_000))
    report = sizes.survey(cuda_torch, layers)
    assert report.above_base == 90 * MB + 1230 * MB + 20_000
    assert report.total == report.above_base + 600 * MB and not report.over_limit

    with caplog.at_level(logging.WARNING, logger="lambdakit"):
        sizes.show(report)
    shown = capsys.readouterr().out
    rows = [line for line in shown.splitlines() if "MB" in line or "KB" in line]
    order = [next(word for word in line.split() if word.isidentifier() or "-" in word) for line in rows[:6]]
    assert order[:4] == ["nvidia-nccl-cu12", "torch", "triton", "nvidia-cublas-cu12"]
    assert any("assets" in line and "model files (the asset layer)" in line for line in rows)
    assert any("code" in line and "your code (the code layer)" in line for line in rows)
    assert "GPU: NVIDIA's CUDA libraries, pulled in by torch" in shown
    assert "the whole image 1.9 GB" in shown
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.startswith("GPU libraries in a CPU Lambda image: nvidia-nccl-cu12 (469.0 MB)")
    assert "Fix: install torch's CPU build" in warning


def test_an_image_over_lambdas_10_gb_is_warned_about(tmp_path: Path) -> None:
    deps = tmp_path / "deps"
    install(deps, "huge-model", "1.0", {"huge_model/weights.bin": 3000 * MB})
    layers = [("base", "a", 600 * MB), ("assets", "b", 7000 * MB), ("deps", "c", 3000 * MB)]
    report = sizes.survey(deps, layers)
    assert report.over_limit
    [line] = sizes.warnings(report)
    assert "The image is 10.6 GB, over Lambda's 10.0 GB limit" in line

    under = sizes.survey(deps, [("base", "a", 600 * MB), ("deps", "c", 3000 * MB)])
    assert not under.over_limit and sizes.warnings(under) == []


@pytest.mark.parametrize(
    ("gpu_build", "advice"),
    [
        ("onnxruntime-gpu", "depend on onnxruntime instead of onnxruntime-gpu"),
        ("tensorflow", "depend on tensorflow-cpu instead of tensorflow"),
        ("faiss-gpu-cu12", "depend on faiss-cpu instead of faiss-gpu"),
        ("cupy-cuda12x", "CuPy runs on GPUs only: use numpy's arrays"),
        ("paddlepaddle-gpu", "depend on paddlepaddle instead"),
    ],
)
def test_a_gpu_build_with_a_known_alternative_is_told_what_to_install(
    tmp_path: Path, gpu_build: str, advice: str
) -> None:
    deps = tmp_path / "deps"
    install(deps, gpu_build, "1.0.0", {f"{gpu_build.replace('-', '_')}/__init__.py": 20 * MB})
    install(deps, "app-helper", "0.1", {"app_helper/__init__.py": b""}, requires=(gpu_build,))
    [found] = sizes.survey(deps).advice
    assert found.culprit.name == gpu_build
    assert advice in found.message()
    assert f"{gpu_build} 1.0.0 (" in found.message() and "pulled in by app-helper" in found.message()


def test_cuda_shared_objects_flag_a_library_the_table_does_not_know(tmp_path: Path) -> None:
    deps = tmp_path / "deps"
    install(
        deps,
        "fastvec",
        "0.3",
        {"fastvec/__init__.py": b""},
        unrecorded={"fastvec.libs/libcudart-9e33b1d4.so.12.4.127": 8 * MB},
    )
    install(deps, "nvidia-cudnn-cu12", "9.1.0.70", {"nvidia/cudnn/lib/libcudnn.so.9": 5 * MB})
    report = sizes.survey(deps)
    fastvec = by_name(report)["fastvec"]
    assert fastvec.cuda_objects == ("libcudart-9e33b1d4.so.12.4.127",)
    messages = {a.culprit.name: a.message() for a in report.advice}
    assert "look for a CPU-only build of fastvec" in messages["fastvec"]
    # an NVIDIA library nothing installed requires: the Pipfile names it
    assert "remove nvidia-cudnn-cu12 from the Pipfile" in messages["nvidia-cudnn-cu12"]


@pytest.mark.parametrize("version", ["2.5.1+cu124", "2.1.0+rocm6.2"])
def test_torch_with_a_gpu_local_version_is_a_cuda_build_even_alone(tmp_path: Path, version: str) -> None:
    deps = tmp_path / "deps"
    install(deps, "torch", version, {"torch/__init__.py": 700 * MB})
    [advice] = sizes.survey(deps).advice
    assert f"torch {version} (a CUDA build ({version}), 700.0 MB)" in advice.message()
    assert f'version = "=={version.split("+")[0]}"' in advice.message()


def test_a_cpu_image_gets_no_gpu_advice(tmp_path: Path) -> None:
    deps = tmp_path / "deps"
    install(deps, "torch", "2.5.1+cpu", {"torch/__init__.py": b"", "torch/lib/libtorch_cpu.so": 200 * MB})
    install(deps, "onnxruntime", "1.32.0", {"onnxruntime/capi/onnxruntime_pybind11_state.so": 20 * MB})
    extras = ('torch>=2.2; extra == "torch"', 'transformers[testing]; extra == "dev"')
    install(deps, "transformers", "4.57.0", {"transformers/__init__.py": b""}, extras)
    report = sizes.survey(deps)
    assert report.advice == ()
    assert by_name(report)["torch"].required_by == ("transformers",)  # named only under an extra: still who
    assert by_name(report)["transformers"].required_by == ()  # its own extras name itself: no requirer
    table = Console(width=200, record=True)
    table.print(sizes.table(report))
    assert "GPU" not in table.export_text()


def test_every_gpu_only_entry_matches_its_own_pypi_names() -> None:
    for name in ("nvidia-nccl-cu12", "Nvidia_Cublas.CU12", "triton", "onnxruntime-gpu", "cupy-cuda11x"):
        assert gpulibs.gpu_only(name) is not None, name
    for name in ("onnxruntime", "tensorflow-cpu", "faiss-cpu", "cupyx-cpu", "numpy", "tritonclient"):
        assert gpulibs.gpu_only(name) is None, name
    for so in (
        "libcudart.so.12",
        "libnccl.so.2",
        "libcudnn_ops.so.9",
        "libcublasLt.so.12",
        "libtorch_cuda.so",
    ):
        assert gpulibs.is_cuda_shared_object(so), so
    for so in ("libtorch_cpu.so", "libgomp-a34b3233.so.1", "libcuda_stub_helper.so"):
        assert not gpulibs.is_cuda_shared_object(so), so
