"""Regenerate samples/: the made-up township 青石乡 with filled workbooks for 2025H1 and 2025H2.

Deterministic: the same script writes the same values (file timestamps aside). Run from the repo:

    python scripts/make_samples.py
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from villagescore.demo import build  # noqa: E402
from villagescore.io import schemes  # noqa: E402
from villagescore.io.atomic import write_bytes_atomic  # noqa: E402
from villagescore.io.summary import build_summary  # noqa: E402
from villagescore.pipeline import compute  # noqa: E402


def main() -> None:
    target = ROOT / "samples" / "qingshi"
    if target.exists():
        shutil.rmtree(target)
    scheme = schemes.load("pingbian")
    paths = build(target, scheme)
    result = compute(scheme, list(paths.forms.values()), period="2025")
    write_bytes_atomic(paths.summary, build_summary(result))
    print(f"samples written to {target}")


if __name__ == "__main__":
    main()
