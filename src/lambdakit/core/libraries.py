"""The ML libraries the kit knows, one entry each: everything else about them is derived from here.

An entry says where the library keeps what it downloads (each folder relative to the cache root, the
variable that moves it, its default place and path patterns that recognise its files), which of those
variables the ENV block sets, its offline and telemetry switches, how it reports a download it could not
make (regexes and the fix), the advice to pre-load it, and its documentation. Derived from it:

* the ENV block (`core/settings.py`: `CACHE_SUBDIRS`, `OFFLINE_ENV`; `python -m lambdakit env`, and the
  Dockerfile's first ENV instruction, which a unit test compares);
* the snapshot's attribution of files (`snapshot/caches.py`) and its refusal patterns
  (`snapshot/refusals.py`);
* the faithful run's notes (`runtime/explain.py`: a download refused by an offline switch).

Adding a library is one entry here and its tests (an attribution in tests/unit/snapshot/test_caches.py, a
refusal in test_advice.py). Standard library only: `noxfile.py` imports `core.settings`, which reads this.
Patterns are globs over `/`-separated paths: `*` stays within one component, `**` spans any number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

HF = "huggingface"  # HF_HOME's folder in the cache root; the Hub cache and the datasets cache live below it


@dataclass(frozen=True)
class Folder:
    """One place a library writes on its own, and the variable that moves it."""

    env_var: str | None
    subdir: str  # where it lands in the cache root ("" = the root itself)
    default: str  # where the library writes when nobody sets the variable
    home: tuple[str, ...] = ()  # patterns of its files under HOME, under /tmp, anywhere else (absolute)
    tmp: tuple[str, ...] = ()
    other: tuple[str, ...] = ()
    preload: str = ""  # how to fill it in the snapshot command
    label: str = ""  # the name files are attributed to, when not the library's ("torch hub")
    modules: tuple[str, ...] = ()  # when not the library's
    doc: str = ""  # when not the library's
    ship: bool = True
    note: str = ""
    trap: str = ""  # a way the variable fails to move the folder, with its fix


@dataclass(frozen=True)
class Refusal:
    """How a library reports a download that did not happen (regex over one output line), and the fix."""

    regex: str
    fix: str
    label: str = ""  # the name the refusal is reported under, when not the library's


@dataclass(frozen=True)
class Library:
    name: str
    modules: tuple[str, ...]  # top-level modules: a traceback frame or an audit event names the library
    doc: str
    folders: tuple[Folder, ...] = ()
    env_block: tuple[str, ...] = ()  # the folders' variables the ENV block sets, in the block's order
    offline: tuple[str, ...] = ()  # switches (set to 1 in images) that forbid downloads at run time
    telemetry: tuple[str, ...] = ()  # switches (set to 1 in images) that stop reporting home
    more_variables: tuple[str, ...] = ()  # older or secondary names that also move its folders
    refusals: tuple[Refusal, ...] = ()
    offline_errors: tuple[str, ...] = ()  # regexes of the error a download refused offline raises


SNAPSHOT_FIX = "ship the data with `nox -s snapshot`"

LIBRARIES: tuple[Library, ...] = (
    Library(
        name="huggingface_hub",
        modules=("huggingface_hub",),
        doc="https://huggingface.co/docs/huggingface_hub/guides/manage-cache",
        folders=(
            Folder(
                env_var="HF_HUB_CACHE",
                subdir=f"{HF}/hub",
                default="~/.cache/huggingface/hub",
                home=(".cache/huggingface/hub/**",),
                preload="call huggingface_hub.snapshot_download(REPO_ID) or from_pretrained in the snapshot "
                "command",
                note="shared by transformers, sentence-transformers, diffusers, timm, ...",
            ),
            Folder(
                env_var="HF_HOME",
                subdir=HF,
                default="~/.cache/huggingface",
                doc="https://huggingface.co/docs/huggingface_hub/package_reference/environment_variables"
                "#hfhome",
                home=(".cache/huggingface/**",),
                preload="call huggingface_hub.snapshot_download(REPO_ID) in the snapshot command",
            ),
        ),
        env_block=("HF_HOME", "HF_HUB_CACHE"),
        offline=("HF_HUB_OFFLINE",),
        telemetry=("HF_HUB_DISABLE_TELEMETRY",),
        more_variables=("HUGGINGFACE_HUB_CACHE", "HF_XET_CACHE"),
        refusals=(
            Refusal(
                r"(OfflineModeIsEnabled[^\n]*|LocalEntryNotFoundError[^\n]*|We have no connection or you "
                r"passed local_files_only=True[^\n]*|Cannot reach https?://\S+[^\n]*|offline mode is "
                r"enabled[^\n]*)",
                "huggingface_hub could not download (offline, or the Hub unreachable): run `nox -s snapshot` "
                "so the files ship in $HF_HUB_CACHE, and keep HF_HUB_OFFLINE=1 in the image",
            ),
        ),
        offline_errors=(
            "OfflineModeIsEnabled",
            "LocalEntryNotFoundError",
            "HF_HUB_OFFLINE",
            "couldn't connect to",
        ),
    ),
    Library(
        name="transformers",
        modules=("transformers",),
        doc="https://huggingface.co/docs/transformers/installation#cache-setup",
        folders=(
            Folder(
                env_var="HF_MODULES_CACHE",
                subdir=f"{HF}/modules",
                default="~/.cache/huggingface/modules",
                home=(".cache/huggingface/modules/**",),
                preload="call AutoModel.from_pretrained(REPO_ID) in the snapshot command "
                "(weights: $HF_HUB_CACHE)",
                note="remote code (trust_remote_code); weights live in the huggingface_hub cache",
            ),
        ),
        offline=("TRANSFORMERS_OFFLINE",),
        more_variables=("TRANSFORMERS_CACHE", "PYTORCH_PRETRAINED_BERT_CACHE", "PYTORCH_TRANSFORMERS_CACHE"),
    ),
    Library(
        name="datasets",
        modules=("datasets",),
        doc="https://huggingface.co/docs/datasets/cache",
        folders=(
            Folder(
                env_var="HF_DATASETS_CACHE",
                subdir=f"{HF}/datasets",
                default="~/.cache/huggingface/datasets",
                home=(".cache/huggingface/datasets/**",),
                preload="call datasets.load_dataset(NAME) in the snapshot command",
            ),
        ),
        offline=("HF_DATASETS_OFFLINE",),
    ),
    Library(
        name="sentence-transformers",
        modules=("sentence_transformers",),
        doc="https://sbert.net/docs/package_reference/sentence_transformer/SentenceTransformer.html",
        folders=(
            Folder(
                env_var="SENTENCE_TRANSFORMERS_HOME",
                subdir="torch/sentence_transformers",
                default="$HF_HUB_CACHE (releases before 2.3: ~/.cache/torch/sentence_transformers)",
                home=(".cache/torch/sentence_transformers/**",),
                preload="call SentenceTransformer(MODEL) in the snapshot command",
            ),
        ),
    ),
    Library(
        name="torch",
        modules=("torch", "torchvision", "torchaudio", "timm"),
        doc="https://pytorch.org/docs/stable/hub.html#where-are-my-downloaded-models-saved",
        folders=(
            Folder(
                label="torch hub",
                env_var="TORCH_HOME",
                subdir="torch",
                default="~/.cache/torch",
                home=(".cache/torch/**",),
                preload="call torch.hub.load(...) / load_state_dict_from_url(...) in the snapshot command",
            ),
            Folder(
                label="torch inductor",
                modules=("torch",),
                env_var="TORCHINDUCTOR_CACHE_DIR",
                subdir="torchinductor",
                default="/tmp/torchinductor_<user>",  # noqa: S108 - where torch writes, documented
                doc="https://pytorch.org/tutorials/recipes/torch_compile_caching_tutorial.html",
                tmp=("torchinductor_*/**",),
                preload="run the torch.compile'd model once in the snapshot command",
                note="compiled kernels: /tmp works on Lambda, but every cold start compiles again",
            ),
        ),
        env_block=("TORCH_HOME",),
        refusals=(
            Refusal(
                r'Downloading: "(https?://[^"]+)" to ',
                "torch.hub downloads into $TORCH_HOME at load: run `nox -s snapshot` so the checkpoint ships",
                label="torch hub",
            ),
        ),
    ),
    Library(
        name="nltk",
        modules=("nltk",),
        doc="https://www.nltk.org/data.html",
        folders=(
            Folder(
                env_var="NLTK_DATA",
                subdir="nltk_data",
                default="~/nltk_data",
                home=("nltk_data/**",),
                preload="call nltk.download(PACKAGE) in the snapshot command (it saves to $NLTK_DATA)",
                trap="nltk.download() saves to $NLTK_DATA only when that directory exists, else to "
                "~/nltk_data: create it first, or pass download_dir=os.environ['NLTK_DATA']",
            ),
        ),
        env_block=("NLTK_DATA",),
        refusals=(
            Refusal(
                r"\[nltk_data\] Error loading (\S+?):? (.*)",
                f"nltk.download() failed and returned False (it does not raise): {SNAPSHOT_FIX} and call "
                "nltk.download only when nltk.data.find(...) raises LookupError",
            ),
            Refusal(
                r"(no validated address for host '[^']+')",
                f"nltk's downloader could not reach its index: {SNAPSHOT_FIX} and call nltk.download only "
                "when nltk.data.find(...) raises LookupError",
            ),
        ),
    ),
    Library(
        name="gensim",
        modules=("gensim",),
        doc="https://radimrehurek.com/gensim/downloader.html",
        folders=(
            Folder(
                env_var="GENSIM_DATA_DIR",
                subdir="gensim-data",
                default="~/gensim-data",
                home=("gensim-data/**",),
                preload="call gensim.downloader.load(NAME) in the snapshot command",
            ),
        ),
        env_block=("GENSIM_DATA_DIR",),
        refusals=(
            Refusal(
                r"(unable to read local cache [^\n]* during fallback[^\n]*|Unable to connect to[^\n]*)",
                "gensim.downloader could not fetch its data: run `nox -s snapshot` so $GENSIM_DATA_DIR "
                "ships, and load it with gensim.downloader.load(NAME) only after the data is there",
            ),
        ),
    ),
    Library(
        name="keras",
        modules=("keras", "tf_keras", "tensorflow"),
        doc="https://keras.io/getting_started/faq/#where-is-the-keras-configuration-file-stored",
        folders=(
            Folder(
                env_var="KERAS_HOME",
                subdir="keras",
                default="~/.keras",
                home=(".keras/**",),
                preload="load the model/dataset once (keras.utils.get_file) in the snapshot command",
            ),
        ),
    ),
    Library(
        name="tensorflow_hub",
        modules=("tensorflow_hub",),
        doc="https://www.tensorflow.org/hub/caching",
        folders=(
            Folder(
                env_var="TFHUB_CACHE_DIR",
                subdir="tfhub_modules",
                default="$TMPDIR/tfhub_modules",
                tmp=("tfhub_modules/**",),
                preload="call hub.load(HANDLE) in the snapshot command",
            ),
        ),
    ),
    Library(
        name="fastembed",
        modules=("fastembed",),
        doc="https://qdrant.github.io/fastembed/",
        folders=(
            Folder(
                env_var="FASTEMBED_CACHE_PATH",
                subdir="fastembed",
                default="$TMPDIR/fastembed_cache",
                tmp=("fastembed_cache/**",),
                preload="create TextEmbedding(MODEL) once in the snapshot command",
            ),
        ),
    ),
    Library(
        name="whisper",
        modules=("whisper",),
        doc="https://github.com/openai/whisper",
        folders=(
            Folder(
                env_var="XDG_CACHE_HOME",
                subdir="whisper",
                default="~/.cache/whisper",
                home=(".cache/whisper/**",),
                preload="call whisper.load_model(NAME) in the snapshot command",
            ),
        ),
    ),
    Library(
        name="tiktoken",
        modules=("tiktoken", "tiktoken_ext"),
        doc="https://github.com/openai/tiktoken/blob/main/tiktoken/load.py",
        folders=(
            Folder(
                env_var="TIKTOKEN_CACHE_DIR",
                subdir="tiktoken",
                default="$TMPDIR/data-gym-cache",
                tmp=("data-gym-cache/**",),
                preload="call tiktoken.get_encoding(NAME) in the snapshot command",
            ),
        ),
        more_variables=("DATA_GYM_CACHE_DIR",),
    ),
    Library(
        name="matplotlib",
        modules=("matplotlib",),
        doc="https://matplotlib.org/stable/install/environment_variables_faq.html#envvar-MPLCONFIGDIR",
        folders=(
            Folder(
                env_var="MPLCONFIGDIR",
                subdir="matplotlib",
                default="~/.config/matplotlib and ~/.cache/matplotlib (falls back to $TMPDIR/matplotlib-*)",
                home=(".config/matplotlib/**", ".cache/matplotlib/**"),
                tmp=("matplotlib-*/**",),
                preload="import matplotlib.pyplot in the snapshot command (builds the font cache)",
                note="without its font cache every cold start rebuilds it (seconds)",
            ),
        ),
        more_variables=("XDG_CONFIG_HOME",),
    ),
    Library(
        name="numba",
        modules=("numba", "librosa"),
        doc="https://numba.readthedocs.io/en/stable/reference/envvars.html#envvar-NUMBA_CACHE_DIR",
        folders=(
            Folder(
                env_var="NUMBA_CACHE_DIR",
                subdir="numba",
                default="__pycache__ beside the source (else ~/.cache/numba)",
                home=(".cache/numba/**",),
                other=("**/__pycache__/*.nbi", "**/__pycache__/*.nbc"),
                preload="call the cache=True functions once in the snapshot command",
            ),
        ),
    ),
    Library(
        name="onnxruntime",
        modules=("onnxruntime",),
        doc="https://github.com/microsoft/onnxruntime/blob/main/docs/Privacy.md",
        folders=(
            Folder(
                label="onnxruntime (telemetry)",
                env_var="XDG_CACHE_HOME",
                subdir="Microsoft",
                default="~/.cache/Microsoft/DeveloperTools/.onnxruntime",
                home=(".cache/Microsoft/**",),
                tmp=(".ses",),  # its telemetry session file
                ship=False,
                note="a per-machine device id and event database, not a model asset: never shipped",
            ),
        ),
    ),
    Library(
        name="kagglehub",
        modules=("kagglehub",),
        doc="https://github.com/Kaggle/kagglehub",
        more_variables=("KAGGLEHUB_CACHE",),
    ),
)


def env_block(libraries: Iterable[Library] = LIBRARIES) -> dict[str, str]:
    """The folder variables the ENV block sets, each to its place in the cache root, in the block's order."""
    block: dict[str, str] = {}
    for library in libraries:
        folders = {folder.env_var: folder.subdir for folder in library.folders}
        block.update({var: folders[var] for var in library.env_block})
    return block


def offline_env(libraries: Iterable[Library] = LIBRARIES) -> dict[str, str]:
    """Every offline switch, then every telemetry switch, set to 1: what images run with."""
    libraries = tuple(libraries)
    names = [var for library in libraries for var in library.offline]
    names += [var for library in libraries for var in library.telemetry]
    return dict.fromkeys(names, "1")


def offline_errors(libraries: Iterable[Library] = LIBRARIES) -> tuple[str, ...]:
    """The regexes of every library's refused-offline error (the faithful run's network notes)."""
    return tuple(error for library in libraries for error in library.offline_errors)
