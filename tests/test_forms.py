"""The blank-form writer: layout contract, identity sheet, validation, protection, printing."""

from __future__ import annotations

import re
import zipfile
from decimal import Decimal
from io import BytesIO

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from villagescore import TEMPLATE_VERSION
from villagescore.core import layout
from villagescore.io.forms import SIGNATURES
from villagescore.core.draw import draw_requests
from villagescore.core.records import Criterion, LedgerEntry, Setup, Unit
from villagescore.core.scheme import ScoreBallot
from villagescore.io import forms, period_forms, schemes

PERIOD = "2025H1"
TEXTS = [
    "班子团结协作，议事规则落实到位", "党员教育管理规范", "特色种植产业覆盖全村农户", "村集体经济收入稳步增长",
    "便民服务站按时开放", "群众诉求件件有回音", "垃圾定点收集、定时清运", "村内道路和沟渠整洁畅通",
    "年度重点工作任务按期完成", "防返贫监测帮扶措施落实",
]


@pytest.fixture(scope="module")
def scheme():
    return schemes.load("pingbian")


@pytest.fixture(scope="module")
def units():
    return [
        Unit("C01", "青山村", "村", "王小明", "示例乡"),
        Unit("C02", "河口社区", "社区", "陈小红", "示例乡"),
        Unit("C03", "石门村", "村", "刘大山", "示例乡"),
    ]


