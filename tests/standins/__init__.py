"""Local stand-ins for the servers ML libraries download from, so tests run the real client code offline.

`hfhub.HubStandIn` answers huggingface_hub/transformers through `HF_ENDPOINT`; `nltkindex.NltkStandIn`
answers `nltk.downloader.Downloader(server_index_url=...)`. Both serve on 127.0.0.1, on a free port, from
a thread of the test process, and record the requests they answered. By default they serve tiny generated
data; `realdata` gives them real files taken from pinned PyPI packages (`pypifiles`) for the examples.
"""
