"""Workbooks written by ``villagescore scan``: each unit's entry workbook filled with what was read for sure,
with a review sheet (扫描核对) of cut-out images for what was not; and the township's overview of the run.

The entry workbook is the one ``template`` writes (``forms.build_entry_workbook``, the same columns, the same
identity record) with the values typed in, the review sheet added after it, and a few identity keys more
(``core/omr_review.py``: the review sheet's name, ballots read, ballots for review, the scan files and their
SHA-256) that compute's 说明 reports.
"""

from __future__ import annotations

import io
import json
from typing import Any

import xlsxwriter

from villagescore.core import layout
from villagescore.core.omr_review import (
    FILES_KEY,
    READ_KEY,
    REVIEW_SHEET,
    REVIEWED_KEY,
    SHEET_KEY,
    WHOLE,
    ReviewItem,
    review_columns,
)
from villagescore.core.periods import Period
from villagescore.core.records import Criterion, Unit
from villagescore.core.scheme import Form, Scheme
from villagescore.io.cells import TEXT_OPTIONS
from villagescore.io.forms import FONT, _sheet_name, build_entry_workbook

IMAGE_PX = 470  # a question's cut-out shown this wide (pixels at 100 %)
PAGE_PX = 300  # a whole page shown this wide
REVIEW_NOTE = ("下列各处扫描时无法确认（空白、多选、标记太淡、有涂改，或整页无法读取）。请看图并核对纸质票，在“核对结果”中选择："
               "分数或档次；确实未填的选“空白”；整张票无效的选“作废”。整页未读入的，按纸质票在“{sheet}”工作表中录入后选“已录入”"
               "（或“作废”“不计入”）。也可以直接在“{sheet}”工作表的对应单元格填写，两处须一致。未核对的，计算时按错误处理。")
SUMMARY_ROLE = "scan"  # the overview's identity role: an output of this tool, never read as a form


def _review_sheet(items: list[ReviewItem], title: str, info: str, entry_sheet: str):
    """A ``more`` hook for ``build_entry_workbook``: the review sheet, one row per item."""

    def add(book: Any) -> None:
        ws = book.add_sheet(REVIEW_SHEET)
        cols = review_columns()
        widths = [5, 6, 24, 7, 9, 22, IMAGE_PX / 7 + 1, 12]
        for i, w in enumerate(widths):
            ws.set_column(i, i, w)
        last = len(cols) - 1
        book.banner(ws, 0, 0, last, f"{title}扫描核对（{len(items)} 处）", book.fmt({"bold": True, "font_size": 16,
                                                                                "align": "center"}), 30)
        book.banner(ws, 1, 0, last, info, book.fmt({"font_size": 10, "text_wrap": True}), 20)
        book.banner(ws, 2, 0, last, REVIEW_NOTE.format(sheet=entry_sheet),
                    book.fmt({"font_size": 10, "text_wrap": True, "font_color": "#404040"}), 48)
        head = book.fmt({"bold": True, "border": 1, "text_wrap": True, "align": "center", "bg_color": "#DDEBF7"})
        for i, c in enumerate(cols):
            ws.write_string(3, i, c.label, head)
        ws.set_row(3, 22)
        fixed = book.fmt({"border": 1, "bg_color": "#F2F2F2", "text_wrap": True, "align": "center"})
        text = book.fmt({"border": 1, "bg_color": "#F2F2F2", "text_wrap": True})
        answer = book.fmt({"border": 1, "locked": False, "align": "center", "bold": True, "font_size": 12,
                           "bg_color": "#FFF2CC"})
        for k, it in enumerate(items):
            r = 4 + k
            whole = it.key == WHOLE
            ws.write_number(r, 0, k + 1, fixed)
            ws.write_number(r, 1, it.serial, fixed)
            ws.write_string(r, 2, it.label, text)
            ws.write_string(r, 3, it.key, fixed)
            ws.write_string(r, 4, it.cell, fixed)
            ws.write_string(r, 5, "；".join(x for x in (it.seen, it.source) if x), text)
            ws.write_blank(r, 6, None, fixed)
            ws.write_blank(r, 7, None, answer)
            height = 30.0
            if it.image:
                w, h = _size(it.image)
                shown = PAGE_PX if whole else IMAGE_PX
                scale = min(shown / max(w, 1), 1.0 if not whole else 10.0)
                height = max(height, h * scale * 0.75 + 6)
                ws.insert_image(r, 6, f"{it.serial:02d}_{it.key}.png", {
                    "image_data": io.BytesIO(it.image), "x_scale": scale, "y_scale": scale, "x_offset": 3,
                    "y_offset": 3, "object_position": 1})
            ws.set_row(r, min(height, 409))
            options = it.answers
            rule: dict[str, Any] = {"validate": "list", "source": options} if len(",".join(options)) <= 255 else \
                {"validate": "any"}
            ws.data_validation(r, 7, r, 7, {**rule, "input_title": "核对结果",
                                            "input_message": "请看图核对纸质票后选择：" + "、".join(options)[:200],
                                            "error_title": "输入有误", "error_message": "请从下拉列表中选择。",
                                            "error_type": "stop"})
        ws.freeze_panes(4, 0)
        ws.protect("", {"format_columns": True, "format_rows": True, "select_locked_cells": True,
                        "select_unlocked_cells": True})
        ws.set_paper(9)
        ws.set_landscape()
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0, 3)
        ws.set_footer("&C第 &P 页，共 &N 页")

    return add