@pytest.fixture(scope="module")
def setup(scheme, units):
    aspects = scheme.criteria.aspects
    criteria = {
        u.code: [Criterion(u.code, aspects[i // 2], i + 1, f"{TEXTS[i]}（{u.name}）", Decimal(10)) for i in range(10)]
        for u in units
    }
    ledger = {
        u.code: [LedgerEntry(u.code, f"{u.code}-{k:03d}", f"2025-03-{k:02d}", "赵某某", "13900000000",
                             f"反映第{k}组路灯损坏", "已办结") for k in range(1, 9)]
        for u in units
    }
    ledger["C03"] = ledger["C03"][:3]  # fewer than the 5 to draw
    return Setup(units, criteria, ledger)


@pytest.fixture(scope="module")
def draws(setup):
    return {u.code: draw_requests(setup.ledger[u.code], u.code, PERIOD, 20250701, 5) for u in setup.units}


def _open(data: bytes):
    return openpyxl.load_workbook(BytesIO(data))


def _identity(data: bytes) -> dict[str, str]:
    wb = CalamineWorkbook.from_filelike(BytesIO(data))
    rows = wb.get_sheet_by_name(layout.IDENTITY_SHEET).to_python()
    return {k: ("" if v is None else str(v)) for k, v, *_ in rows}


def _entry(scheme, setup, draws, form_id: str, code: str = "C01") -> bytes:
    form = scheme.form(form_id)
    if form.scope == "township":
        return forms.build_entry_workbook(scheme, form, PERIOD, units=setup.units)
    return forms.build_entry_workbook(scheme, form, PERIOD, unit=setup.unit(code),
                                      criteria=setup.criteria[code], draw=draws[code])


FORM_IDS = ["ballot", "callback", "questionnaire", "anonymous", "committee"]


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_header_row_is_the_layout_contract(scheme, setup, draws, form_id):
    data = _entry(scheme, setup, draws, form_id)
    form = scheme.form(form_id)
    labels = [c.label for c in layout.entry_columns(scheme, form, setup.criteria["C01"])]
    wb = _open(data)
    assert wb.sheetnames[0] == form.short and wb.active.title == form.short
    ws = wb[form.short]
    assert [c.value for c in ws[4]][: len(labels)] == labels
    assert ws.max_column == len(labels)
    assert ws.cell(1, 1).value == form.title
    assert "期间：2025年上半年" in ws.cell(2, 1).value
    assert ws.cell(3, 1).value
    assert any(str(r) == f"A1:{openpyxl.utils.get_column_letter(len(labels))}1" for r in ws.merged_cells.ranges)
    # calamine sees the same header
    rows = CalamineWorkbook.from_filelike(BytesIO(data)).get_sheet_by_name(form.short).to_python()
    assert rows[3][: len(labels)] == labels


def test_identity_sheet(scheme, setup, draws):
    data = _entry(scheme, setup, draws, "callback")
    wb = _open(data)
    assert wb[layout.IDENTITY_SHEET].sheet_state in ("veryHidden", "hidden")
    assert wb.sheetnames.index(layout.IDENTITY_SHEET) > 0
    keys = [wb[layout.IDENTITY_SHEET].cell(r, 1).value for r in range(1, len(layout.IDENTITY_KEYS) + 1)]
    assert tuple(keys) == layout.IDENTITY_KEYS
    ident = _identity(data)
    d = draws["C01"]
    assert ident == {
        "tool": "villagescore", "role": "entry", "scheme_id": "pingbian", "scheme_version": "1.0",
        "form_id": "callback", "unit_code": "C01", "unit_name": "青山村", "period": PERIOD,
        "template_version": TEMPLATE_VERSION, "sheet": "回访核查表", "seed": str(d.seed),
        "drawn": ",".join(d.ids), "issued": "",
    }
    ballot = _identity(_entry(scheme, setup, draws, "ballot"))
    assert (ballot["issued"], ballot["seed"], ballot["sheet"]) == ("20", "", "测评票")
    town = _identity(_entry(scheme, setup, draws, "committee"))
    assert (town["unit_code"], town["form_id"], town["role"]) == ("", "committee", "entry")


def test_prefilled_records(scheme, setup, draws):
    ws = _open(_entry(scheme, setup, draws, "ballot")).active
    assert [ws.cell(r, 1).value for r in range(5, 25)] == list(range(1, 21))
    assert ws.max_row == 24

    ws = _open(_entry(scheme, setup, draws, "callback")).active
    for i, e in enumerate(draws["C01"].entries):
        row = [c.value for c in ws[5 + i]]
        assert row[:6] == [i + 1, e.request_id, e.date, e.content, e.requester, e.phone]
        assert row[6:] == [None] * 7
    short = _open(_entry(scheme, setup, draws, "callback", "C03")).active
    assert short.max_row == 4 + 3 + 2 and "全部抽取" in short.cell(3, 1).value
    assert short.cell(9, 1).value.startswith("回访人：")  # who called back signs below the table

    ws = _open(_entry(scheme, setup, draws, "questionnaire")).active
    assert [ws.cell(r, 1).value for r in range(5, ws.max_row - 1)] == ["服务态度", "服务响应", "服务效果"]
    assert ws.cell(ws.max_row, 1).value.startswith("统计人：")

    ws = _open(_entry(scheme, setup, draws, "anonymous")).active
    assert [ws.cell(r, 1).value for r in range(5, ws.max_row + 1)] == list(range(1, 41))

    ws = _open(_entry(scheme, setup, draws, "committee")).active
    assert ws.cell(ws.max_row, 1).value.startswith("审核人：")  # the committee signs its scores
    assert [(ws.cell(r, 1).value, ws.cell(r, 2).value) for r in range(5, ws.max_row - 1)] == [
        ("C01", "青山村"), ("C02", "河口社区"), ("C03", "石门村")]
    assert "乡镇：示例乡" in ws.cell(2, 1).value


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_validation_and_protection(scheme, setup, draws, form_id):
    form = scheme.form(form_id)
    cols = layout.entry_columns(scheme, form, setup.criteria["C01"])
    ws = _open(_entry(scheme, setup, draws, form_id)).active
    fixed = {i for i, c in enumerate(cols) if c.key in layout.prefilled_keys(form)
             and [x.key for x in cols].index(c.key) == i}
    by_col = {}
    last = ws.max_row - (2 if form.kind in SIGNATURES else 0)  # a signature line two rows below the table
    for dv in ws.data_validations.dataValidation:
        if str(dv.sqref).endswith("3"):  # a register's 本期无… box, right of the note row
            assert form.kind == "register" and dv.formula1 == '"是,否"' and ws.cell(3, next(iter(dv.sqref.ranges)).min_col - 1).value
            continue
        for rng in dv.sqref.ranges:
            assert rng.min_col == rng.max_col and rng.min_row == 5 and rng.max_row == last
            by_col[rng.min_col - 1] = dv
    assert set(by_col) == set(range(len(cols))) - fixed
    expected = {"option": "list", "number": "decimal", "integer": "whole", "text": "textLength"}
    for i, dv in by_col.items():
        c = cols[i]
        assert dv.type == expected[c.type]
        assert dv.showErrorMessage and dv.errorStyle in (None, "stop") and dv.error and dv.prompt
        if c.type == "option":
            assert dv.formula1 == '"' + ",".join(c.options) + '"'
        if c.type == "number" and c.max is not None:
            assert Decimal(dv.formula2) == c.max
    assert ws.protection.sheet and not ws.protection.password
    assert ws.protection.formatColumns is False and ws.protection.formatRows is False
    for i in range(len(cols)):
        assert ws.cell(5, i + 1).protection.locked == (i in fixed)
    assert ws.cell(4, 1).protection.locked and ws.cell(1, 1).protection.locked


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_print_setup(scheme, setup, draws, form_id):
    ws = _open(_entry(scheme, setup, draws, form_id)).active
    assert ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0  # 1 page wide, any length
    assert ws.print_title_rows == "$1:$4"
    assert ws.print_area.endswith(f"${ws.max_row}")
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    assert ws.print_options.horizontalCentered
    wide = form_id in ("ballot", "callback", "committee")  # > 7 columns, or wider than ~100 width units
    assert ws.page_setup.orientation == ("landscape" if wide else "portrait")
    font = ws.cell(4, 1).font
    assert font.name == forms.FONT and font.b


def test_print_ballots(scheme, setup):
    form, unit = scheme.form("ballot"), setup.unit("C02")
    data = forms.build_print_ballots(scheme, form, PERIOD, unit, setup.criteria["C02"])
    wb = _open(data)
    ws = wb.active
    assert wb.sheetnames[0] == ws.title
    assert len(ws.row_breaks.brk) == form.evaluators - 1
    texts = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    serials = [t for t in texts if t.startswith("票号")]
    assert serials == [f"票号：{i:02d}" for i in range(1, form.evaluators + 1)]
    assert texts.count(form.title) == form.evaluators
    assert texts.count("2025年上半年") == 0 and sum("期间：2025年上半年" in t for t in texts) == form.evaluators
    for crit in setup.criteria["C02"]:
        assert texts.count(crit.text) == form.evaluators
    assert texts.count("合计") == form.evaluators and texts.count("100") == form.evaluators
    assert not any(w in t for t in texts for w in ("姓名", "签名：", "身份证", "电话"))
    assert any("本票不记名" in t for t in texts)
    # the page breaks fall right before each ballot's title
    starts = [r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == form.title]
    assert [b.id for b in ws.row_breaks.brk] == [s - 1 for s in starts[1:]]
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "portrait"
    ident = _identity(data)
    assert (ident["role"], ident["unit_code"], ident["issued"], ident["sheet"]) == ("print", "C02", "20", ws.title)


def test_document_properties_are_anonymous_and_deterministic(scheme, setup, draws):
    for data in (_entry(scheme, setup, draws, "ballot"), forms.build_setup_workbook("roster", scheme),
                 forms.build_print_ballots(scheme, scheme.form("ballot"), PERIOD, setup.unit("C01"),
                                           setup.criteria["C01"])):
        core = zipfile.ZipFile(BytesIO(data)).read("docProps/core.xml").decode()
        assert not re.search(r"<dc:creator>[^<]", core)
        assert not re.search(r"<cp:lastModifiedBy>[^<]", core)
        assert "2000-01-01" in core and "<dc:title>" in core
        app = zipfile.ZipFile(BytesIO(data)).read("docProps/app.xml").decode()
        assert not re.search(r"<(Company|Manager)>[^<]", app)
    assert _entry(scheme, setup, draws, "callback") == _entry(scheme, setup, draws, "callback")


def test_anonymous_form_asks_for_no_identity(scheme, setup, draws):
    form = scheme.form("anonymous")
    data = _entry(scheme, setup, draws, "anonymous")
    ws = _open(data).active
    labels = [c.value for c in ws[4]]
    assert not any(w in (label or "") for label in labels for w in ("姓名", "电话", "身份证"))
    assert form.note in ws.cell(3, 1).value
    bad = type(form).model_validate({**form.model_dump(), "columns": [
        *[c.model_dump() for c in form.columns], {"key": "who", "label": "反映人姓名"}]})
    with pytest.raises(ValueError, match="匿名"):
        forms.build_entry_workbook(scheme, bad, PERIOD, unit=setup.unit("C01"))


def test_setup_workbooks(scheme, units):
    for form_id, n in (("roster", 100), ("ledger", 300), ("criteria", 300)):
        data = forms.build_setup_workbook(form_id, scheme)
        ws = _open(data).active
        assert ws.title == layout.SETUP_TITLES[form_id] == ws.cell(1, 1).value
        assert [c.value for c in ws[4]] == [c.label for c in layout.setup_columns(form_id, scheme)]
        assert ws.max_row == 4 + n
        assert not ws.cell(5, 1).protection.locked
        ident = _identity(data)
        assert (ident["role"], ident["form_id"], ident["period"], ident["unit_code"]) == ("setup", form_id, "", "")
        assert ident["sheet"] == ws.title
    ws = _open(forms.build_setup_workbook("criteria", scheme, units)).active
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=5)]
    assert len(rows) == len(units) * 10
    assert rows[0] == ["C01", "青山村", "班子队伍", 1, None, 10]
    assert rows[9] == ["C01", "青山村", "工作实绩", 10, None, 10]
    assert rows[10][:4] == ["C02", "河口社区", "班子队伍", 1]
    locked = [ws.cell(5, i).protection.locked for i in range(1, 7)]
    assert locked == [True, True, True, True, False, False]
    dv_cols = {r.min_col for dv in ws.data_validations.dataValidation for r in dv.sqref.ranges}
    assert dv_cols == {5, 6}


def test_period_file_names(scheme, units):
    ballot, callback, committee = (scheme.form(x) for x in ("ballot", "callback", "committee"))
    u = units[0]
    assert period_forms.period_file_name(scheme, ballot, "2025h1", u) == "C01_青山村_测评票录入_2025H1.xlsx"
    assert period_forms.period_file_name(scheme, ballot, PERIOD, u, printable=True) == "C01_青山村_测评票（打印）_2025H1.xlsx"
    assert period_forms.period_file_name(scheme, callback, PERIOD, u) == "C01_青山村_回访核查表_2025H1.xlsx"
    assert period_forms.period_file_name(scheme, committee, PERIOD, None) == "乡党委县委评分表_2025H1.xlsx"
    odd = Unit("C/9", '新"村*', "村")
    assert period_forms.period_file_name(scheme, callback, PERIOD, odd) == "C_9_新_村__回访核查表_2025H1.xlsx"


def test_write_period_forms(scheme, setup, draws, tmp_path):
    seen: list[str] = []
    paths = period_forms.write_period_forms(scheme, setup, PERIOD, tmp_path, draws, progress=seen.append)
    tree = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.xlsx"))
    expected = ["乡党委县委评分表_2025H1.xlsx"]
    for u in setup.units:
        for label in ("测评票录入", "测评票（打印）", "回访核查表", "问卷统计表", "匿名评价登记表"):
            expected.append(f"{u.code}_{u.name}/{u.code}_{u.name}_{label}_{PERIOD}.xlsx")
    assert tree == sorted(expected)
    assert sorted(str(p.relative_to(tmp_path)) for p in paths) == sorted(expected)
    assert seen == [p.name for p in paths]
    assert not list(tmp_path.rglob("*.tmp"))
    ident = _identity((tmp_path / "C02_河口社区" / "C02_河口社区_回访核查表_2025H1.xlsx").read_bytes())
    assert ident["drawn"] == ",".join(draws["C02"].ids)


def test_missing_criteria_writes_nothing(scheme, setup, draws, tmp_path):
    broken = Setup(setup.units, {k: v for k, v in setup.criteria.items() if k != "C03"}, setup.ledger)
    with pytest.raises(ValueError, match="石门村"):
        period_forms.write_period_forms(scheme, broken, PERIOD, tmp_path, draws)
    assert not list(tmp_path.rglob("*"))


def test_ballot_with_fixed_items_has_no_aspect_column(scheme, setup):
    form = ScoreBallot.model_validate({**scheme.form("ballot").model_dump(), "items": ["工作态度", "工作成效"],
                                "evaluators": 3})
    ws = _open(forms.build_print_ballots(scheme, form, PERIOD, setup.unit("C01"), [])).active
    assert [c.value for c in ws[4]] == ["考核细则", "分值", "得分"]
    assert [ws.cell(r, 1).value for r in (5, 6, 7)] == ["工作态度", "工作成效", "合计"]
    assert len(ws.row_breaks.brk) == 2
    entry = _open(forms.build_entry_workbook(scheme, form, PERIOD, unit=setup.unit("C01"))).active
    assert [c.value for c in entry[4]] == ["票号", "工作态度", "工作成效", "是否作废"]
    assert entry.max_row == 4 + 3
