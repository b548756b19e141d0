"""Workbooks built inline for reader tests."""

from pathlib import Path

import openpyxl

from villagescore.core.layout import IDENTITY_SHEET


def make_book(path: Path, rows, *, title="录入表", identity=None, state="veryHidden") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    if identity is not None:
        ids = wb.create_sheet(IDENTITY_SHEET)
        for k, v in identity.items():
            ids.append([k, v])
        ids.sheet_state = state
    wb.save(path)
    return path
