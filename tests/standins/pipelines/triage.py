"""A test pipeline that downloads through the real huggingface_hub, transformers and nltk clients.

    python triage.py STAGE [STAGE ...]

Stages, run in order:
  login     leave a Hub token where `hf auth login` would ($HF_HOME/token)
  somelib   leave state under ~/.somelib, as a library the kit does not know would
  prepare   pre-load: the model through transformers and huggingface_hub, the corpus through nltk
            into $NLTK_DATA (each only when missing, so an offline rerun is a no-op)
  run       the handler: tokenize and embed one text, look words up in the corpus (no download)
  lazy      the handler as often written for Lambda: download the corpus at run time into a temp dir

Reads HF_ENDPOINT (the Hub stand-in), STANDIN_REPO and STANDIN_NLTK_INDEX.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import warnings
from pathlib import Path

REPO = os.environ.get("STANDIN_REPO", "lambdakit-test/tiny-bert")
CORPUS = "tinycorpus"


def nltk_download(download_dir: str | None) -> None:
    import nltk
    import nltk.pathsec

    # nltk >= 3.10 refuses loopback URLs (an SSRF guard); the stand-in index lives on 127.0.0.1.
    nltk.pathsec.ENFORCE = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            downloader = nltk.downloader.Downloader(server_index_url=os.environ["STANDIN_NLTK_INDEX"])
            if not downloader.download(CORPUS, download_dir=download_dir, quiet=True, raise_on_error=True):
                raise SystemExit(f"nltk could not download {CORPUS}")
    finally:
        nltk.pathsec.ENFORCE = True


def corpus_words(root: str | None = None) -> list[str]:
    import nltk

    if root:
        nltk.data.path.insert(0, root)
    return nltk.data.find(f"corpora/{CORPUS}/words").open().read().decode().split()  # type: ignore[no-any-return]


def login() -> None:
    from huggingface_hub import constants

    Path(constants.HF_TOKEN_PATH).parent.mkdir(parents=True, exist_ok=True)
    Path(constants.HF_TOKEN_PATH).write_text("hf_standin_not_a_real_token")


def somelib() -> None:
    state = Path.home() / ".somelib"
    state.mkdir(exist_ok=True)
    (state / "state.json").write_text(json.dumps({"warm": True}))


def prepare() -> None:
    import nltk
    from huggingface_hub import snapshot_download
    from transformers import AutoModel, AutoTokenizer

    AutoTokenizer.from_pretrained(REPO)
    AutoModel.from_pretrained(REPO)
    snapshot_download(REPO)
    try:
        nltk.data.find(f"corpora/{CORPUS}")
    except LookupError:
        nltk_download(None)


def run(words: list[str]) -> None:
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(REPO)
    model = AutoModel.from_pretrained(REPO)
    encoded = tokenizer("my parcel never arrived", return_tensors="pt")
    hidden = model(**encoded).last_hidden_state
    print(
        json.dumps(
            {
                "tokens": int(encoded["input_ids"].shape[1]),
                "width": int(hidden.shape[-1]),
                "known": [w for w in ("parcel", "refund") if w in words],
            }
        )
    )


def main(stages: list[str]) -> int:
    for stage in stages:
        if stage == "login":
            login()
        elif stage == "somelib":
            somelib()
        elif stage == "prepare":
            prepare()
        elif stage == "run":
            run(corpus_words())
        elif stage == "lazy":
            target = tempfile.mkdtemp(prefix="corpus-")
            nltk_download(target)
            run(corpus_words(target))
        else:
            raise SystemExit(f"unknown stage {stage!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
