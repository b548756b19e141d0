"""Validation issues as data: a code, a place, and a Chinese message built from a template.

Each code has one template that names the rule and one hint that names the fix, in the spirit of
pyxform's ``ErrorCode`` and frictionless' ``Report``. Checks return issues; they never raise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Iterable


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"

    @property
    def label(self) -> str:
        return "错误" if self is Severity.ERROR else "提示"


@dataclass(frozen=True)
class Code:
    code: str
    severity: Severity
    template: str
    hint: str


def _c(code: str, sev: str, template: str, hint: str) -> Code:
    return Code(code, Severity(sev), template, hint)


# fmt: off
CODES: dict[str, Code] = {c.code: c for c in [
    # --- files ---
    _c("file-unreadable", "error", "无法读取该文件：{reason}", "请用 Excel 或 WPS 打开后另存为 .xlsx 再提交。"),
    _c("file-unknown", "warning", "该工作簿不是本工具生成的表格，已跳过", "请使用 villagescore template 生成的表格填报。"),
    _c("file-other-scheme", "error", "该表属于考评方案“{found}”，本次计算使用“{expected}”", "请确认文件夹中只放本方案的表格。"),
    _c("file-other-period", "error", "该表属于 {found} 期，本次计算的是 {expected}", "请把其他期间的表格移出文件夹，或用 --period 指定期间。"),
    _c("template-version", "warning", "表格模板版本为 {found}，当前工具版本生成的模板为 {expected}", "建议用当前版本重新生成表格。"),
    _c("duplicate-file", "warning", "与 {other} 内容完全相同，只计一次", "删除重复的文件即可。"),
    _c("conflicting-files", "error", "{unit} 的“{form}”有两份不同的文件：{other}", "请核对后只保留一份。"),
    # --- tables ---
    _c("sheet-missing", "error", "找不到工作表“{sheet}”", "请不要删除或改名工作表。"),
    _c("header-missing", "error", "找不到表头（应含：{labels}）", "请不要修改表头行。"),
    _c("column-missing", "error", "表头缺少“{label}”列", "请恢复该列，不要删除或改名表头。"),
    _c("not-a-number", "error", "“{value}”不是数字", "请填写数字，例如 {example}。"),
    _c("out-of-range", "error", "{label}应在 {min} 到 {max} 之间，填写的是 {value}", "请核对纸质原件后改正。"),
    _c("too-many-decimals", "error", "{label}最多保留 {places} 位小数，填写的是 {value}", "请按原件填写，不要多写小数位。"),
    _c("not-an-option", "error", "“{value}”不是“{label}”的可选项（可选：{options}）", "请从下拉列表中选择。"),
    _c("not-a-band", "error", "“{value}”既不是“{label}”的档次（{options}），也不是 {min} 至 {max} 之间的分数",
       "请选择档次，或填写该项的得分（最多 2 位小数）。"),
    _c("missing-value", "error", "“{label}”未填写", "请按原件补填。"),
    _c("form-empty", "error", "“{form}”还没有填写：{detail}",
       "请按收回的原件填写后再检查；还没收回的，先收齐。"),
    _c("register-empty", "error", "“{form}”没有登记任何事项，也没有在“{label}”处选“是”，视为尚未填写",
       "本期确实没有的，请在表格上方“{label}”右侧选“是”；有的请逐条登记。"),
    _c("register-empty-list", "warning", "“{form}”没有登记任何事项，也没有在“{label}”处选“是”，按本期无事项列出",
       "本期确实没有的，请在表格上方“{label}”右侧选“是”；有的请逐条登记。"),
    _c("register-none-but-rows", "error", "已在“{label}”中选“是”，但表中登记了 {count} 条事项",
       "请核对：确实没有的删去登记行；有事项的清空“{label}”。"),
    _c("ballot-item-missing", "error", "测评票的“{label}”未填写", "请按纸质票补填；整张票无效时在“是否作废”中选“是”。"),
    _c("identity-in-anonymous", "error", "匿名登记表中出现疑似身份信息（{what}）", "匿名评价不得记录姓名、电话或身份证号，请删除后再提交。"),
    # --- ballots ---
    _c("duplicate-serial", "error", "票号 {serial} 重复（另见第 {other_row} 行）", "每张票只录入一次，请核对票号。"),
    _c("too-many-ballots", "error", "录入 {count} 张票，多于发放的 {issued} 张", "请核对发放和回收数量。"),
    _c("evaluators-changed", "warning", "名册中 {unit} 的测评人数为 {roster}，本表按发放 {issued} 张生成，以本表为准",
       "如测评人数确有变化，请改正名册后重新生成该单位的测评票。"),
    _c("too-few-valid", "error", "有效票 {valid} 张，少于方案要求的 {min} 张", "请核实测评会参会人数，或补录选票。"),
    _c("blank-ballot", "warning", "票号 {serial} 未填写任何分数，视为未收回", "如该票已收回但空白，请在“是否作废”中选“是”。"),
    _c("void-ballot", "warning", "票号 {serial} 已标记作废，不计入", ""),
    _c("vote-ballot-empty", "warning", "票号 {serial} 没有投任何一票，按作废票计", "如录入时漏填，请按纸质票补录。"),
    _c("vote-both-ways", "error", "“{form}”逐票录入和“测评结果汇总”都填写了，无法确定以哪个为准",
       "逐票录入和结果汇总只填其一：请清空其中一个工作表。"),
    _c("vote-none", "error", "“{form}”既没有逐票录入，也没有填写“测评结果汇总”", "请逐票录入，或在“测评结果汇总”中填写各人得票数。"),
    _c("vote-tally-missing", "error", "“测评结果汇总”中 {who} 的得票数未填写", "请填写各选项的得票数（没有则填 0）。"),
    _c("vote-tally-unknown", "error", "“测评结果汇总”中的代码“{who}”不是本单位的评价对象", "请不要修改灰底的代码和评价对象两列。"),
    _c("vote-tally-uneven", "warning", "“测评结果汇总”中各评价对象的得票合计不同（{detail}）",
       "每张有效票对每人投一票时合计应相同；弃权或漏投会使合计不同，请核对。"),
    _c("form-not-applicable", "warning", "“{form}”不适用于 {unit}（类型：{type}），未计入", "请确认单位代码是否填错。"),
    # --- units and coverage ---
    _c("unit-unknown", "error", "单位代码 {code} 不在名册中", "请核对单位代码，或先更新名册。"),
    _c("form-missing", "error", "{unit} 缺少“{form}”", "请收齐该表后重新计算。"),
    _c("unit-row-missing", "error", "“{form}”中没有 {unit} 的行", "请在该表中补上此单位的数据。"),
    _c("unit-row-duplicate", "error", "“{form}”中 {unit} 出现了两次（另见第 {other_row} 行）", "每个单位只填一行。"),
    _c("no-answers", "error", "“{form}”合计为 0 份答卷，无法计算", "请填写各选项的答卷份数。"),
    _c("pending-verification", "warning", "第 {row} 行反映事项“{item}”尚待核实，暂不扣分", "核实后请更新“核实结果”并重新计算。"),
    _c("draw-mismatch", "error", "回访诉求与抽取记录不一致：{detail}", "请使用生成的回访表，不要改动诉求编号。"),
    _c("draw-short", "warning", "{unit} 的台账只有 {count} 件诉求，少于应抽取的 {want} 件，已全部抽取", "请核实台账是否完整。"),
    _c("criteria-count", "error", "{unit} 的考核细则有 {count} 项，方案要求 {want} 项", "请在考核细则表中补齐。"),
    _c("criteria-aspect", "error", "{unit} 的“{aspect}”方面有 {count} 项细则，方案要求 {want} 项", "请按方案每个方面选取规定项数。"),
    _c("veto-unknown", "error", "“{value}”不是方案中的一票否决事项", "请从下拉列表中选择。"),
    _c("leaf-missing", "error", "{unit} 的“{leaf}”没有得分（《{form}》中“{column}”未填写）", "请补填后重新计算。"),
    # --- reading (appended) ---
    _c("password-protected", "error", "文件设置了打开密码，无法读取", "请在 Excel/WPS 中取消密码（文件→信息→保护工作簿）后另存为 .xlsx 再提交。"),
    _c("sheet-trimmed", "warning", "工作表“{sheet}”在 {cell} 等处有超出读取范围（前 {rows} 行、{cols} 列）的内容，已忽略", "请删除表格下方或右侧多余的单元格；如确有数据，请移到表内。"),
    _c("roster-missing", "error", "{name}的“{label}”未填写：{why}", "请在名册中补填后重新生成表格或重新计算。"),
    _c("setup-wrong-form", "error", "该文件是“{found}”，这里需要的是“{expected}”", "请检查命令中名册、考核细则、台账的文件是否放反了。"),
    _c("ledger-duplicate", "error", "{unit} 的诉求编号 {request_id} 重复（另见第 {other_row} 行）", "每件诉求只登记一行，编号不得重复。"),
    # --- ingest (issue 3) ---
    _c("sheet-too-large", "error", "工作表“{sheet}”在 {cell} 处有内容，超出可读取的范围（前 {rows} 行、{cols} 列），整个文件因此无法读取", "请删除表格下方或右侧多余的内容，保存后再提交；如确有数据，请移到表内。"),
    _c("macros-ignored", "warning", "文件含有宏（VBA 代码），宏没有运行，只读取了单元格中保存的值", "如表格依赖宏计算，请核对数值；提交时可另存为不含宏的 .xlsx。"),
    _c("sheet-hidden", "warning", "工作表“{sheet}”处于隐藏状态，{effect}", "请在 Excel/WPS 中取消隐藏核对；不需要的工作表请删除。"),
    _c("row-hidden", "warning", "第 {row} 行被隐藏，其中的数据已计入", "请取消隐藏核对该行；不应计入的行请删除，而不是隐藏。"),
    _c("formula-no-value", "error", "该单元格是公式，但文件中没有保存公式的计算结果", "请用 Excel 或 WPS 打开该文件，确认结果正确后保存，再提交。"),
    _c("formula-error", "error", "公式的计算结果是错误值 {value}", "请改正该公式或它引用的单元格（或直接填写数值），用 Excel 或 WPS 保存后再提交。"),
    _c("long-number", "error", "“{label}”是超过 15 位的数字 {value}，Excel 已把末尾几位变成 0，原号码无法确认", "请把该列设为“文本”格式后重新输入（或在号码前加英文单引号 '）。"),
    _c("total-mismatch", "warning", "“{label}”的{kind}行填写 {value}，按各行计算应为 {expected}", "合计、平均行不参与计算；请核对各行数据或该行是否填错。"),
    _c("foreign-identified", "warning", "该表不是本工具生成的，已按表头识别为“{form}”（单位：{unit_how}；期间：{period}）", "请核对识别是否正确；今后请尽量使用 villagescore template 生成的表格。"),
    _c("foreign-unit-unknown", "error", "该表按表头应是“{form}”，但无法确定是哪个单位（表内、标题、工作表名和文件名中都没有名册中的单位）", "请在文件名或表格标题中写明单位名称，例如“青山村”。"),
    _c("foreign-period-unknown", "error", "该表按表头应是“{form}”，但无法确定属于哪一期（本次有 {periods}）", "请在文件名或表格标题中写明期间（如“2025年上半年”），或用 --period 只算一期。"),
    _c("file-not-workbook", "warning", "该文件不是 Excel/WPS 工作簿（{kind}），未读取", "如其中有应提交的数据，请录入生成的表格后提交。"),
    # --- robustness (issue 14) ---
    _c("number-too-large", "error", "“{label}”填写的数值 {value} 过大，不是有效的分数或数量", "请按原件填写；可能是误粘贴或多按了键。"),
    _c("text-too-long", "error", "“{label}”最多 {limit} 个字，填写了 {length} 个字", "请删减到规定字数以内；详细材料另附，不要粘贴进表格。"),
    _c("rows-beyond-form", "error", "第 {first} 行起还有 {count} 个单元格有内容，超出表格范围（本表最多 {capacity} 行记录），未读取",
       "请删除表格下方多余的内容（例如误拖动填充的数据）；如确有数据，请核对后填在表内。"),
    _c("merged-cells", "error", "填写区域中有合并单元格 {cell}，合并后各格的数值无法确定", "请取消合并，在每个单元格中分别填写。"),
    _c("identity-mismatch", "error", "这份表的内部记录属于 {claimed}，但表头写的是 {shown}，所在文件夹是 {folder}，无法确定属于哪个单位，未计入",
       "请使用该单位自己的表格（villagescore template 生成），不要复制其他单位的表格后修改。"),
    # --- ballots read from scans, online questionnaires (issue 18) ---
    _c("scan-review-pending", "error", "票号 {serial}「{label}」扫描时无法确认，还没有填写核对结果（录入表 {entry}）", "请看图并核对纸质票，在“核对结果”中选择；也可直接在录入表的该单元格填写。"),
    _c("scan-answer-invalid", "error", "核对结果“{value}”不是可选的答案（可选：{options}）", "请从下拉列表中选择。"),
    _c("scan-answer-conflict", "error", "核对结果为“{value}”，但录入表 {entry} 填写的是“{other}”", "两处只留一处，或改为一致。"),
    _c("scan-page-not-entered", "error", "核对结果为“已录入”，但录入表中票号 {serial} 的一行（{entry}）还没有录入", "请按纸质票录入该行；不计入的选“不计入”，废票选“作废”。"),
    _c("scan-review-unknown", "error", "扫描核对表中的票号 {serial}、代码“{key}”在录入表中找不到", "请不要修改扫描核对表的票号和代码两列。"),
    _c("scan-file-unreadable", "error", "无法读取扫描件：{reason}", "请重新扫描或导出该文件；手机照片请存为 JPEG 或 PNG。"),
    _c("scan-page-unread", "warning", "第 {page} 页未读入：{reason}。{hint}", ""),
    _c("scan-review-needed", "warning", "{unit}“{form}”有 {count} 张票需要人工核对（共 {items} 处）", "请打开该录入表的“扫描核对”工作表，看图并核对纸质票后填写核对结果。"),
    _c("survey-answer-unknown", "error", "第 {row} 行“{question}”的回答“{value}”不在方案的答案对照中", "请在方案文件该表的 [forms.survey] answers 中写明这个回答计入哪一项（或列入 ignore）。"),
    _c("survey-unit-unknown", "error", "第 {row} 行的“{value}”不是名册中的单位", "请在方案文件的 [forms.survey] units 中写明它对应的单位代码，或核对问卷的选项。"),
    _c("survey-column-missing", "error", "问卷导出表缺少“{label}”列", "请导出完整的答卷数据（问卷星：下载答卷数据→按选项文本；腾讯问卷：导出 Excel），不要删除列。"),
    _c("survey-read", "warning", "网上问卷导出表：{count} 份答卷计入 {units} 个单位（{period}）", "请核对答卷份数。"),
    # --- the committee's decisions (issue 13) ---
    _c("decision-other-scheme", "error", "这份党委研究事项表属于考评方案“{found}”，本次计算使用“{expected}”，其中的决定均未应用",
       "请放入本方案计算时生成的党委研究事项表。"),
    _c("decision-other-period", "error", "这份党委研究事项表属于 {found}，本次计算的是 {expected}，其中的决定均未应用",
       "请把其他期间的党委研究事项表移出本期文件夹（或用 --period 计算该期）。"),
    _c("decision-conflict", "error", "本期有两份不同的党委研究事项表（另见 {other}），无法确定以哪份为准，两份的决定均未应用",
       "请只保留最新研究填写的一份。"),
    _c("decision-stale", "error", "第 {row} 行的研究事项（{item}）在本次计算中已不存在：{why}；其决定未应用",
       "事项表是按此前的计算生成的，数据已有改变：请按本次计算新生成的党委研究事项表重新研究填写。"),
    _c("decision-not-allowed", "error", "决定“{choice}”不是本事项可选的决定（可选：{options}）{why}", "请从下拉列表中选择。"),
    _c("decision-places", "error", "同分单位（{units}）中决定为“{grade}”的有 {given} 个，名额为 {places} 个；本事项的决定未应用",
       "同分单位各等次的个数须与“研究事项”栏写明的名额相同（党委确定的是哪些单位，不是几个），请改正后重新计算。"),
    _c("decision-incomplete", "error", "同分单位（{units}）只有 {given} 个填写了决定，{missing}未填写；本事项的决定未应用",
       "同一组同分单位须全部填写决定，名额才能确定。"),
    _c("decision-date", "error", "日期“{value}”无法识别", "请填写研究的日期，例如 2025-07-08 或 2025年7月8日。"),
    _c("decision-not-applied", "warning", "第 {row} 行的决定暂未应用：该项等次本次暂不评定（有单位未算出得分）",
       "改正其他错误后重新计算，决定即会应用。"),
    _c("decisions-empty", "warning", "党委研究事项表中还没有填写任何决定", "党委研究后填写“决定”“会议/文号”“日期”三栏；尚未研究的事项留空。"),
]}
# fmt: on


PARAM_CHARS = 60  # a value longer than this (a pasted document, a long number) is cut in messages


def shorten(text: str, limit: int = PARAM_CHARS) -> str:
    """``text`` cut to about ``limit`` characters for a message, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit - 20]}…（共 {len(text):,} 字）"


