"""SnapStart readiness harness: init once, "snapshot", fork two "restores", report what does not survive.

Standard library only, one file: the kit runs it with the function's own interpreter, in the dev loop
(`python -m lambdakit snapstart-check`) or inside the function's image (`python3 -c <this file> HANDLER`).
The event comes as JSON on stdin; the report is the stdout line that starts with `REPORT_MARK`.

What happens, in order, as on Lambda (awslambdaric's `on_init_complete`):

1. An *independent init* in a forked child: the handler imported and called once, its response kept. A value
   that two restores share but this init does not was made at init, and is meant to be unique.
2. The init: the handler's module imported; then the `register_before_snapshot` hooks, in reverse order.
3. The "snapshot": threads, open file descriptors, files written under the temporary directory, and the state
   of every random generator (the global `random`, `numpy.random`'s, and generators held by the handler's
   module) are recorded.
4. Two "restores": `os.fork()` twice. Each child first undoes what a fork does and a restore does not (CPython
   reseeds the global `random` in a forked child), runs the `register_after_restore` hooks in order, then
   calls the handler on the event.

Findings: a generator the handler draws from whose state no hook renewed (every restored environment draws
the same numbers); a response value both restores share that an independent init does not; a socket, a
Python thread or a file under /tmp made at init. Each names the hook that fixes it. A fork is not a microVM
snapshot: threads do not survive it (on Lambda they do, paused for an unknown time), which is why threads
are judged from the snapshot's record and never from a restore's behaviour.

Without the `snapshot_restore_py` package (AWS's bases ship it, a dev venv may not), a stand-in with the same
API is installed under that name, so a function's hooks run here as on Lambda.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import pickle
import socket
import sys
import tempfile
import threading
import traceback
import types
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPORT_MARK = "lambdakit-snapstart-report "
MAX_TMP_ENTRIES = 10_000  # a walk of the temporary directory stops there: the report says so
HOOKS_MODULE = "snapshot_restore_py"
Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class Context:
    """The parts of Lambda's context object a handler usually reads; a fresh request id per call."""

    function_name = "snapstart-check"
    function_version = "1"
    memory_limit_in_mb = "1769"
    invoked_function_arn = "arn:aws:lambda:local:000000000000:function:snapstart-check:1"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def install_hooks_stand_in() -> None:
    """`snapshot_restore_py`'s API (register_*, get_*), only when the real package is not importable."""
    try:
        importlib.import_module(HOOKS_MODULE)
        return
    except ImportError:
        pass
    module = types.ModuleType(
        HOOKS_MODULE, "Stand-in for AWS's snapshot_restore_py (lambdakit snapstart-check)."
    )
    before: list[Hook] = []
    after: list[Hook] = []

    def register(registry: list[Hook]) -> Callable[..., Any]:
        def register_hook(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
            registry.append((func, args, kwargs))
            return func

        return register_hook

    module.register_before_snapshot = register(before)  # type: ignore[attr-defined]
    module.register_after_restore = register(after)  # type: ignore[attr-defined]
    module.get_before_snapshot = lambda: before  # type: ignore[attr-defined]
    module.get_after_restore = lambda: after  # type: ignore[attr-defined]
    sys.modules[HOOKS_MODULE] = module


def hooks(kind: str) -> list[Hook]:
    module = sys.modules.get(HOOKS_MODULE)
    getter = getattr(module, f"get_{kind}", None)
    return list(getter()) if getter else []


def load_handler(name: str) -> tuple[Callable[[Any, Any], Any], types.ModuleType]:
    module_name, _, function_name = name.rpartition(".")
    module = importlib.import_module(module_name)
    return getattr(module, function_name), module


# --- what the snapshot holds ----------------------------------------------------------------------------


def open_sockets() -> dict[int, str]:
    """fd -> what it is, for every socket this process holds (Linux /proc)."""
    sockets = {}
    for entry in Path("/proc/self/fd").iterdir():
        try:
            target = str(entry.readlink())
        except OSError:
            continue  # the listing's own descriptor, already closed
        if target.startswith("socket:"):
            sockets[int(entry.name)] = describe_socket(int(entry.name), target)
    return sockets


def describe_socket(fd: int, target: str) -> str:
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:
        return target
    with sock:
        try:
            local = sock.getsockname()
        except OSError:
            local = "?"
        try:
            peer: object = sock.getpeername()
        except OSError:
            peer = None
        kind = {socket.SOCK_STREAM: "stream", socket.SOCK_DGRAM: "datagram"}.get(sock.type, str(sock.type))
    family = {socket.AF_INET: "IPv4", socket.AF_INET6: "IPv6", socket.AF_UNIX: "unix"}.get(sock.family, "")
    where = f"{local} -> {peer}" if peer else f"{local}, not connected"
    return f"{family} {kind} socket {where}".strip()


def python_threads() -> dict[int, str]:
    return {thread.ident or 0: thread.name for thread in threading.enumerate() if thread.is_alive()}


def native_thread_count() -> int:
    try:
        return len(list(Path("/proc/self/task").iterdir()))
    except OSError:
        return threading.active_count()


def tmp_files(root: str) -> tuple[dict[str, tuple[int, int]], bool]:
    """path -> (size, mtime_ns) under `root`, and whether the walk stopped at MAX_TMP_ENTRIES."""
    files: dict[str, tuple[int, int]] = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory, name)
            try:
                stat = path.lstat()
            except OSError:
                continue
            files[str(path)] = (stat.st_size, stat.st_mtime_ns)
            if len(files) >= MAX_TMP_ENTRIES:
                return files, True
    return files, False


