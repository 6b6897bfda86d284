"""``python -m amidlib.repro``: the same as ``python -m amidlib.repro.reproduce``."""
import sys

from amidlib.repro.reproduce import main

if __name__ == "__main__":
    sys.exit(main())
