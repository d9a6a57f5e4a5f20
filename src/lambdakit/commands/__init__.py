"""The CLI layer of each `python -m lambdakit COMMAND`: its parser, settings loaded once, the logic's call."""
