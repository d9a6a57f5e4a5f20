"""The CLI layer of each `python -m lambdakit COMMAND`: its parser and `cli(argv)`, over its room's logic."""