HINT_DEFAULTS = {"example": "85 或 85.5"}  # a hint's value when the issue does not carry its own


@dataclass(frozen=True)
class Issue:
    code: str
    file: str = ""
    sheet: str = ""
    cell: str = ""  # Excel reference as shown, e.g. "C7"; a whole row as "7", a column as "C"; a range "C5:C9"
    unit: str = ""
    params: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # places this line stands for: the cells of a range (``compact``), or, with ``omitted``, the issues of its
    # code in its file that are not listed one by one
    count: int = field(default=1, compare=False)
    omitted: bool = field(default=False, compare=False)

    @property
    def spec(self) -> Code:
        return CODES[self.code]

    @property
    def severity(self) -> Severity:
        return self.spec.severity

    @property
    def message(self) -> str:
        params = {k: shorten(v) if isinstance(v, str) else v for k, v in self.params.items()}
        try:
            text = self.spec.template.format(**{"unit": self.unit or "全部单位", "sheet": self.sheet,
                                                "cell": self.cell, **params})
        except (KeyError, IndexError):
            text = self.spec.template
        if self.omitted:
            return f"另有 {self.count:,} 处同类问题未逐条列出（本文件此类共 {self.params.get('_total', 0):,} 处），" \
                   f"例如：{text}"
        if self.count > 1:
            return f"{text}（{self.cell} 共 {self.count:,} 格）"
        return text

    @property
    def hint(self) -> str:
        """The fix, with the issue's own values where the hint names them (an example that fits the column)."""
        if "{" not in self.spec.hint:
            return self.spec.hint
        try:  # an issue made before the hint named a value (an archived run) gets the general example
            return self.spec.hint.format(**{**HINT_DEFAULTS, **self.params})
        except (KeyError, IndexError):
            return self.spec.hint

    @property
    def where(self) -> str:
        parts = [p for p in (self.file, self.sheet and f"工作表“{self.sheet}”", self.cell and f"单元格 {self.cell}") if p]
        return "，".join(parts)

    def text(self) -> str:
        where = self.where
        return f"[{self.severity.label}] {where + '：' if where else ''}{self.message}" + (
            f"（{self.hint}）" if self.hint else ""
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "file": self.file,
            "sheet": self.sheet,
            "cell": self.cell,
            "unit": self.unit,
            "message": self.message,
            "hint": self.hint,
            "count": self.count,
        }


