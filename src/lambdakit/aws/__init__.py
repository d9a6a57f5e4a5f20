"""`deploy`, `invoke`, `rehearse`: AWS through boto3 and SAM, and the offline rehearsal."""