class WriteAudit:
    """Files under /tmp or the temporary directory opened for writing by Python code: an audit hook sees
    what the process itself writes, which a walk of a /tmp that other processes share cannot attribute."""

    WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

    def __init__(self, roots: tuple[str, ...]) -> None:
        self.roots = tuple(
            root.rstrip(os.sep) + os.sep for root in roots
        )  # computed once: no I/O in the hook
        self.paths: set[str] = set()
        self.active = True
        sys.addaudithook(self)  # audit hooks cannot be removed: `active` turns it off after the init

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active or event != "open" or not args or not isinstance(args[0], (str, bytes)):
            return
        mode = args[1] if len(args) > 1 else None
        flags = args[2] if len(args) > 2 else 0
        by_mode = isinstance(mode, str) and any(letter in mode for letter in "wax+")
        if by_mode or (isinstance(flags, int) and flags & self.WRITE_FLAGS):
            path = os.path.normpath(os.path.join(Path.cwd(), os.fsdecode(args[0])))  # noqa: PTH118
            if path.startswith(self.roots):
                self.paths.add(path)


def fingerprint(state: object) -> str:
    return hashlib.sha256(pickle.dumps(state)).hexdigest()[:16]


def generators(module: types.ModuleType) -> dict[str, Any]:
    """Name -> generator object: `random`'s global one, numpy's legacy global one, and those the handler's
    module holds at its top level (random.Random, numpy RandomState/Generator)."""
    import random

    found: dict[str, Any] = {"random (the global generator)": random._inst}
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None and hasattr(numpy_random, "mtrand"):
        found["numpy.random (the global generator)"] = numpy_random.mtrand._rand
    for name, value in vars(module).items():
        is_generator = isinstance(value, random.Random) or type(value).__name__ in (
            "RandomState",
            "Generator",
        )
        if is_generator and not any(value is known for known in found.values()):
            found[f"{module.__name__}.{name}"] = value
    return found


def generator_state(generator: Any) -> object:
    if hasattr(generator, "getstate"):
        return generator.getstate()
    if hasattr(generator, "get_state"):
        return generator.get_state()
    return generator.bit_generator.state


def set_generator_state(generator: Any, state: object) -> None:
    if hasattr(generator, "setstate"):
        generator.setstate(state)
    elif hasattr(generator, "set_state"):
        generator.set_state(state)
    else:
        generator.bit_generator.state = state


# --- the runs -------------------------------------------------------------------------------------------


