"""samples/ holds the demo township as files a reader can open; it must agree with the generator."""

from pathlib import Path

from villagescore.demo import run_demo
from villagescore.pipeline import compute

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "qingshi"


def test_samples_compute_like_the_demo(scheme, tmp_path):
    from_files = compute(scheme, [SAMPLES / "2025H1表格", SAMPLES / "2025H2表格"], period="2025")
    demo, _ = run_demo(tmp_path / "demo")
    assert from_files.report.errors == []

    def table(res):
        return [(u.code, u.rounded, u.grades["grade"].grade) for u in res.units]

    assert table(from_files) == table(demo)
    assert (SAMPLES / "2025年度汇总.xlsx").exists()
