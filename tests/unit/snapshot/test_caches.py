"""The cache table: attribution by path, secrets, and agreement with the ENV block."""

from __future__ import annotations

import pytest

from lambdakit.core.settings import CACHE_SUBDIRS
from lambdakit.snapshot import caches


@pytest.mark.parametrize(
    ("root", "path", "library", "env_var"),
    [
        ("cache", "huggingface/hub/models--org--m/blobs/abc", "huggingface_hub", "HF_HUB_CACHE"),
        ("cache", "huggingface/token", "huggingface_hub", "HF_HOME"),
        ("cache", "huggingface/datasets/org___set/0.0.0/data.arrow", "datasets", "HF_DATASETS_CACHE"),
        ("cache", "torch/hub/checkpoints/resnet18.pth", "torch hub", "TORCH_HOME"),
        (
            "cache",
            "torch/sentence_transformers/m/config.json",
            "sentence-transformers",
            "SENTENCE_TRANSFORMERS_HOME",
        ),
        ("cache", "nltk_data/corpora/stopwords.zip", "nltk", "NLTK_DATA"),
        ("cache", "gensim-data/glove-wiki-gigaword-50/x.gz", "gensim", "GENSIM_DATA_DIR"),
        ("cache", "whisper/tiny.pt", "whisper", "XDG_CACHE_HOME"),
        (
            "cache",
            "Microsoft/DeveloperTools/.onnxruntime/deviceid",
            "onnxruntime (telemetry)",
            "XDG_CACHE_HOME",
        ),
        ("home", ".cache/huggingface/hub/models--a--b/refs/main", "huggingface_hub", "HF_HUB_CACHE"),
        ("home", "nltk_data/tokenizers/punkt.zip", "nltk", "NLTK_DATA"),
        ("home", ".keras/datasets/mnist.npz", "keras", "KERAS_HOME"),
        ("home", ".cache/torch/hub/x.pth", "torch hub", "TORCH_HOME"),
        ("home", ".config/matplotlib/matplotlibrc", "matplotlib", "MPLCONFIGDIR"),
        ("tmp", "torchinductor_root/fx/x.py", "torch inductor", "TORCHINDUCTOR_CACHE_DIR"),
        ("tmp", "tfhub_modules/abc/saved_model.pb", "tensorflow_hub", "TFHUB_CACHE_DIR"),
        ("tmp", "fastembed_cache/models--qdrant--bge/x.onnx", "fastembed", "FASTEMBED_CACHE_PATH"),
        ("tmp", "data-gym-cache/9b5ad71b2ce5302211f9c61530b329a4922fc6a4", "tiktoken", "TIKTOKEN_CACHE_DIR"),
        ("other", "/srv/app/__pycache__/f.py.nbi", "numba", "NUMBA_CACHE_DIR"),
    ],
)
def test_attribute_names_the_library_and_the_variable_that_moves_it(
    root: caches.Root, path: str, library: str, env_var: str
) -> None:
    who = caches.attribute(root, path)
    assert (who.library, who.env_var) == (library, env_var)


@pytest.mark.parametrize(
    ("root", "path"), [("home", ".somelib/state.json"), ("cache", "mystery/x.bin"), ("tmp", "x")]
)
def test_paths_no_row_claims_are_unknown(root: caches.Root, path: str) -> None:
    who = caches.attribute(root, path)
    assert who.library == caches.UNKNOWN and not who.known and who.env_var is None


@pytest.mark.parametrize(
    "path",
    [
        "huggingface/token",
        "huggingface/stored_tokens",
        ".aws/credentials",
        ".netrc",
        ".git-credentials",
        ".ssh/id_ed25519",
        "project/.env",
        "a/.env.production",
        "keys/id_rsa",
        ".kaggle/kaggle.json",
        "/home/u/.docker/config.json",
        "docker/config.json",  # DOCKER_CONFIG=$XDG_CACHE_HOME/docker
        ".config/kaggle/kaggle.json",
        "kaggle/access_token",
        ".config/gcloud/credentials.db",
        "gcloud/access_tokens.db",  # CLOUDSDK_CONFIG=$XDG_CACHE_HOME/gcloud
        "gc/credentials.db",  # CLOUDSDK_CONFIG anywhere
        "gcloud/application_default_credentials.json",
        ".npmrc",
        "etc/npmrc",
        "pip/pip.conf",
        ".config/pip/pip.conf",
        "certs/client.key",
        "tls/client-key.pem",
        "store.p12",
        ".huggingface/token",
        ".aws/config",
    ],
)
def test_credentials_are_secrets(path: str) -> None:
    assert caches.is_secret(path)


@pytest.mark.parametrize(
    "path",
    [
        "huggingface/hub/models--a--b/blobs/token",
        "tokenizer.json",
        "env/x",
        ".envrc",
        "huggingface/hub/models--a--b/snapshots/r/config.json",
        "keys.json",
        "monkey.pemx",
        "torch/hub/checkpoints/docker.pt",
    ],
)
def test_model_files_named_like_tokens_are_not_secrets(path: str) -> None:
    assert not caches.is_secret(path)


def test_rows_moved_by_the_env_block_live_where_the_block_points() -> None:
    for cache in caches.CACHES:
        if cache.env_var in CACHE_SUBDIRS:
            base = CACHE_SUBDIRS[cache.env_var]
            assert not base or cache.subdir == base or cache.subdir.startswith(base + "/"), cache


def test_every_variable_of_the_env_block_has_a_row() -> None:
    moved = {cache.env_var for cache in caches.CACHES}
    assert set(CACHE_SUBDIRS) <= moved


def test_every_row_has_a_documentation_link_and_a_default() -> None:
    for cache in caches.CACHES:
        assert cache.default and (cache.doc.startswith("https://") or cache.doc.startswith("src/")), cache


def test_the_sandbox_clears_every_variable_of_the_table() -> None:
    names = caches.variables()
    assert {"HF_HOME", "HF_HUB_CACHE", "NLTK_DATA", "KERAS_HOME", "TRANSFORMERS_CACHE"} <= set(names)


@pytest.mark.parametrize(
    ("stack", "library", "via"),
    [
        (
            ["socket", "httpcore", "httpx2", "huggingface_hub", "transformers", "__main__"],
            "huggingface_hub",
            "transformers",
        ),
        (["socket", "urllib", "nltk", "__main__"], "nltk", None),
        (["socket", "requests", "mylib", "__main__"], "mylib", None),
        (["socket", "__main__"], "the command itself", None),
        (["socket", "ssl"], caches.UNKNOWN, None),
    ],
)
def test_the_library_that_asked_is_the_innermost_known_one(
    stack: list[str], library: str, via: str | None
) -> None:
    assert caches.library_of_stack(stack) == (library, via)


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("**/a", "a", True),
        ("**/a", "x/y/a", True),
        ("x/*", "x/y/z", False),
        ("x/**", "x/y/z", True),
        ("t_*/**", "t_root/f", True),
        ("**/.env.*", "p/.env.local", True),
        ("a.b", "aXb", False),
    ],
)
def test_glob_is_slash_aware(pattern: str, path: str, matches: bool) -> None:
    assert bool(caches.glob_regex(pattern).match(path)) is matches


def test_fix_for_a_variable_outside_the_block_names_it_and_the_image_path() -> None:
    keras = caches.attribute("home", ".keras/x").cache
    fix = caches.fix_for_outside(keras, "home")
    assert "KERAS_HOME=/cache/keras" in fix and "CACHE_SUBDIRS" in fix
