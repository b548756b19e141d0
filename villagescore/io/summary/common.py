"""What several sheets of the summary show alike: the sheets' names, the tones of grades and rows."""

from __future__ import annotations

from villagescore.core.records import GradeResult

GOOD = {"bg_color": "#C6EFCE", "font_color": "#006100"}
BAD = {"bg_color": "#FFC7CE", "font_color": "#9C0006"}
PENDING = {"bg_color": "#FFEB9C", "font_color": "#9C5700"}
MUTED = {"font_color": "#808080"}
BALLOT_TONE = {"有错误": BAD, "作废": MUTED, "空白": MUTED}
ERROR_ROW = {"font_color": "#C00000"}  # a unit whose data has errors: red text across its row
SCORES, BALLOTS, CHARTS, EVIDENCE = "分项得分", "测评明细", "图表", "得分依据"
CHART_COLOURS = {"good": "#70AD47", "bad": "#E06666", "pending": "#FFC000", "none": "#A6A6A6", "": "#5B9BD5"}


def grade_text(gr: GradeResult | None, ok: bool = False) -> str:
    if gr is None and ok:  # a grading for other unit types (e.g. the offices' grade on a village's row)
        return "—"
    if gr is None:
        return "未评定"
    if gr.grade:
        return gr.grade
    if gr.pending:
        return f"待党委研究（{'/'.join(gr.pending)}）"
    if gr.undetermined:  # the rule reads a result still open (an earlier period 待党委研究): the reason is in 备注
        return "无法判定"
    return "未评定"


def grade_tone(gr: GradeResult | None, order: list[str], colors: dict[str, str] | None = None) -> dict:
    """The scheme's colour of the grade if it gives one (e.g. 红色预警); else top grade green, bottom grade red;
    pending yellow (order: the grading's grades, best first)."""
    if gr is None:
        return {}
    if not gr.grade:
        return PENDING if gr.pending or gr.undetermined else {}
    if colors:
        return {"bg_color": colors[gr.grade]} if gr.grade in colors else {}
    if order and gr.grade == order[0]:
        return GOOD
    if len(order) > 1 and gr.grade == order[-1]:
        return BAD
    return {}


def chart_colour(gr: GradeResult | None, order: list[str]) -> str:
    if gr is None:
        return CHART_COLOURS[""]
    if not gr.grade:
        return CHART_COLOURS["pending" if gr.pending else "none"]
    tone = grade_tone(gr, order)
    return CHART_COLOURS["good" if tone is GOOD else "bad" if tone is BAD else ""]

