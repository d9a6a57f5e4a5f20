"""`nox -s tests` splits pytest over the environments: the kit's tests, the function's, its torch ones."""

from __future__ import annotations

from pathlib import Path

from lambdakit.core import testruns

REPO = Path(__file__).resolve().parents[3]


def test_no_paths_run_the_kit_then_the_function_split_by_the_torch_marker() -> None:
    runs = testruns.plan(["-x"], REPO, hook=True)
    assert [(r.env, r.argv, r.ok) for r in runs] == [
        ("tools", ("-x", "tests", "--ignore=tests/function"), (0, 5)),
        ("function", ("-x", "-m", "not torch", "tests/function"), (0, 5)),
        ("prepare", ("-x", "-m", "torch", "tests/function"), (0, 5)),
    ]


def test_a_users_marker_is_narrowed_per_part_and_one_run_must_select_something() -> None:
    (run,) = testruns.plan(["tests/function", "-m", "slow"], REPO, hook=False)
    assert (run.env, run.argv, run.ok) == ("function", ("-m", "slow", "tests/function"), (0,))
    kit, function, prepare = testruns.plan(["tests/unit", "tests/function", "-m", "slow"], REPO, hook=True)
    assert kit.argv == ("-m", "slow", "tests/unit") and function.argv[:2] == ("-m", "(slow) and not torch")
    assert prepare.argv[:2] == ("-m", "(slow) and torch")
