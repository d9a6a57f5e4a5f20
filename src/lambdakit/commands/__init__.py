"""The CLI layer of each `python -m lambdakit COMMAND`: its parser, the settings loaded once, then the logic."""