def _size(image: bytes) -> tuple[int, int]:
    import cv2
    import numpy as np

    img = cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_GRAYSCALE)
    return (img.shape[1], img.shape[0]) if img is not None else (1, 1)


def filled_entry_workbook(scheme: Scheme, form: Form, period: str, unit: Unit, *, criteria: list[Criterion],
                          members: list[Unit], values: list[dict[str, Any]], items: list[ReviewItem],
                          read: int, reviewed: int, files: list[tuple[str, str]]) -> bytes:
    """The unit's entry workbook with ``values`` (row by row, serial 1 first) typed in and ``items`` on its
    review sheet."""
    sheet = _sheet_name(form.short)
    info = f"单位：{unit.full_name}（{unit.code}）    期间：{Period.parse(period).label}    表格：{form.title}"
    ident = {READ_KEY: str(read), REVIEWED_KEY: str(reviewed),
             FILES_KEY: json.dumps(files, ensure_ascii=False, separators=(",", ":"))}
    more = None
    if items:
        ident[SHEET_KEY] = REVIEW_SHEET
        more = _review_sheet(items, unit.name, info, sheet)
    return build_entry_workbook(scheme, form, period, unit=unit, criteria=criteria, members=members, values=values,
                                more=more, identity=ident)


# ------------------------------------------------------------------ the township's overview


def overview_workbook(title: str, period: str, scheme: Scheme, units: list[list[Any]], pages: list[dict[str, Any]],
                      files: list[list[Any]]) -> bytes:
    """读票情况 (a row per unit and form), 未读入的页面 (with a reduced image of each), 扫描件 (SHA-256)."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, **TEXT_OPTIONS})
    wb.set_properties({"title": title, "author": "", "company": "", "manager": ""})
    base = {"font_name": FONT, "font_size": 11, "valign": "vcenter"}
    f_title = wb.add_format({**base, "bold": True, "font_size": 16, "align": "center"})
    f_head = wb.add_format({**base, "bold": True, "border": 1, "text_wrap": True, "align": "center",
                            "bg_color": "#DDEBF7"})
    f_cell = wb.add_format({**base, "border": 1, "text_wrap": True})
    f_note = wb.add_format({**base, "font_size": 10, "text_wrap": True, "font_color": "#404040"})
    label = Period.parse(period).label

    def table(name: str, heads: list[str], widths: list[float], rows: list[list[Any]], note: str,
              image_col: int | None = None) -> None:
        ws = wb.add_worksheet(name)
        for i, w in enumerate(widths):
            ws.set_column(i, i, w)
        ws.merge_range(0, 0, 0, len(heads) - 1, f"{title}：{name}", f_title)
        ws.set_row(0, 30)
        ws.merge_range(1, 0, 1, len(heads) - 1, f"期间：{label}    方案：{scheme.scheme.name}    {note}", f_note)
        ws.set_row(1, 36)
        for i, h in enumerate(heads):
            ws.write_string(2, i, h, f_head)
        for r, row in enumerate(rows, start=3):
            height = 20.0
            for i, v in enumerate(row):
                if image_col is not None and i == image_col:
                    ws.write_blank(r, i, None, f_cell)
                    if v:
                        width_px, height_px = _size(v)
                        scale = PAGE_PX / max(width_px, 1)
                        height = max(height, height_px * scale * 0.75 + 6)
                        ws.insert_image(r, i, f"page{r}.jpg", {"image_data": io.BytesIO(v), "x_scale": scale,
                                                                "y_scale": scale, "x_offset": 3, "y_offset": 3,
                                                                "object_position": 1})
                elif isinstance(v, (int, float)):
                    ws.write_number(r, i, v, f_cell)
                else:
                    ws.write_string(r, i, str(v), f_cell)
            ws.set_row(r, min(height, 409))
        ws.freeze_panes(3, 0)
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0, 2)

    table("读票情况", ["单位代码", "单位", "表格", "收到的票", "机器读出", "待人工核对", "待核对处数", "录入表"],
          [10, 16, 22, 9, 9, 10, 10, 60], units, "待人工核对的票：请打开该单位的录入表，在“扫描核对”工作表中看图填写核对结果。")
    table("未读入的页面", ["扫描件", "页", "原因", "处理方法", "页面图像"], [36, 5, 36, 36, PAGE_PX / 7 + 1],
          [[p["file"], p["page"], p["reason"], p["hint"], p.get("image", b"")] for p in pages],
          "这些页面没有读入任何单位的录入表。", image_col=4)
    table("扫描件", ["扫描件", "SHA-256", "页数", "读入的测评票页"], [40, 68, 8, 14], files,
          "扫描件本身不保存在输出中；SHA-256 用于核对扫描件是否被改动。")
    ident = wb.add_worksheet(layout.IDENTITY_SHEET)
    record = {"tool": "villagescore", "role": SUMMARY_ROLE, "scheme_id": scheme.scheme.id,
              "scheme_version": scheme.scheme.version, "period": period}
    for r, key in enumerate(layout.IDENTITY_KEYS):
        ident.write_string(r, 0, key)
        ident.write_string(r, 1, record.get(key, ""))
    ident.very_hidden()
    ident.protect()
    wb.worksheets()[0].activate()
    wb.close()
    return buf.getvalue()


__all__ = ["filled_entry_workbook", "overview_workbook", "SUMMARY_ROLE"]
