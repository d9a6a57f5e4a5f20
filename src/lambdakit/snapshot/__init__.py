"""`snapshot`: run the pipeline in a sandbox, attribute its downloads, pack the asset tarball."""
