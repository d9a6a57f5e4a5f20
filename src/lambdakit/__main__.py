import sys

from lambdakit.cli import main

sys.exit(main())
