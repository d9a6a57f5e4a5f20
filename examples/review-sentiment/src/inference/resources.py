"""Fetch what the pipeline needs the usual notebook way: into each library's own cache, on first load.

Nothing here is Lambda-specific. In the dev loop the first load downloads; the kit's snapshot runs the same
code and ships the caches, so in the image every file is already there and nothing is downloaded.
"""

from __future__ import annotations

import os
import warnings

import nltk
from huggingface_hub import hf_hub_download

# nltk's own name for another index (`python -m nltk.downloader -u`), e.g. a company mirror.
NLTK_INDEX_ENV = "NLTK_DOWNLOAD_URL"


def nltk_resource(package: str, resource: str) -> None:
    """`nltk.download(package)` unless `resource` is already in a folder of `nltk.data.path` ($NLTK_DATA)."""
    try:
        nltk.data.find(resource)
        return
    except LookupError:
        pass
    mirror = os.environ.get(NLTK_INDEX_ENV)
    downloader = nltk.downloader.Downloader(server_index_url=mirror)
    # nltk refuses any address that is not public (its SSRF guard) and warns when lifted; a mirror named
    # by the operator is trusted on purpose.
    enforce, nltk.pathsec.ENFORCE = nltk.pathsec.ENFORCE, nltk.pathsec.ENFORCE and not mirror
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            downloader.download(package, quiet=True, raise_on_error=True)
    finally:
        nltk.pathsec.ENFORCE = enforce


def hub_file(repo_id: str, filename: str) -> str:
    """A file of a Hugging Face Hub repo, from $HF_HUB_CACHE (downloaded from $HF_ENDPOINT when missing)."""
    return str(hf_hub_download(repo_id, filename))
