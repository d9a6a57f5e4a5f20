"""lambda-ml-kit's tooling: snapshot caches, build images, run them as Lambda does, deploy and invoke.

Every module is importable without nox; `python -m lambdakit COMMAND` is the command-line face and
`noxfile.py` the table of contents.
"""
