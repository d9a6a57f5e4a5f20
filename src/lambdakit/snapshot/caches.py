"""Where ML libraries hide their downloads: one table, and the attribution of files and connections to it.

Each row names a library, where it writes by default, the variable that moves it, where that lands in the
kit's cache root, path patterns to recognise its files, and a link to its documentation. The rows are the
folders of the library registry (`lambdakit.core.libraries`), which the ENV block
(`lambdakit.core.settings.CACHE_SUBDIRS`) is derived from too, so the table and the images never disagree.

Patterns are globs over `/`-separated paths: `*` stays within one component, `**` spans any number.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from lambdakit.core import libraries as libs
from lambdakit.core.settings import CACHE_SUBDIRS, IMAGE_CACHE_ROOT

Root = Literal["cache", "home", "tmp", "other"]
ROOTS: tuple[Root, ...] = ("cache", "home", "tmp", "other")
UNKNOWN = "unknown"
THE_COMMAND = "the command itself"
OWN_CODE_SUFFIX = " (your code)"


def own_code(module: str) -> str:
    """How the function's own package is named as the one responsible for a file."""
    return f"{module}{OWN_CODE_SUFFIX}"


@dataclass(frozen=True)
class Cache:
    """One place a library writes on its own: its default, the variable that moves it, its patterns."""

    library: str
    default: str
    env_var: str | None
    subdir: str
    doc: str
    modules: tuple[str, ...] = ()
    home: tuple[str, ...] = ()
    tmp: tuple[str, ...] = ()
    other: tuple[str, ...] = ()
    preload: str = ""
    ship: bool = True
    note: str = ""
    trap: str = ""

    def patterns(self, root: Root) -> tuple[str, ...]:
        if root == "cache":
            return (f"{self.subdir}/**",) if self.subdir else ()
        return {"home": self.home, "tmp": self.tmp, "other": self.other}[root]

    @property
    def image_path(self) -> str:
        return f"{IMAGE_CACHE_ROOT}/{self.subdir}" if self.subdir else IMAGE_CACHE_ROOT

    @property
    def in_env_block(self) -> bool:
        return self.env_var in CACHE_SUBDIRS


def _caches(libraries: Iterable[libs.Library] = libs.LIBRARIES) -> tuple[Cache, ...]:
    """One row per folder of each library in the registry (`lambdakit.core.libraries`)."""
    return tuple(
        Cache(
            library=folder.label or library.name,
            default=folder.default,
            env_var=folder.env_var,
            subdir=folder.subdir,
            doc=folder.doc or library.doc,
            modules=folder.modules or library.modules,
            home=folder.home,
            tmp=folder.tmp,
            other=folder.other,
            preload=folder.preload,
            ship=folder.ship,
            note=folder.note,
            trap=folder.trap,
        )
        for library in libraries
        for folder in library.folders
    )


CACHES: tuple[Cache, ...] = _caches()

# Where tools keep credentials, by their documented default and the folder their variable may move it to
# (a DOCKER_CONFIG, CLOUDSDK_CONFIG or KAGGLE_CONFIG_DIR pointed into the cache root lands under these
# names too). Never shipped, always listed. Files elsewhere are still read for credentials (`secrets`).
SECRET_PATTERNS: tuple[str, ...] = (
    # Hugging Face: $HF_HOME/token, $HF_HOME/stored_tokens, the old ~/.huggingface/token
    "**/huggingface/token",
    "**/huggingface/stored_tokens",
    "**/.huggingface/token",
    # AWS: ~/.aws (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE), SSO and CLI caches
    "**/.aws/**",
    "**/aws/credentials",
    # netrc, git, ssh, dotenv
    "**/.netrc",
    "**/_netrc",
    "**/.git-credentials",
    "**/git/credentials",
    "**/.ssh/**",
    "**/id_rsa",
    "**/id_dsa",
    "**/id_ecdsa",
    "**/id_ed25519",
    "**/.env",
    "**/.env.*",
    # Docker: ~/.docker/config.json or $DOCKER_CONFIG/config.json, the legacy ~/.dockercfg, TLS material
    "**/.docker/**",
    "**/docker/config.json",
    "**/.dockercfg",
    # Kaggle: ~/.kaggle/kaggle.json, ~/.config/kaggle/kaggle.json, $KAGGLE_CONFIG_DIR; kagglehub's token
    "**/kaggle.json",
    "**/.kaggle/**",
    "**/kaggle/access_token",
    # Google Cloud: ~/.config/gcloud ($CLOUDSDK_CONFIG), application default credentials
    "**/.config/gcloud/**",
    "**/credentials.db",  # gcloud's names, wherever CLOUDSDK_CONFIG points
    "**/access_tokens.db",
    "**/gcloud/legacy_credentials/**",
    "**/application_default_credentials.json",
    # npm: ~/.npmrc ($NPM_CONFIG_USERCONFIG), a global etc/npmrc
    "**/.npmrc",
    "**/npmrc",
    # pip and PyPI: pip.conf / pip.ini ($PIP_CONFIG_FILE) may hold an index URL with a password
    "**/pip.conf",
    "**/pip.ini",
    "**/.pypirc",
    # TLS client keys and key stores
    "**/*.key",
    "**/*key.pem",
    "**/*.p12",
    "**/*.pfx",
    # other clouds and tools
    "**/.azure/**",
    "**/gh/hosts.yml",
    "**/.boto",
    "**/.s3cfg",
    "**/.pgpass",
    "**/.terraformrc",
    "**/credentials.tfrc.json",
)

