"""A minimal Hugging Face Hub on 127.0.0.1 (point `HF_ENDPOINT` at it) serving one tiny generated model repo.

It answers what huggingface_hub and transformers ask while downloading: repo info
(`/api/models/{repo}[/revision/{rev}]`), the tree API (`/api/models/{repo}/tree/{rev}[/{path}]`) and
`HEAD`/`GET /{repo}/resolve/{rev}/{file}` with `ETag`, `X-Repo-Commit` and, for LFS files,
`X-Linked-Etag`/`X-Linked-Size`, as huggingface.co does. A missing file or repo gets the Hub's 404 with
`X-Error-Code`, so the clients take their "not there" paths rather than their "offline" ones.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from .server import RecordingHandler, StandIn

REPO_ID = "lambdakit-test/tiny-bert"
LFS_SUFFIXES = (".safetensors", ".bin", ".onnx")
VOCAB = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "hello",
    "world",
    "my",
    "parcel",
    "never",
    "arrived",
    "##s",
]


def safetensors_bytes(tensors: dict[str, tuple[list[int], list[float]]]) -> bytes:
    """The safetensors format by hand: an 8-byte header length, a JSON header, then the raw F32 data."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    data = b""
    for name, (shape, values) in sorted(tensors.items()):
        raw = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + data


def bert_shapes(vocab: int, hidden: int, intermediate: int, positions: int) -> dict[str, list[int]]:
    """Every parameter of a one-layer BertModel, so transformers loads it without re-initialising any."""
    shapes = {
        "embeddings.word_embeddings.weight": [vocab, hidden],
        "embeddings.position_embeddings.weight": [positions, hidden],
        "embeddings.token_type_embeddings.weight": [2, hidden],
        "pooler.dense.weight": [hidden, hidden],
        "pooler.dense.bias": [hidden],
    }
    layer = "encoder.layer.0."
    for name in (
        "attention.self.query",
        "attention.self.key",
        "attention.self.value",
        "attention.output.dense",
    ):
        shapes |= {f"{layer}{name}.weight": [hidden, hidden], f"{layer}{name}.bias": [hidden]}
    shapes |= {
        f"{layer}intermediate.dense.weight": [intermediate, hidden],
        f"{layer}intermediate.dense.bias": [intermediate],
        f"{layer}output.dense.weight": [hidden, intermediate],
        f"{layer}output.dense.bias": [hidden],
    }
    for norm in ("embeddings.LayerNorm", f"{layer}attention.output.LayerNorm", f"{layer}output.LayerNorm"):
        shapes |= {f"{norm}.weight": [hidden], f"{norm}.bias": [hidden]}
    return shapes


