"""The library registry: one entry per library, and what is derived from it agrees with what ships."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lambdakit.core import libraries, settings
from lambdakit.runtime import explain
from lambdakit.snapshot import caches, refusals

REPO = Path(__file__).resolve().parents[3]


def first_env_instruction(dockerfile: str) -> list[tuple[str, str]]:
    """NAME=VALUE pairs of the Dockerfile's first ENV instruction (with its continuation lines), in order."""
    found = re.search(r"^ENV ((?:[^\n]*\\\n)*[^\n]*)", dockerfile, re.M)
    assert found is not None, "the Dockerfile has no ENV instruction"
    items = found.group(1).replace("\\\n", " ").split()
    return [(name, value) for name, _, value in (item.partition("=") for item in items)]


def test_the_dockerfiles_env_block_is_the_one_derived_from_the_registry() -> None:
    derived = {
        "PYTHONDONTWRITEBYTECODE": "1",
        "XDG_CACHE_HOME": settings.IMAGE_CACHE_ROOT,
        **{var: f"{settings.IMAGE_CACHE_ROOT}/{sub}" for var, sub in libraries.env_block().items()},
        **libraries.offline_env(),
    }
    assert first_env_instruction((REPO / "Dockerfile").read_text()) == list(derived.items())
    # `python -m lambdakit env --offline` prints the same block
    assert settings.kit_env(settings.IMAGE_CACHE_ROOT, offline=True) == derived


def test_the_env_block_is_the_libraries_blocks_in_order() -> None:
    assert settings.CACHE_SUBDIRS == {
        "XDG_CACHE_HOME": "",
        "HF_HOME": "huggingface",
        "HF_HUB_CACHE": "huggingface/hub",
        "TORCH_HOME": "torch",
        "NLTK_DATA": "nltk_data",
        "GENSIM_DATA_DIR": "gensim-data",
    }
    assert list(settings.OFFLINE_ENV) == [
        "HF_HUB_OFFLINE",
        "TRANSFORMERS_OFFLINE",
        "HF_DATASETS_OFFLINE",
        "HF_HUB_DISABLE_TELEMETRY",
    ]


def test_one_entry_per_library_each_with_a_link_and_its_block_among_its_folders() -> None:
    names = [library.name for library in libraries.LIBRARIES]
    assert len(names) == len(set(names))
    for library in libraries.LIBRARIES:
        assert library.doc.startswith("https://") and library.modules, library.name
        assert set(library.env_block) <= {folder.env_var for folder in library.folders}, library.name
        for refusal in library.refusals:
            re.compile(refusal.regex)


def test_a_new_entry_reaches_the_block_the_table_the_refusals_and_the_sandbox(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Adding a library is one entry: every consumer derives from the registry."""
    entry = libraries.Library(
        name="spacy",
        modules=("spacy",),
        doc="https://spacy.io/usage/models",
        folders=(libraries.Folder("SPACY_DATA", "spacy", "~/.spacy", home=(".spacy/**",)),),
        env_block=("SPACY_DATA",),
        offline=("SPACY_OFFLINE",),
        refusals=(libraries.Refusal(r"Can't find model '(\S+)'", "ship the model with `nox -s snapshot`"),),
    )
    registry = (*libraries.LIBRARIES, entry)
    assert libraries.env_block(registry)["SPACY_DATA"] == "spacy"
    assert libraries.offline_env(registry)["SPACY_OFFLINE"] == "1"
    monkeypatch.setattr(caches, "CACHES", caches._caches(registry))
    caches._rules.cache_clear()
    try:
        assert caches.attribute("home", ".spacy/en_core_web_sm/meta.json").library == "spacy"
    finally:
        monkeypatch.undo()
        caches._rules.cache_clear()
    monkeypatch.setattr(refusals, "REFUSALS", refusals._patterns(registry))
    (found,) = refusals.find(["OSError: [E050] Can't find model 'en_core_web_sm'."])
    assert (found.library, found.detail) == ("spacy", "en_core_web_sm")


def test_the_faithful_runs_offline_note_follows_the_registry() -> None:
    text = "huggingface_hub.errors.OfflineModeIsEnabled: Cannot reach https://huggingface.co/x"
    (note,) = explain.explain(text)
    assert note.startswith("network attempt:") and "offline switches" in note