def in_child(work: Callable[[], object]) -> Any:
    """`work()` in a forked child; its JSON result, or {"error": traceback} when it raised."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into the caller's code
        os.close(read_end)
        try:
            result: object = work()
        except BaseException:  # everything goes back to the parent as text
            result = {"error": traceback.format_exc()}
        with os.fdopen(write_end, "w") as pipe:
            json.dump(result, pipe, default=repr)
        sys.stdout.flush()  # what the handler printed; os._exit skips the interpreter's own flush
        sys.stderr.flush()
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    return json.loads(text) if text else {"error": "the child process died without a result"}


def independent_init(handler_name: str, event: object) -> object:
    handler, _ = load_handler(handler_name)
    return {"response": handler(event, Context())}


def restore(
    handler: Callable[[Any, Any], Any], event: object, rngs: dict[str, Any], snapshot: dict[str, object]
) -> object:
    for name, generator in rngs.items():  # a fork reseeds `random`; a restore keeps the snapshot's state
        set_generator_state(generator, snapshot[name])
    for func, args, kwargs in hooks("after_restore"):
        func(*args, **kwargs)
    after_hooks = {name: fingerprint(generator_state(g)) for name, g in rngs.items()}
    response = handler(event, Context())
    after_call = {name: fingerprint(generator_state(g)) for name, g in rngs.items()}
    return {"response": response, "after_hooks": after_hooks, "after_call": after_call}


def leaves(value: object, path: str = "") -> Iterator[tuple[str, object]]:
    """(path, value) of every scalar in a JSON-like response; a string that holds JSON (a proxy `body`)
    is opened too."""
    if isinstance(value, str) and value[:1] in "{[":
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, f"{path}[{index}]")
    else:
        yield path or "(the response)", value


def shared_values(cold: object, first: object, second: object) -> list[tuple[str, object]]:
    """Values both restores return that the independent init does not: made at init, meant to be unique."""
    independent = dict(leaves(cold))
    other = dict(leaves(second))
    return [
        (path, value)
        for path, value in leaves(first)
        if path in other and other[path] == value and path in independent and independent[path] != value
    ]


def finding(check: str, what: str, fix: str) -> dict[str, str]:
    return {"check": check, "what": what, "fix": fix}


AFTER_RESTORE = "`register_after_restore`"
BEFORE_SNAPSHOT = "`register_before_snapshot`"


def renewal(name: str, generator: Any) -> str:
    """The after-restore hook that renews this generator."""
    if name.endswith("(the global generator)"):
        reseed = "numpy.random.seed" if name.startswith("numpy") else "random.seed"
        return f"reseed it after each restore, `register_after_restore({reseed})`"
    if type(generator).__name__ == "Generator":  # numpy's: no seed(), a new one instead
        return (
            f"replace it after each restore: `{name} = numpy.random.default_rng()` in a {AFTER_RESTORE} hook"
        )
    return f"reseed it after each restore, `register_after_restore({name}.seed)`"


def random_findings(
    rngs: dict[str, Any], snapshot: dict[str, str], restores: list[Any]
) -> list[dict[str, str]]:
    """A generator the handler draws from, whose snapshot state no after-restore hook renewed."""
    findings = []
    for name in rngs:
        drew = any(r["after_call"][name] != r["after_hooks"][name] for r in restores)
        renewed = any(r["after_hooks"][name] != snapshot[name] for r in restores)
        if drew and not renewed:
            what = f"the handler draws from {name}, whose state is in the snapshot: every restored "
            what += "environment draws the same numbers"
            fix = f"{renewal(name, rngs[name])} (snapshot_restore_py), or draw from `secrets` / "
            fix += "`random.SystemRandom()` for anything that must be unique"
            findings.append(finding("random", what, fix))
    return findings


def value_findings(cold: object, restores: list[Any]) -> list[dict[str, str]]:
    findings = []
    for path, value in shared_values(cold, restores[0]["response"], restores[1]["response"]):
        what = f"response field {path} is {str(value)[:60]!r} in both restores of one snapshot but another "
        what += "value after an independent init: made at init, every restored environment shares it"
        findings.append(
            finding("unique value", what, f"make it in the handler, or renew it in a {AFTER_RESTORE} hook")
        )
    return findings


def init_findings(
    sockets: dict[int, str], threads: dict[int, str], written: set[str]
) -> list[dict[str, str]]:
    """What the init opened, started or wrote and the snapshot still holds."""
    findings = []
    for fd, what in sorted(sockets.items()):
        fix = (
            f"open it in the handler (or in a {AFTER_RESTORE} hook) and close it in a {BEFORE_SNAPSHOT} hook"
        )
        findings.append(
            finding("socket", f"fd {fd} is an {what} opened at init: no connection survives a restore", fix)
        )
    for name in sorted(threads.values()):
        what = f"thread {name!r}, started at init, runs at snapshot time: it resumes in every restored "
        what += "environment after an unknown pause, with stale timers, connections and credentials"
        fix = f"start it in a {AFTER_RESTORE} hook and stop it in a {BEFORE_SNAPSHOT} hook"
        findings.append(finding("thread", what, fix))
    for path in sorted(written):
        what = f"{path} was written at init: every environment restored from the snapshot gets this copy "
        what += "(and it counts towards SnapStart's 512 MB of ephemeral storage)"
        fix = (
            "fine for a cache all environments may share; anything unique (an id, a key, a lock with a pid) "
        )
        fix += f"goes in a {AFTER_RESTORE} hook"
        findings.append(finding("tmp file", what, fix))
    return findings


def check(handler_name: str, event: object) -> dict[str, Any]:
    warnings.simplefilter("ignore")  # fork() in a process with native threads warns on 3.12+
    install_hooks_stand_in()
    cold = in_child(lambda: independent_init(handler_name, event))
    if "error" in cold:
        return {"error": f"the independent init failed:\n{cold['error']}"}

    tmp_root = tempfile.gettempdir()
    sockets_before, threads_before = open_sockets(), python_threads()
    tmp_before, _ = tmp_files(tmp_root)
    audit = WriteAudit(("/tmp", tmp_root))  # noqa: S108 - Lambda's only writable place, watched
    handler, module = load_handler(handler_name)  # the init
    for func, args, kwargs in reversed(hooks("before_snapshot")):
        func(*args, **kwargs)
    audit.active = False

    sockets = {fd: what for fd, what in open_sockets().items() if fd not in sockets_before}
    threads = {ident: name for ident, name in python_threads().items() if ident not in threads_before}
    tmp_after, truncated = tmp_files(tmp_root)
    written = {path for path, stat in tmp_after.items() if tmp_before.get(path) != stat}
    written |= {path for path in audit.paths if Path(path).is_file()}
    rngs = generators(module)
    snapshot = {name: generator_state(generator) for name, generator in rngs.items()}

    restores = [in_child(lambda: restore(handler, event, rngs, snapshot)) for _ in range(2)]
    for number, result in enumerate(restores, start=1):
        if "error" in result:
            return {"error": f"restore {number} failed:\n{result['error']}"}

    fingerprints = {name: fingerprint(state) for name, state in snapshot.items()}
    findings = random_findings(rngs, fingerprints, restores) + value_findings(cold["response"], restores)
    return {
        "findings": findings + init_findings(sockets, threads, written),
        "info": {
            "python": sys.version.split()[0],
            "hooks": {
                "before_snapshot": len(hooks("before_snapshot")),
                "after_restore": len(hooks("after_restore")),
            },
            "hooks_module": getattr(sys.modules.get(HOOKS_MODULE), "__file__", None) or "stand-in",
            "generators": sorted(rngs),
            "native_threads_at_snapshot": native_thread_count(),
            "tmp_root": tmp_root,
            "tmp_walk_truncated": truncated,
        },
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} module.handler < event.json", file=sys.stderr)
        return 2
    event = json.load(sys.stdin)
    if hasattr(os, "sched_setaffinity"):  # one vCPU (1769 MB): thread pools sized to it, none to fork
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    report = check(argv[1], event)
    sys.stdout.flush()
    print(REPORT_MARK + json.dumps(report, default=repr), flush=True)
    return 0 if not report.get("error") else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
