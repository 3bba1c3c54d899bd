"""`python -m enhancer.engine INPUT -o OUTPUT [...]`: the engine without Django."""

import sys

from enhancer.engine.cli import main

sys.exit(main())
