"""Golden files: a few outputs kept byte for byte in tests/golden/.

They hold the output as it was when it was last changed on purpose, so that a change made for speed can be
shown to change nothing, and a deliberate change of the output shows in review as changed files. After a
deliberate change, write them again and say in the commit why the bytes changed:

    pytest tests/test_summary_golden.py tests/test_forms_golden.py --update-golden
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"


def members(data: bytes) -> dict[str, bytes]:
    """The parts of an .xlsx, by name."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def check(name: str, data: bytes, update: bool) -> None:
    """``data`` is the golden file ``name`` byte for byte (or becomes it, with ``update``)."""
    path = GOLDEN / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return
    assert path.exists(), f"no golden file {name}: write it with --update-golden"
    want = path.read_bytes()
    if data == want:
        return
    got, kept = members(data), members(want)
    assert sorted(got) == sorted(kept), f"{name}: other parts than the golden file's"
    changed = [n for n in kept if got[n] != kept[n]]
    raise AssertionError(f"{name}: {', '.join(changed) or 'the zip container'} differ from the golden file "
                         "(a deliberate change? then --update-golden, and say why in the commit)")
