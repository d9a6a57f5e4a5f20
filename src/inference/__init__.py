"""The user's function: a support-ticket triage pipeline served on AWS Lambda.

`inference.handler.lambda_handler` is the entry point Lambda's `CMD` names; `python -m inference`
runs it locally on an event (see `inference.__main__`).
"""
