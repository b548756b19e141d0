"""``villagescore`` with every file read in this process (no worker pool), so that a profiler of this
process sees the reading too: ``python -m pyinstrument benchmarks/serial_compute.py compute FOLDER …``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from villagescore.cli import main  # noqa: E402
from villagescore.io import batch  # noqa: E402

batch.MAX_WORKERS = 1

if __name__ == "__main__":
    sys.argv[0] = "villagescore"
    main()