# The caller's own credential files, read for their VALUES (`credentials.known_values`): a command that copies
# one into an innocent file is refused by content. Each is (default below HOME, the variable that names the
# file itself, the variable that names its folder, format); every default also matches SECRET_PATTERNS.
CredentialFormat = Literal["keys", "whole", "netrc", "urls", "json", "pgpass"]
CREDENTIAL_FILES: tuple[tuple[str, str | None, str | None, CredentialFormat], ...] = (
    (".aws/credentials", "AWS_SHARED_CREDENTIALS_FILE", None, "keys"),  # every profile
    (".aws/config", "AWS_CONFIG_FILE", None, "keys"),
    (".cache/huggingface/token", "HF_TOKEN_PATH", "HF_HOME", "whole"),
    (".cache/huggingface/stored_tokens", None, "HF_HOME", "keys"),
    (".huggingface/token", None, None, "whole"),
    (".netrc", "NETRC", None, "netrc"),
    (".git-credentials", None, None, "urls"),
    (".config/git/credentials", None, None, "urls"),
    (".docker/config.json", None, "DOCKER_CONFIG", "json"),
    (".kaggle/kaggle.json", None, "KAGGLE_CONFIG_DIR", "json"),
    (".config/kaggle/kaggle.json", None, None, "json"),
    (".config/kaggle/access_token", None, None, "whole"),
    (".config/gcloud/application_default_credentials.json", None, None, "json"),
    (".npmrc", "NPM_CONFIG_USERCONFIG", None, "keys"),
    (".config/pip/pip.conf", "PIP_CONFIG_FILE", None, "keys"),
    (".pypirc", None, None, "keys"),
    (".config/gh/hosts.yml", None, "GH_CONFIG_DIR", "keys"),
    (".boto", None, None, "keys"),
    (".s3cfg", None, None, "keys"),
    (".pgpass", "PGPASSFILE", None, "pgpass"),
    (".terraform.d/credentials.tfrc.json", None, None, "json"),
)

# Frames of these modules only carry a request; the library that asked is further out on the stack.
TRANSPORT_MODULES = frozenset(
    {
        "socket",
        "ssl",
        "http",
        "urllib",
        "urllib3",
        "requests",
        "httpx",
        "httpx2",
        "httpcore",
        "h11",
        "h2",
        "anyio",
        "sniffio",
        "aiohttp",
        "asyncio",
        "concurrent",
        "threading",
        "selectors",
        "certifi",
        "idna",
        "encodings",
        "importlib",
        "runpy",
        "contextlib",
        "functools",
        "tqdm",
        "filelock",
        "tempfile",
        "shutil",
        "os",
        "io",
        "pathlib",
        "posixpath",
        "genericpath",
        "codecs",
        "zipfile",
        "tarfile",
        "gzip",
        "logging",
        "site",
        "sitecustomize",
        "_bootlocale",
        "multiprocessing",
        "subprocess",
        "fsspec",
        "backoff",
        "tenacity",
    }
)


@dataclass(frozen=True)
class Attribution:
    library: str
    env_var: str | None
    cache: Cache | None

    @property
    def known(self) -> bool:
        return self.cache is not None


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A `/`-aware glob: `**/` matches zero or more components, `**` anything, `*` within one component."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def _literal_prefix(pattern: str) -> int:
    """How specific a pattern is: the length of its text before the first wildcard."""
    match = re.search(r"[*?]", pattern)
    return match.start() if match else len(pattern) + 1


