"""Where the function runs: the platform's rules and the function's settings on it, in one frozen `Target`.

`Rules` is what a kind of target allows and costs: memory range and step, CPU per MB, timeout and init
limits, payload and image limits, ephemeral storage, processes, prices per architecture, SnapStart's
restrictions. `LAMBDA` is AWS Lambda with on-demand concurrency, the one kind the kit knows today; a new rule
is a field here, a new kind of target (Lambda Managed Instances: several requests per environment, EC2
pricing) is a second `Rules`. `Target` is one function on those rules: MemorySize, Timeout, EphemeralStorage,
architecture, the Lambda runtime, SnapStart and concurrency. `config.template.load` builds it once from
template.yaml and the project's settings (`Template.target`), and each command passes it down.

Standard library only: `runtime/dev.py` (run in the function's own environment) reads Lambda's defaults here.
Sources: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html,
https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html (the init phase).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from lambdakit.core import runtimes
from lambdakit.core.errors import ConfigError

SNAPSTART_OFF = "None"
SNAPSTART_ON = "PublishedVersions"


@dataclass(frozen=True)
class Architecture:
    """What one Lambda architecture means for pip, Docker and the emulator."""

    name: str
    pip_platform: str
    docker_platform: str
    rie_binary: str
    debian_arch: str
    machine: str  # `uname -m`, and the name of its QEMU user emulator (`qemu-<machine>`)


ARCHITECTURES = {
    "x86_64": Architecture(
        "x86_64", "manylinux2014_x86_64", "linux/amd64", "aws-lambda-rie-x86_64", "amd64", "x86_64"
    ),
    "arm64": Architecture(
        "arm64", "manylinux2014_aarch64", "linux/arm64", "aws-lambda-rie-arm64", "arm64", "aarch64"
    ),
}


@dataclass(frozen=True)
class Rules:
    """What one kind of target allows and what it costs."""

    name: str
    # The function's settings as SAM names them: (lowest, highest) and the value Lambda uses when unset.
    ranges: Mapping[str, tuple[int, int]]
    defaults: Mapping[str, Any]
    memory_step_mb: int
    mb_per_vcpu: int  # one full vCPU at this MemorySize, CPU in proportion to memory
    init_limit_s: float  # on demand: past it, the init is cut and run again inside the first invoke
    prepared_init_limit_s: float  # SnapStart and provisioned concurrency init ahead of any request: longer
    payload_bytes: int  # a synchronous invoke's request and response each
    image_bytes: int  # a container image, uncompressed
    max_processes: int  # processes/threads per execution environment
    max_open_files: int
    snapstart_max_ephemeral_mb: int
    price_per_gb_second: Mapping[str, float]  # by architecture
    price_per_million_requests: float
    prices_source: str
    prices_as_of: str  # date of the copy the prices were checked against
    billing_granularity_ms: int
    # SnapStart for Python (and .NET), on top of requests and duration: caching each published version's
    # snapshot, per GB-second of MemorySize while the version is active (billed for at least a minimum), and
    # each restore of an execution environment, per GB of MemorySize restored. Same for both architectures.
    snapstart_cache_per_gb_second: float
    snapstart_restore_per_gb: float
    snapstart_min_cache_hours: float
    snapstart_prices_source: str

    @property
    def max_timeout_s(self) -> int:
        return self.ranges["Timeout"][1]

    def check_range(self, name: str, value: int, where: str = "") -> None:
        """A one-line `ConfigError` when VALUE of setting NAME (SAM's name) is outside the rules."""
        low, high = self.ranges[name]
        if not low <= value <= high:
            raise ConfigError(
                f"{where}{name} must be between {low} and {high} ({self.name}'s limits), got {value}."
            )


LAMBDA = Rules(
    name="Lambda",
    ranges=MappingProxyType(
        {"Timeout": (1, 900), "MemorySize": (128, 10240), "EphemeralStorage": (512, 10240)}
    ),
    defaults=MappingProxyType(
        {"Timeout": 3, "MemorySize": 128, "EphemeralStorage": 512, "Architecture": "x86_64"}
    ),
    memory_step_mb=1,
    mb_per_vcpu=1769,
    init_limit_s=10.0,
    prepared_init_limit_s=130.0,  # or Timeout when higher (so up to 15 minutes)
    payload_bytes=6 * 1024 * 1024,
    image_bytes=10 * 1000**3,
    max_processes=1024,
    max_open_files=1024,
    snapstart_max_ephemeral_mb=512,
    price_per_gb_second=MappingProxyType({"x86_64": 0.0000166667, "arm64": 0.0000133334}),
    price_per_million_requests=0.20,
    prices_source="https://aws.amazon.com/lambda/pricing/ (us-east-1, first tier of duration)",
    prices_as_of="2026-05-11",
    billing_granularity_ms=1,  # duration rounded up to the millisecond (since December 2020)
    snapstart_cache_per_gb_second=0.0000015046,
    snapstart_restore_per_gb=0.0001397998,
    snapstart_min_cache_hours=3.0,
    # AWS's pricing page renders its tables client-side: the figures are its us-east-1 ones as quoted by two
    # independent copies that agree to the last digit (awsnegotiations.com, "Lambda SnapStart Cost Impact",
    # May 2026; dev.to, "The Hidden Cost of AWS Lambda SnapStart for Python", April 2026, from AWS's docs):
    # cache per GB-second (at least 3 h per version), restore per GB restored (one copy says GB-second; AWS's
    # SnapStart page bills restores per GB). Checked 2026-12-07; what is billed: AWS's SnapStart page.
    snapstart_prices_source=(
        "https://aws.amazon.com/lambda/pricing/ (SnapStart, us-east-1, as quoted 2026-05), "
        "https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html#snapstart-pricing"
    ),
)


@dataclass(frozen=True)
class Concurrency:
    """`ReservedConcurrentExecutions` and `ProvisionedConcurrencyConfig`: None when the template sets none."""

    reserved: int | None = None
    provisioned: int | None = None


@dataclass(frozen=True)
class Target:
    """One function on its platform: what the faithful run, bench, tune and the docs take as the truth."""

    memory_mb: int
    timeout_s: int
    ephemeral_mb: int
    architecture: str = "x86_64"
    python: str = runtimes.DEFAULT_PYTHON  # the Lambda runtime, `[tool.lambdakit] python`
    snapstart: str = SNAPSTART_OFF  # SnapStart's ApplyOn
    concurrency: Concurrency = field(default_factory=Concurrency)
    file_systems: int = 0  # EFS mounts (FileSystemConfigs)
    # the function's Environment Variables (template order): Lambda sets them in every execution environment
    variables: tuple[tuple[str, str], ...] = ()
    rules: Rules = LAMBDA

    @property
    def cpus(self) -> float:
        """CPU share Lambda gives this memory size (`docker --cpus`)."""
        return self.memory_mb / self.rules.mb_per_vcpu

    @property
    def nano_cpus(self) -> int:
        return int(self.memory_mb * 1_000_000_000 // self.rules.mb_per_vcpu)

    @property
    def on_demand(self) -> bool:
        """Each cold start inits on a request's path (no SnapStart, no provisioned concurrency)."""
        return self.snapstart == SNAPSTART_OFF and not self.concurrency.provisioned

    @property
    def snapstart_on(self) -> bool:
        """Versions are snapshotted and restored: SnapStart's charges apply (`pricing.snapstart_cost`)."""
        return self.snapstart == SNAPSTART_ON

    @property
    def init_limit_s(self) -> float:
        """How long the init may take before Lambda cuts it (on demand) or fails it (prepared ahead)."""
        if self.on_demand:
            return self.rules.init_limit_s
        return max(self.rules.prepared_init_limit_s, float(self.timeout_s))

    @property
    def price_per_gb_second(self) -> float:
        return self.rules.price_per_gb_second[self.architecture]

    def with_memory(self, memory_mb: int) -> Target:
        self.rules.check_range("MemorySize", memory_mb)
        return dataclasses.replace(self, memory_mb=memory_mb)

    def check(self, where: str = "") -> Target:
        """This target against its rules: the ranges, the architecture, SnapStart's restrictions."""
        for name, value in (
            ("Timeout", self.timeout_s),
            ("MemorySize", self.memory_mb),
            ("EphemeralStorage", self.ephemeral_mb),
        ):
            self.rules.check_range(name, value, where)
        if self.architecture not in self.rules.price_per_gb_second:
            raise ConfigError(
                f"{where}Architectures must be one of {sorted(self.rules.price_per_gb_second)}, "
                f"got {[self.architecture]}."
            )
        if self.snapstart not in (SNAPSTART_OFF, SNAPSTART_ON):
            raise ConfigError(
                f"{where}SnapStart ApplyOn must be {SNAPSTART_ON} or {SNAPSTART_OFF}, got {self.snapstart!r}."
            )
        if self.snapstart == SNAPSTART_ON:
            self._check_snapstart(where)
        return self

    def _check_snapstart(self, where: str) -> None:
        """SnapStart restores a snapshot: it excludes what a snapshot cannot hold or would duplicate."""
        problem = (
            "provisioned concurrency"
            if self.concurrency.provisioned
            else "an EFS file system"
            if self.file_systems
            else f"EphemeralStorage over {self.rules.snapstart_max_ephemeral_mb} MB"
            if self.ephemeral_mb > self.rules.snapstart_max_ephemeral_mb
            else None
        )
        if problem:
            raise ConfigError(
                f"{where}SnapStart cannot be used with {problem} ({self.rules.name}'s restriction): "
                "drop one of the two."
            )


def configure(base: Target, properties: Mapping[str, Any], python: str, where: str = "") -> Target:
    """BASE (the limits template.yaml sets) with what else the function's PROPERTIES say about where it
    runs (SnapStart, concurrency, EFS) on the project's runtime PYTHON, checked against its rules."""
    snapstart = properties.get("SnapStart") or {}
    provisioned = properties.get("ProvisionedConcurrencyConfig") or {}
    reserved = properties.get("ReservedConcurrentExecutions")
    configured = dataclasses.replace(
        base,
        python=python,
        snapstart=str(snapstart.get("ApplyOn", SNAPSTART_OFF)) if isinstance(snapstart, Mapping) else "?",
        concurrency=Concurrency(
            reserved=_whole(reserved, "ReservedConcurrentExecutions", where),
            provisioned=_whole(
                provisioned.get("ProvisionedConcurrentExecutions")
                if isinstance(provisioned, Mapping)
                else None,
                "ProvisionedConcurrentExecutions",
                where,
            ),
        ),
        file_systems=len(properties.get("FileSystemConfigs") or ()),
    )
    return configured.check(where)


def _whole(value: Any, name: str, where: str) -> int | None:
    """A count the template sets literally; a `!Ref` or other intrinsic is not known before deploy."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, Mapping) or getattr(value, "tag", None) is not None:
        return None
    raise ConfigError(f"{where}{name} must be a whole number, got {value!r}.")