def tiny_bert_files() -> dict[str, bytes]:
    """A BERT with 1 layer of width 4: its config, a WordPiece tokenizer and (partial) weights."""
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": 4,
        "num_hidden_layers": 1,
        "num_attention_heads": 1,
        "intermediate_size": 8,
        "vocab_size": len(VOCAB),
        "max_position_embeddings": 16,
        "type_vocab_size": 2,
    }
    tokenizer_config = {"tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": 16}
    special = {
        "unk_token": "[UNK]",
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "cls_token": "[CLS]",
        "mask_token": "[MASK]",
    }
    weights = {
        name: (shape, [0.01 * (i % 7) for i in range(math.prod(shape))])
        for name, shape in bert_shapes(vocab=len(VOCAB), hidden=4, intermediate=8, positions=16).items()
    }
    return {
        "config.json": json.dumps(config, indent=2).encode(),
        "tokenizer_config.json": json.dumps(tokenizer_config).encode(),
        "special_tokens_map.json": json.dumps(special).encode(),
        "vocab.txt": "\n".join(VOCAB).encode() + b"\n",
        "model.safetensors": safetensors_bytes(weights),
        "README.md": b"---\nlicense: mit\n---\nA tiny generated test model.\n",
    }


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@dataclass
class Repo:
    repo_id: str = REPO_ID
    files: dict[str, bytes] = field(default_factory=tiny_bert_files)

    @property
    def sha(self) -> str:
        """The commit: derived from the content, so the same files always give the same revision."""
        digest = hashlib.sha1(usedforsecurity=False)
        for name, data in sorted(self.files.items()):
            digest.update(name.encode() + b"\0" + git_blob_sha1(data).encode())
        return digest.hexdigest()

    def is_lfs(self, name: str) -> bool:
        return name.endswith(LFS_SUFFIXES)

    def etag(self, name: str) -> str:
        data = self.files[name]
        return hashlib.sha256(data).hexdigest() if self.is_lfs(name) else git_blob_sha1(data)

    def info(self) -> dict[str, object]:
        return {
            "_id": "0" * 24,
            "id": self.repo_id,
            "modelId": self.repo_id,
            "sha": self.sha,
            "private": False,
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": ["bert"],
            "library_name": "transformers",
            "pipeline_tag": "feature-extraction",
            "lastModified": "2026-01-01T00:00:00.000Z",
            "createdAt": "2026-01-01T00:00:00.000Z",
            "siblings": [{"rfilename": name} for name in sorted(self.files)],
        }

    def tree(self, prefix: str) -> list[dict[str, object]]:
        entries = []
        for name, data in sorted(self.files.items()):
            if prefix and not name.startswith(prefix.rstrip("/") + "/"):
                continue
            entry: dict[str, object] = {
                "type": "file",
                "oid": git_blob_sha1(data),
                "size": len(data),
                "path": name,
            }
            if self.is_lfs(name):
                entry["lfs"] = {
                    "oid": hashlib.sha256(data).hexdigest(),
                    "size": len(data),
                    "pointerSize": 134,
                }
            entries.append(entry)
        return entries


API_INFO = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)(?:/revision/(?P<rev>[^/]+))?$")
API_TREE = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?$")
RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")


class HubHandler(RecordingHandler):
    repo: Repo

    def do_GET(self) -> None:
        self.answer(head=False)

    def do_HEAD(self) -> None:
        self.answer(head=True)

    def answer(self, head: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        repo = self.server.standin.repo  # type: ignore[attr-defined]
        for pattern, method in (
            (RESOLVE, self.resolve),
            (API_TREE, self.api_tree),
            (API_INFO, self.api_info),
        ):
            match = pattern.match(path)
            if match:
                if match["repo"] != repo.repo_id:
                    return self.error(404, "RepoNotFound", f"Repository {match['repo']} not found", head)
                if match["rev"] not in (None, "main", repo.sha):
                    return self.error(404, "RevisionNotFound", f"Invalid rev id: {match['rev']}", head)
                return method(repo, match, head)
        return self.error(404, "EntryNotFound", f"{path} is not served by the stand-in", head)

    def error(self, status: int, code: str, message: str, head: bool) -> None:
        body = json.dumps({"error": message}).encode()
        self.send(
            status,
            body,
            {"Content-Type": "application/json", "X-Error-Code": code, "X-Error-Message": message},
            head,
        )

    def json(self, document: object, head: bool, repo: Repo) -> None:
        self.send(
            200,
            json.dumps(document).encode(),
            {"Content-Type": "application/json", "X-Repo-Commit": repo.sha},
            head,
        )

    def api_info(self, repo: Repo, match: re.Match[str], head: bool) -> None:
        self.json(repo.info(), head, repo)

    def api_tree(self, repo: Repo, match: re.Match[str], head: bool) -> None:
        self.json(repo.tree(match["path"] or ""), head, repo)

    def resolve(self, repo: Repo, match: re.Match[str], head: bool) -> None:
        name = match["file"]
        if name not in repo.files:
            return self.error(404, "EntryNotFound", f"{name} does not exist in {repo.repo_id}", head)
        data = repo.files[name]
        headers = {
            "X-Repo-Commit": repo.sha,
            "ETag": f'"{repo.etag(name)}"',
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
        }
        if repo.is_lfs(name):
            headers |= {"X-Linked-Etag": f'"{repo.etag(name)}"', "X-Linked-Size": str(len(data))}
        self.send(200, data, headers, head)


class HubStandIn(StandIn):
    def __init__(self, repo: Repo | None = None) -> None:
        super().__init__(HubHandler)
        self.repo = repo or Repo()
