from decimal import Decimal

from villagescore.core.layout import roster_columns
from villagescore.core.scheme import Column
from villagescore.core.tables import column_letter, parse_table

COLS = [
    Column(key="serial", label="票号", type="integer", min=Decimal(1), max=Decimal(20), required=True),
    Column(key="c01", label="班子团结", type="number", min=Decimal(0), max=Decimal(10)),
    Column(key="c02", label="产业增收", type="number", min=Decimal(0), max=Decimal(10)),
    Column(key="void", label="是否作废", type="option", options=["是", "否"]),
]


def parse(grid, cols=COLS, **kw):
    return parse_table(grid, cols, file="青山村.xlsx", sheet="录入表", unit="V001", **kw)


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702, 16383)] == [
        "A", "Z", "AA", "AZ", "BA", "ZZ", "AAA", "XFD"]


def test_header_after_title_rows_and_cell_refs():
    grid = [
        ["青山村发展质量集中考评测评票", "", "", "", ""],
        ["单位：青山村", "", "", "", ""],
        ["", "", "", "", ""],
        ["", "票号", "班子团结", "产业增收", "是否作废"],
        ["", 1, 8.5, 9, ""],
        ["", 2, "12", 9, ""],
    ]
    rows, issues, header = parse(grid)
    assert header == 4
    assert [r.row for r in rows] == [5, 6]
    assert rows[0].values == {"serial": Decimal(1), "c01": Decimal("8.5"), "c02": Decimal(9), "void": None}
    assert rows[0].cells["c01"] == "C5"
    assert rows[1].values["c01"] is None
    [bad] = issues
    assert (bad.code, bad.cell, bad.file, bad.sheet, bad.unit) == ("out-of-range", "C6", "青山村.xlsx", "录入表", "V001")
    assert bad.params == {"label": "班子团结", "min": "0", "max": "10", "value": "12"}


def test_reordered_extra_and_aliases():
    cols = roster_columns()
    grid = [
        ["备用", "村名", "代码 ", "书记姓名", "类型", "合计分"],
        ["x", "青山村", "V001", "王小明", "村", ""],
        ["", "绿水社区", "V002", "李小红", "社区", ""],
    ]
    rows, issues, header = parse(grid, cols)
    assert header == 1 and issues == []
    assert rows[0].values["code"] == "V001" and rows[0].values["name"] == "青山村"
    assert rows[0].values["secretary"] == "王小明"
    assert rows[1].values["type"] == "社区"
    assert rows[0].cells["code"] == "C2"
    assert rows[0].values["township"] is None and "township" not in rows[0].cells


def test_header_with_spaces_fullwidth_and_required_marks():
    grid = [["票 号", "班子团结*", "产业\n增收", "是否作废"], [1, "８", "９", "否"]]
    rows, issues, _ = parse(grid)
    assert issues == []
    assert rows[0].values == {"serial": Decimal(1), "c01": Decimal(8), "c02": Decimal(9), "void": "否"}


def test_blank_rows_totals_and_footer_skipped():
    grid = [
        ["票号", "班子团结", "产业增收", "是否作废"],
        [1, 8, 9, None],
        [None, None, None, None],
        ["", "\u3000", "-", ""],
        [2, 7, 6, "×"],
        ["合 计", 15, 15, ""],
        ["平均", 7.5, 7.5, ""],
        ["填表人：王小明", "", "", ""],
    ]
    rows, issues, _ = parse(grid)
    assert issues == []
    assert [r.row for r in rows] == [2, 5]
    assert rows[1].values["void"] == "否"


def test_missing_value_and_bad_cells():
    grid = [
        ["票号", "班子团结", "产业增收", "是否作废"],
        [None, 8, 9, ""],
        [3, "八", 9, "可能"],
    ]
    rows, issues, _ = parse(grid)
    assert len(rows) == 2
    assert [(i.code, i.cell) for i in issues] == [("missing-value", "A2"), ("not-a-number", "B3"), ("not-an-option", "D3")]
    assert issues[0].params == {"label": "票号"}


def test_serial_only_row_kept_unless_caller_says_otherwise():
    grid = [["票号", "班子团结", "产业增收", "是否作废"], [1, 8, 9, ""], [2, "", "", ""], [3, None, None, None]]
    rows, _, _ = parse(grid)
    assert [r.row for r in rows] == [2, 3, 4]
    assert rows[1].values == {"serial": Decimal(2), "c01": None, "c02": None, "void": None}
    rows, _, _ = parse(grid, keep_if_only={"serial"})
    assert [r.row for r in rows] == [2]


def test_header_missing_and_column_missing():
    rows, issues, header = parse([["标题"], ["a", "b"]])
    assert rows == [] and header is None
    assert issues[0].code == "header-missing" and "票号" in issues[0].message

    grid = [["班子团结", "产业增收", "是否作废"], [8, 9, ""]]
    rows, issues, header = parse(grid)
    assert header == 1 and len(rows) == 1
    assert [(i.code, i.params["label"]) for i in issues] == [("column-missing", "票号")]


def test_explicit_header_row_and_short_rows():
    grid = [["票号", "班子团结"], ["x"], ["票号", "班子团结", "产业增收", "是否作废"], [1, 5]]
    rows, issues, header = parse(grid, header_row=3)
    assert header == 3 and issues == []
    assert rows[0].values == {"serial": Decimal(1), "c01": Decimal(5), "c02": None, "void": None}


def test_totals_rows_are_checked_against_the_records():
    grid = [
        ["票号", "班子团结", "产业增收", "是否作废"],
        [1, 8, 9.5, ""],
        [2, 7, "", ""],
        [3, 8, 9, ""],
        ["合计", 23, 19, ""],  # Excel's SUM skips blanks: 9.5 + 9 = 18.5, shown with no decimals as 19
        ["平均", 7.67, 9.2, ""],  # 班子团结 7.666… shows as 7.67; 产业增收 9.25 shows as 9.3, not 9.2
    ]
    rows, issues, _ = parse(grid)
    assert [r.row for r in rows] == [2, 3, 4]
    assert [(i.code, i.cell, i.params["expected"]) for i in issues] == [("total-mismatch", "C6", "9.25")]
    assert issues[0].message == "“产业增收”的平均行填写 9.2，按各行计算应为 9.25"
    bad = [row[:] for row in grid]
    bad[1][1] = "八"  # a column with an unreadable cell cannot be checked
    bad[4][1] = 99
    _, issues, _ = parse(bad)
    assert [i.code for i in issues] == ["not-a-number", "total-mismatch"]


def test_cell_problems_are_reported_on_their_cell():
    from villagescore.core.normalize import CellProblem

    grid = [["票号", "班子团结", "产业增收", "是否作废"], [1, CellProblem("formula-no-value"), 9, ""],
            [2, CellProblem("formula-error", "#REF!"), None, None]]
    rows, issues, _ = parse(grid, keep_if_only={"serial"})
    assert [r.row for r in rows] == [2, 3]
    assert [(i.code, i.cell) for i in issues] == [("formula-no-value", "B2"), ("formula-error", "B3")]
    assert issues[1].message == "公式的计算结果是错误值 #REF!"
