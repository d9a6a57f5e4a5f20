"""How `nox -s tests` splits pytest over the three environments (standard library only: the noxfile).

The kit's tests run in the tools environment; the function's (tests/function) in the function environment,
its `torch`-marked ones in the prepare environment when the project has a build-time hook.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    """One pytest run: which environment (`tools`, `function` or `prepare`) and its arguments."""

    env: str
    argv: tuple[str, ...]
    ok: tuple[int, ...] = (0,)  # pytest's 5 (nothing selected) is fine for a part when others run too


def split_args(args: list[str], repo: Path) -> tuple[list[str], list[str], list[str], str | None]:
    """pytest's arguments as (options, the kit's test paths, the function's test paths, -m expression)."""
    options: list[str] = []
    kit_paths: list[str] = []
    function_paths: list[str] = []
    marker: str | None = None
    words = iter(args)
    for word in words:
        if word == "-m":
            marker = next(words, None)
        elif not word.startswith("-") and (repo / word.split("::")[0]).exists():
            inside = (repo / word.split("::")[0]).resolve().is_relative_to(repo / "tests" / "function")
            (function_paths if inside else kit_paths).append(word)
        else:
            options.append(word)
    if not kit_paths and not function_paths:
        kit_paths, function_paths = ["tests", "--ignore=tests/function"], ["tests/function"]
    return options, kit_paths, function_paths, marker


def markers(marker: str | None, torch: bool | None) -> list[str]:
    """`-m` for one part: the user's expression, narrowed to the `torch` tests or the others (None: all)."""
    if torch is None:
        return ["-m", marker] if marker else []
    own = "torch" if torch else "not torch"
    return ["-m", f"({marker}) and {own}" if marker else own]


def plan(args: list[str], repo: Path, hook: bool) -> list[Run]:
    """The runs for ARGS; with a build-time HOOK the function's `torch` tests go to the prepare env."""
    options, kit_paths, function_paths, marker = split_args(args, repo)
    parts = [("function", False), ("prepare", True)] if hook else [("function", None)]
    runs = [Run("tools", (*options, *markers(marker, None), *kit_paths))] if kit_paths else []
    if function_paths:
        runs += [Run(env, (*options, *markers(marker, torch), *function_paths)) for env, torch in parts]
    return runs if len(runs) == 1 else [Run(run.env, run.argv, (0, 5)) for run in runs]
