"""One module per `python -m lambdakit COMMAND`: its argparse parser and `cli(argv)`, which loads the
project's settings once and passes them to the logic in its room."""
