"""Why an answer of the faithful run would not pass on Lambda, and the fix, in one line each.

Everything here reads text (the answer and the emulator's log of the invoke) and the invocations' figures:
writes outside /tmp, network attempts and downloads refused offline (attributed to the library in the
traceback or the message), requests and responses over Lambda's 6 MB, an init past the init limit, out of
time vs too much work in one request, and out-of-memory kills with the peak of the runtime that was killed.
The limits are the function's target's (`lambdakit.config.target`). A download a library only
reported (`lambdakit.snapshot.refusals`) is a note: the answer may be right, but Lambda would try the network.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lambdakit.config.target import LAMBDA, Rules, Target
from lambdakit.core import libraries
from lambdakit.core.settings import IMAGE_CACHE_ROOT
from lambdakit.runtime import emulator
from lambdakit.runtime.environment import TMP, Invocation
from lambdakit.snapshot import caches, refusals

_WRITE_ERROR = re.compile(r"\[Errno (30|13)\] (?:Read-only file system|Permission denied): '([^']+)'")
_NETWORK_ERROR = re.compile(
    r"\[Errno (-2|-3|-5|101|111|113|110)\] (Temporary failure in name resolution|Name or service not known|"
    r"No address associated with hostname|Network is unreachable|Connection refused|No route to host|"
    r"Connection timed out)"
)
# The errors libraries raise for a download their offline switch refused (core/libraries.py).
_OFFLINE_ERROR = re.compile("(" + "|".join(libraries.offline_errors()) + ")")
_FRAME = re.compile(r'File "([^"]+)", line \d+')


def explain(text: str, home: str = "/") -> list[str]:
    """One line per thing Lambda would not allow that TEXT (response and logs) shows, with the fix."""
    modules = stack_modules(text)
    notes: dict[str, None] = {}
    for _, path in _WRITE_ERROR.findall(text):
        notes[explain_write(path, home, modules)] = None
    for _, reason in _NETWORK_ERROR.findall(text):
        notes[explain_network(reason, modules)] = None
    if _OFFLINE_ERROR.search(text) and not _NETWORK_ERROR.search(text):
        notes[explain_network("a download was refused by the offline switches", modules)] = None
    return list(notes)


def explain_write(path: str, home: str, modules: Sequence[str]) -> str:
    """Who wrote PATH (caches table, else the traceback) and how to keep it off the read-only disk."""
    root, relative = _root_of(path, home)
    attribution = _attribute(root, relative if root != "other" else path)
    library = attribution.library if attribution.known else caches.library_of_stack(modules)[0]
    where = {"home": f"under HOME ({home})", "cache": "in the cache root"}.get(root, "outside /tmp")
    if root == "cache":
        preload = attribution.cache.preload if attribution.cache and attribution.cache.preload else ""
        fix = (
            "the cache root is read-only in the image: pre-load these files with `nox -s snapshot`"
            + (f" ({preload})" if preload else "")
            + ", or send scratch files to /tmp"
        )
    elif attribution.known:
        fix = caches.fix_for_outside(attribution.cache, root)
    else:
        fix = (
            "point it at /tmp (scratch) or at the cache root with its own cache variable, then record what "
            "it needs with `nox -s snapshot` so the image ships it"
        )
    return f"write outside /tmp: {library} wrote {path} {where}, which is read-only on Lambda; {fix}"


def explain_network(reason: str, modules: Sequence[str]) -> str:
    library, via = caches.library_of_stack(modules)
    who = f"{library} (called from {via})" if via else library
    cache = next((found for module in modules if (found := caches.by_module(module)) is not None), None)
    preload = (
        f"{cache.preload}" if cache and cache.preload else "record what it downloads with `nox -s snapshot`"
    )
    return (
        f"network attempt: {who} tried to connect ({reason}); the image has no network here and must not "
        f"download at run time on Lambda: {preload}, and keep its offline switch on"
    )


def _attribute(root: caches.Root, path: str) -> caches.Attribution:
    """The failing path is often the folder a library tried to create: match it as a folder too."""
    attribution = caches.attribute(root, path)
    return attribution if attribution.known else caches.attribute(root, f"{path.rstrip('/')}/_")


def stack_modules(text: str) -> list[str]:
    """Top-level module names of the traceback frames in TEXT, innermost first."""
    modules: list[str] = []
    for path in reversed(_FRAME.findall(text.replace('\\"', '"'))):
        module = _module_of(path)
        if module and module not in modules:
            modules.append(module)
    return modules


def _module_of(path: str) -> str | None:
    for marker in ("/site-packages/", "/dist-packages/", "/var/task/", "/python3.11/"):
        if marker in path:
            rest = path.split(marker, 1)[1]
            return rest.split("/", 1)[0].removesuffix(".py")
    return None


def _root_of(path: str, home: str) -> tuple[caches.Root, str]:
    for root, prefix in (("cache", IMAGE_CACHE_ROOT), ("tmp", TMP), ("home", home)):
        base = prefix.rstrip("/") + "/"
        if path.startswith(base) or (prefix != "/" and path == prefix):
            return root, path[len(base) :]  # type: ignore[return-value]
    return "other", path


def refusal_notes(text: str, explained: Sequence[str] = ()) -> list[str]:
    """Downloads a library tried and only reported (nltk.download returns False): the answer may be ok,
    but every cold start tries the network first. Notes, not failures; libraries explained already skip."""
    said = " ".join(explained)
    return [
        f"refused download: {r.library} ({r.detail}): {r.fix}"
        for r in refusals.find(text.splitlines())
        if r.library not in said
    ]


# --- limits of one request --------------------------------------------------------------------------------


def explain_payload(result: Invocation, rules: Rules = LAMBDA) -> str | None:
    """Lambda refuses requests and fails responses over 6 MB; the emulator does neither the same way."""
    limit_mb = rules.payload_bytes / 2**20
    if result.request_bytes > rules.payload_bytes:
        return (
            f"payload too large: {result.name} is {result.request_bytes / 2**20:.1f} MB; Lambda refuses a "
            f"synchronous request over {limit_mb:.0f} MB (413 RequestEntityTooLargeException) before the "
            "function runs, whatever the emulator answers; send fewer or shorter texts per call, or pass a "
            "large input by reference (an S3 key)"
        )
    size = len(result.body.encode("utf-8"))
    if size > rules.payload_bytes:
        return (
            f"response too large: the answer to {result.name} is {size / 2**20:.1f} MB; Lambda fails a "
            f"response over {limit_mb:.0f} MB (Function.ResponseSizeTooLarge); return less (no echo of the "
            "input, fewer fields) or write large results to S3 and return their key"
        )
    return None


def explain_init(result: Invocation, limits: Target) -> str | None:
    """An init (the emulator's `INIT REPORT`) past the target's init limit: on demand, Lambda cuts it there
    and runs it again inside the first invoke, under Timeout; SnapStart and provisioned concurrency fail
    it."""
    init_ms = emulator.init_duration_ms(result.log)
    limit_s = limits.init_limit_s
    if init_ms is None or init_ms <= limit_s * 1000:
        return None
    init_s = init_ms / 1000
    fix = (
        "move work to build time (`prepare`, files shipped by `nox -s snapshot`), load lazily what the "
        "first request does not need, or raise MemorySize (more CPU)"
    )
    if not limits.on_demand:
        return f"init too slow: the init took {init_s:.1f} s, over the {limit_s:g} s Lambda allows; {fix}"
    first_s = init_s + (result.duration_ms or 0.0) / 1000
    then = (
        f"the first invoke then needs about {first_s:.1f} s, over Timeout={limits.timeout_s} s, so every "
        "cold start times out"
        # the emulator's own Timeout covered the init too
        if first_s > limits.timeout_s or result.outcome == "timeout"
        else f"every cold start waits {limit_s:g} s more and runs the init twice"
    )
    return (
        f"init too slow: the init took {init_s:.1f} s, over the {limit_s:g} s init limit of an on-demand "
        f"function; Lambda stops it there and runs it again inside the first invoke, under Timeout: {then}; "
        f"{fix}, or use SnapStart"
    )


def explain_timeout(result: Invocation, results: Sequence[Invocation], limits: Target) -> str:
    """Out of time (the work is fine, the Timeout is short) vs too much work (this one request is too big)."""
    base = f"timeout: {result.name} ran longer than Timeout={limits.timeout_s} s"
    answered = [r for r in results if r.outcome not in emulator.FAILED and r.duration_ms and r.request_bytes]
    if not answered or result.request_bytes <= max(r.request_bytes for r in answered):
        return (
            f"{base}, and it is no bigger than the events that answered: out of time, not too much work; "
            "raise Timeout in template.yaml (`nox -s tune` measures what it needs; the first call of a cold "
            "environment also pays the init)"
        )
    largest = max(answered, key=lambda r: r.request_bytes)
    ratio = result.request_bytes / largest.request_bytes
    expected_s = (largest.duration_ms or 0.0) * ratio / 1000
    if expected_s < limits.timeout_s:
        return (
            f"{base}: too much work for its size; it is {ratio:.0f}x the largest event that answered "
            f"({largest.name}, {largest.duration_ms:.0f} ms), which predicts {expected_s:.1f} s: the time "
            "grows faster than the input (a backtracking regex, text normalisation that expands it, a "
            "quadratic loop); make the per-request work linear and cap the request size after "
            "normalisation, do not raise Timeout"
        )
    return (
        f"{base}: too much work in one request; it is {ratio:.0f}x the largest event that answered and "
        f"needs about {expected_s:.0f} s at that rate: cap the request size (texts per batch, characters "
        "per text) and document it, or split the batch across calls; raise Timeout only if such requests "
        "must be accepted"
    )


def explain_out_of_memory(result: Invocation, limits: Target) -> str:
    peak = result.peak_memory_bytes
    seen = f" (the killed runtime's environment peaked at {peak / 2**20:.0f} MB)" if peak else ""
    return (
        f"out of memory: the runtime was killed during {result.name} at MemorySize={limits.memory_mb} MB"
        f"{seen}; raise MemorySize in template.yaml (`nox -s tune` measures it) or bound the memory one "
        "request can use"
    )


def notes_for(results: Sequence[Invocation], limits: Target, home: str = "/") -> None:
    """Fill each invocation's `explanations` (what Lambda would fail) and `notes` (worth a look)."""
    for result in results:
        text = f"{result.body}\n{result.log}"
        notes = explain(text, home=home)
        payload = explain_payload(result, limits.rules)
        notes += [payload] if payload else []
        init = explain_init(result, limits)
        notes += [init] if init else []
        if result.outcome == "timeout":
            notes.append(explain_timeout(result, results, limits))
        elif result.outcome == "out of memory":
            notes.append(explain_out_of_memory(result, limits))
        result.explanations = list(dict.fromkeys(notes))
        result.notes = refusal_notes(text, result.explanations)
