"""Each library's refusal is recognised in a failed run's output, and the root cause is the refused target
or the HTTP status."""

from __future__ import annotations

import pytest

from lambdakit.snapshot import refusals


@pytest.mark.parametrize(
    ("line", "library"),
    [
        (
            "[nltk_data] Error loading vader_lexicon: <urlopen error pathsec.urlopen: no validated "
            "address for host '127.0.0.1'; refusing to connect by unvalidated hostname>",
            "nltk",
        ),
        (
            "huggingface_hub.errors.OfflineModeIsEnabled: Cannot reach https://huggingface.co/api/models/x: "
            "offline mode is enabled. To disable it, please unset the `HF_HUB_OFFLINE` environment variable.",
            "huggingface_hub",
        ),
        (
            'Downloading: "https://download.pytorch.org/models/resnet18-f37072fd.pth" to /cache/torch/x.pth',
            "torch hub",
        ),
        (
            "ValueError: unable to read local cache '/cache/gensim-data/information.json' during fallback, "
            "connect to the Internet and retry",
            "gensim",
        ),
    ],
)
def test_each_librarys_refusal_is_recognised(line: str, library: str) -> None:
    found = refusals.find(["some output", line])
    assert [r.library for r in found] == [library]
    assert "nox -s snapshot" in found[0].fix


def test_the_root_cause_is_the_refused_target_or_the_http_status() -> None:
    network = [{"kind": "connect", "host": "127.0.0.1", "port": 41234, "library": "huggingface_hub"}]
    lines = [
        "NewConnectionError: Failed to establish a new connection: [Errno 111] Connection refused",
        "LookupError: the last line of a traceback that says nothing",
    ]
    assert refusals.root_cause(lines, network) == "127.0.0.1:41234 (huggingface_hub) refused the connection"
    http = [
        "requests.exceptions.HTTPError: 404 Client Error: Not Found for url: http://127.0.0.1:9/x/resolve/main/a"
    ]
    assert refusals.root_cause(http) == "HTTP 404 for http://127.0.0.1:9/x/resolve/main/a"
    assert refusals.root_cause(["ValueError: boom"]) is None
