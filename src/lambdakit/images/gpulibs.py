"""What the kit knows about GPU libraries: which distributions and shared objects need a GPU Lambda does not
have, and the CPU-only build to use instead. `sizes.py` reads this table; a new library is one entry here.

Three kinds of entry:
* `GPU_ONLY`: a distribution that is a GPU build by its very name (nvidia-*, triton, onnxruntime-gpu...);
* `CUDA_BUILDS`: a distribution that comes as a CPU and a CUDA build under ONE name (torch); the installed one
  is the CUDA build when its version says so (`+cu124`), its files hold CUDA's shared objects, or it
  requires GPU-only distributions;
* `CUDA_SHARED_OBJECTS`: the file names of CUDA's own libraries, wherever a wheel vendors them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

PYTORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PYTORCH_CPU_SOURCE = "pytorch-cpu"  # the [[source]] name docs/own-pipeline.md uses
CUDA_LOCAL_VERSION = re.compile(r"\+(cu|rocm)\d")  # torch 2.5.1+cu124, 2.5.1+rocm6.2
# libcudart.so.12, libcublasLt.so.12, libnccl.so.2, libcudnn_ops.so.9, torch's libtorch_cuda.so ...
CUDA_SHARED_OBJECTS = re.compile(
    r"^lib(cudart|cublas|cublasLt|nccl|cudnn|cufft|curand|cusparse|cusolver|nvrtc|nvJitLink|torch_cuda"
    r"|c10_cuda)(_[a-z_]+)?(-[0-9a-f]{8})?\.so(\.[0-9.]+)?$"
)


@dataclass(frozen=True)
class GpuLibrary:
    """A GPU-only distribution (matched by its normalised name) and what to install instead."""

    pattern: re.Pattern[str]
    what: str
    alternative: str | None  # the CPU-only distribution; None: there is none (or it goes with its requirer)
    fix: str
    # True: installed only because a CUDA build requires it (nvidia-*, triton): the fix is that requirer's
    follows_requirer: bool = False


def pytorch_cpu_fix(name: str, version: str) -> str:
    """The CPU build of torch (or torchvision, torchaudio): the PyTorch CPU index, bound to that package."""
    release = version.split("+", 1)[0]
    return (
        f'install {name}\'s CPU build: add a [[source]] named "{PYTORCH_CPU_SOURCE}" with url = '
        f'"{PYTORCH_CPU_INDEX}" to the Pipfile, bind {name} to it '
        f'({name} = {{version = "=={release}", index = "{PYTORCH_CPU_SOURCE}"}}) and run `pipenv lock` '
        "(docs/own-pipeline.md: torch from its own index)"
    )


def _instead(gpu: str, cpu: str) -> str:
    return f"depend on {cpu} instead of {gpu} in the Pipfile and run `pipenv lock`"


GPU_ONLY: tuple[GpuLibrary, ...] = (
    GpuLibrary(
        re.compile(r"nvidia-.+"),
        "NVIDIA's CUDA libraries",
        None,
        "they come with a CUDA build of the package that requires them: install its CPU build",
        follows_requirer=True,
    ),
    GpuLibrary(
        re.compile(r"triton"),
        "torch's GPU kernel compiler",
        None,
        "it comes with a CUDA build of torch: install torch's CPU build",
        follows_requirer=True,
    ),
    GpuLibrary(
        re.compile(r"onnxruntime-gpu"),
        "ONNX Runtime's CUDA build",
        "onnxruntime",
        _instead("onnxruntime-gpu", "onnxruntime"),
    ),
    GpuLibrary(
        re.compile(r"tensorflow-gpu"),
        "TensorFlow's GPU build",
        "tensorflow-cpu",
        _instead("tensorflow-gpu", "tensorflow-cpu"),
    ),
    GpuLibrary(
        re.compile(r"tensorflow"),
        "TensorFlow built with CUDA support",
        "tensorflow-cpu",
        _instead("tensorflow", "tensorflow-cpu"),
    ),
    GpuLibrary(
        re.compile(r"faiss-gpu(-cu\d+)?"),
        "FAISS's GPU build",
        "faiss-cpu",
        _instead("faiss-gpu", "faiss-cpu"),
    ),
    GpuLibrary(
        re.compile(r"cupy(-cuda\w+|-rocm[\w-]+)?"),
        "CuPy (arrays on a GPU)",
        None,
        "CuPy runs on GPUs only: use numpy's arrays on Lambda",
    ),
    GpuLibrary(
        re.compile(r"jax-cuda\d+-(plugin|pjrt)"),
        "JAX's CUDA plugin",
        "jax",
        "depend on jax without its cuda extra (`jax` instead of `jax[cuda12]`) and run `pipenv lock`",
    ),
    GpuLibrary(
        re.compile(r"paddlepaddle-gpu"),
        "PaddlePaddle's GPU build",
        "paddlepaddle",
        _instead("paddlepaddle-gpu", "paddlepaddle"),
    ),
    GpuLibrary(re.compile(r"mxnet-cu\d+"), "MXNet's CUDA build", "mxnet", _instead("mxnet-cuNNN", "mxnet")),
)

# One name, two builds: how to get the CPU build, given the installed version.
CUDA_BUILDS: dict[str, Callable[[str, str], str]] = {
    "torch": pytorch_cpu_fix,
    "torchvision": pytorch_cpu_fix,
    "torchaudio": pytorch_cpu_fix,
}


def normalise(name: str) -> str:
    """PEP 503's form of a distribution name: `Nvidia_NCCL.cu12` → `nvidia-nccl-cu12`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def gpu_only(name: str) -> GpuLibrary | None:
    """The entry for a distribution that is a GPU build by its name, else None."""
    key = normalise(name)
    return next((entry for entry in GPU_ONLY if entry.pattern.fullmatch(key)), None)


def cuda_build_fix(name: str, version: str) -> str | None:
    """How to get the CPU build of a distribution that has both under one name, else None."""
    fix = CUDA_BUILDS.get(normalise(name))
    return fix(normalise(name), version) if fix else None


def is_cuda_shared_object(file_name: str) -> bool:
    return CUDA_SHARED_OBJECTS.match(file_name) is not None