def issue(code: str, /, *, file: str = "", sheet: str = "", cell: str = "", unit: str = "", **params: Any) -> Issue:
    if code not in CODES:
        raise KeyError(f"unknown issue code {code}")
    return Issue(code, file, sheet, cell, unit, params)


class FatalInput(Exception):
    """Input that makes the whole run impossible (no roster, no period to compute): ``message`` says why, in
    Chinese; the command line prints it and exits 2. Everything else is an ``Issue`` in a ``Report``."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass
class Report:
    issues: list[Issue] = field(default_factory=list)

    def add(self, item: Issue) -> None:
        self.issues.append(item)

    def extend(self, items: Iterable[Issue]) -> None:
        self.issues.extend(items)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def units_with_errors(self) -> set[str]:
        return {i.unit for i in self.errors if i.unit}

    def as_dicts(self) -> list[dict[str, Any]]:
        return [i.as_dict() for i in self.issues]


def dedupe(issues: list[Issue]) -> list[Issue]:
    """One issue per place: a cell already reported as wrong is not reported again as missing."""
    out, places = [], set()
    for i in issues:
        if i.cell and i.severity is Severity.ERROR:
            key = (i.file, i.sheet, i.cell)
            if key in places:
                continue
            places.add(key)
        out.append(i)
    return out


def cell_order(cell: str) -> tuple[int, int]:
    """(row, column) of a cell reference such as "E31", so that E9 sorts before E31; (0, 0) for none."""
    m = re.fullmatch(r"([A-Z]*)(\d*)", cell)
    if not m:
        return (0, 0)
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return (int(m.group(2) or 0), col)


# ------------------------------------------------------------------ many issues of one kind

ISSUES_PER_FILE_AND_CODE = 20  # listed one by one; the rest of a file's issues of one code: one line that counts them
_REF = re.compile(r"([A-Z]+)(\d+)")


def compact(issues: list[Issue], cap: int = ISSUES_PER_FILE_AND_CODE) -> list[Issue]:
    """Issues as a clerk can read them, however many cells are wrong (every producer's issues pass here).

    * The same message on cells one below the other in one column becomes one line on the range:
      "C5:C10004" with ``count`` 10,000 ("……（C5:C10004 共 10,000 格）").
    * Of one file's issues of one code (and unit), the first ``cap`` lines are kept; the rest become one line of
      that code, severity and unit (``omitted``), which says how many there were in all.

    Issues without a file, without a single-cell reference, and the order of the issues are kept.
    """
    merged: list[Issue] = []
    last: dict[tuple, int] = {}  # (code, file, sheet, unit, column, message) → index in merged of the open run
    for i in issues:
        m = _REF.fullmatch(i.cell) if i.cell and i.count == 1 and not i.omitted else None
        if m is None:
            merged.append(i)
            continue
        col, row = m.group(1), int(m.group(2))
        key = (i.code, i.file, i.sheet, i.unit, col, i.message)
        at = last.get(key)
        if at is not None:
            run = merged[at]
            first, end = run.cell.split(":") if ":" in run.cell else (run.cell, run.cell)
            end_ref = _REF.fullmatch(end)  # a cell or range merged above: always a reference
            if end_ref is not None and int(end_ref.group(2)) == row - 1:
                merged[at] = replace(run, cell=f"{first}:{col}{row}", count=run.count + 1)
                continue
        last[key] = len(merged)
        merged.append(i)
    if cap <= 0:
        return merged
    # per file, code and unit: a township form's issues stay with their units (an error stops its unit's result)
    totals: dict[tuple[str, str, str], int] = {}
    for i in merged:
        if i.file:
            totals[i.code, i.file, i.unit] = totals.get((i.code, i.file, i.unit), 0) + i.count
    out: list[Issue] = []
    kept: dict[tuple[str, str, str], int] = {}
    rest: dict[tuple[str, str, str], int] = {}  # (code, file, unit) → index in out of the line counting the rest
    for i in merged:
        k = (i.code, i.file, i.unit)
        if not i.file or kept.get(k, 0) < cap:
            kept[k] = kept.get(k, 0) + 1
            out.append(i)
        elif k not in rest:
            rest[k] = len(out)
            out.append(replace(i, omitted=True, params={**i.params, "_total": totals[k]}))
        else:
            out[rest[k]] = replace(out[rest[k]], count=out[rest[k]].count + i.count)
    return out
