"""`make bench`: performance figures of the engine (see docs/performance.md)."""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script (`python bench/run.py`): make the project importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import engine_bench


def main() -> None:
    print("== Engine ==")
    engine_bench.run()


if __name__ == "__main__":
    main()