@functools.cache
def _rules(root: Root) -> tuple[tuple[re.Pattern[str], Cache], ...]:
    rules = [(pattern, cache) for cache in CACHES for pattern in cache.patterns(root)]
    rules.sort(key=lambda rule: -_literal_prefix(rule[0]))
    return tuple((glob_regex(pattern), cache) for pattern, cache in rules)


@functools.cache
def _secret_rules() -> tuple[re.Pattern[str], ...]:
    return tuple(glob_regex(pattern) for pattern in SECRET_PATTERNS)


def attribute(root: Root, path: str) -> Attribution:
    """Which library wrote `path` (relative to `root`; absolute for `other`), by the most specific pattern."""
    for regex, cache in _rules(root):
        if regex.match(path):
            return Attribution(cache.library, cache.env_var, cache)
    return Attribution(UNKNOWN, None, None)


def is_secret(path: str) -> bool:
    """A token or credential file, wherever it lies (the path may be relative or absolute)."""
    probe = path if path.startswith("/") else f"/{path}"
    return any(regex.match(probe) for regex in _secret_rules())


def by_library(library: str) -> Cache | None:
    return next((cache for cache in CACHES if cache.library == library), None)


def by_module(module: str) -> Cache | None:
    for cache in CACHES:
        if module in cache.modules:
            return cache
    return None


def library_of_stack(modules: Sequence[str]) -> tuple[str, str | None]:
    """(library, via) for a call stack given as top-level module names, innermost first.

    The library is the innermost known one (`huggingface_hub` under `transformers`), else the innermost
    frame that is not transport; `via` is the outermost other known library, if any.
    """
    known = [m for m in modules if by_module(m) is not None]
    if known:
        library = _display(known[0])
        outer = [_display(m) for m in known if _display(m) != library]
        return library, (outer[-1] if outer else None)
    for module in modules:
        if module not in TRANSPORT_MODULES:
            return (THE_COMMAND if module == "__main__" else module), None
    return UNKNOWN, None


def _display(module: str) -> str:
    cache = by_module(module)
    return module if cache is None else cache.library


def variables() -> tuple[str, ...]:
    """Every variable the registry knows: the sandbox clears them all so nothing leaks in from the caller."""
    names: dict[str, None] = dict.fromkeys(CACHE_SUBDIRS)
    names.update(dict.fromkeys(c.env_var for c in CACHES if c.env_var))
    names.update(dict.fromkeys(var for library in libs.LIBRARIES for var in library.more_variables))
    return tuple(names)


def fix_for_outside(cache: Cache | None, root: Root, library: str | None = None) -> str:
    """One line: how to get files a library (or the function's own code) wrote outside the cache root into
    it, naming the one responsible."""
    if cache is None and library and library.endswith(OWN_CODE_SUFFIX):
        return (
            f"{library} wrote there: write files to ship under the cache root instead "
            f"(os.environ['XDG_CACHE_HOME'], {IMAGE_CACHE_ROOT} in the image) and scratch files under "
            f"tempfile.gettempdir() (/tmp on Lambda)"
        )
    if cache is None and library and library not in {UNKNOWN, THE_COMMAND}:
        return (
            f"{library} wrote there and lambdakit/core/libraries.py has no entry for it: point {library} at "
            f"the cache root with its own setting (a cache or data directory under $XDG_CACHE_HOME), and add "
            f"an entry (library, variable, patterns) so it is attributed"
        )
    if cache is None:
        return (
            "no library in lambdakit/core/libraries.py writes there: find which one does (report.json lists "
            "the paths) and point it into the cache root with its variable"
        )
    target = cache.image_path
    if cache.in_env_block and cache.trap:
        return f"{cache.trap} (or drop the code's own download_dir/cache_dir argument)"
    if cache.in_env_block:
        return (
            f"${cache.env_var} already points into the cache root: the code passes its own directory "
            f"(cache_dir=..., download_dir=...); drop that argument so {cache.library} uses {target}"
        )
    where = (
        "on Lambda /tmp starts empty at every cold start" if root == "tmp" else "HOME is read-only on Lambda"
    )
    return (
        f"{where}: set {cache.env_var}={target} in the ENV block "
        f"(the library's env_block in lambdakit/core/libraries.py, which CACHE_SUBDIRS derives from) so "
        f"{cache.library} writes into the cache root"
    )


def table_rows(caches: Iterable[Cache] = CACHES) -> list[tuple[str, str, str, str]]:
    """(library, default, variable, place in the image) for docs and `--list-caches`."""
    return [(c.library, c.default, c.env_var or "-", c.image_path) for c in caches]
