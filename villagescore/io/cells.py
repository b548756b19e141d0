"""Writing a text that came from a clerk (a unit name, a criterion, a file name) into a cell with xlsxwriter,
so that it stays exactly that text; and its display width, for the column holding it.

Workbooks are opened with ``TEXT_OPTIONS``: no text is taken for a formula, a link or a number. And
xlsxwriter takes any string that starts with ``<r>`` and ends with ``</r>`` for rich-text XML and writes it
into the file unescaped, shared or inline: ``<r>A&B</r>`` typed into a roster would make every form or
summary holding it a file Excel refuses. Such a text is written as a rich string of runs in the cell's own
format instead, escaped like any other; every other text is written as it is.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

TEXT_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}

_WIDTHS: dict[str, int] = {}  # text → display_width(text): the same texts are measured again and again
_WIDTHS_MAX = 200_000


def display_width(text: str) -> int:
    """Display width: 2 per CJK (wide) character, 1 for any other (a line break too)."""
    width = _WIDTHS.get(text)
    if width is None:
        if text.isascii():  # no ASCII character is wide
            width = len(text)
        else:
            width = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
        if len(_WIDTHS) >= _WIDTHS_MAX:
            _WIDTHS.clear()
        _WIDTHS[text] = width
    return width


def looks_rich(text: str) -> bool:
    """A text xlsxwriter would write as rich-text XML."""
    return text.startswith("<r>") and text.endswith("</r>")


def write_text(ws: Any, row: int, col: int, text: str, fmt: Any = None, write: Any = None) -> Any:
    """``ws.write_string`` (or ``write``, the same call without its A1 wrapper) that keeps ``text`` a text."""
    if not looks_rich(text):
        return (write or ws.write_string)(row, col, text, fmt)
    if fmt is None:  # three runs in the default font (xlsxwriter wants more than two fragments)
        return ws.write_rich_string(row, col, text[:1], text[1:2], text[2:])
    return ws.write_rich_string(row, col, fmt, text[:1], fmt, text[1:], fmt)


# two-character words a header label must not break inside (a label is a few words: no dictionary needed)
_WORDS = ("得分", "等次", "评价", "评定", "综合", "结果", "运用", "考核", "考评", "变化", "名次", "依据", "工作",
          "单位", "名称", "代码", "类型", "备注", "期间", "社区", "党委", "县委", "乡镇", "街道", "书记", "组织",
          "发展", "质量", "集中", "服务", "效果", "即时", "民生", "诉求", "日常", "作风", "匿名", "逆向", "公众",
          "评议", "基础", "加减", "站办", "办所", "上期", "本期", "所属", "名单", "整改", "人数", "分数", "合计",
          "状态", "文件", "事项", "总分", "年度", "季度", "动态", "星级", "队伍", "班子", "产业", "乡村", "环境",
          "实绩", "领导", "上半年", "下半年", "考绩", "绩效", "擂台", "发言", "完成", "重点", "难点", "配合",
          "站办所", "奖励", "惩罚", "加分", "减分", "职责", "财务", "测评", "民主", "履职", "管理", "约谈", "提级",
          "三色", "星级化", "总体", "述职", "满意", "经费", "措施", "情况", "时限", "责任", "问题", "级别", "方法", "改正")
_ATOM = re.compile(r"（[^（）]*）|\([^()]*\)|“[^“”]*”|\d+年度?|第.季度|[0-9A-Za-z.%+\-]+|"
                   + "|".join(sorted(_WORDS, key=len, reverse=True)) + r"|.", re.S)


def balanced_lines(text: str, cap: int) -> str:
    """A header label wider than ``cap`` as lines of about equal width, broken between words (a bracketed part,
    a number or a known two-character word stays whole), joined with line breaks; a narrower one as it is."""
    if "\n" in text or display_width(text) <= cap:
        return text
    atoms = _ATOM.findall(text)
    widths = [display_width(a) for a in atoms]
    n = min(math.ceil(sum(widths) / (cap + 2)), len(atoms))
    best = _partition(widths, n)
    while n < min(len(atoms), 3) and max(_group_widths(widths, best)) > cap + 2:  # a line still too wide
        more = _partition(widths, n + 1)
        if max(_group_widths(widths, more)) >= max(_group_widths(widths, best)):
            break
        n, best = n + 1, more
    out, i = [], 0
    for size in best:
        out.append("".join(atoms[i:i + size]))
        i += size
    return "\n".join(out)


def _group_widths(widths: list[int], sizes: list[int]) -> list[int]:
    out, i = [], 0
    for size in sizes:
        out.append(sum(widths[i:i + size]))
        i += size
    return out


def _partition(widths: list[int], n: int) -> list[int]:
    """Sizes of ``n`` contiguous groups of ``widths`` whose widest group is as narrow as it can be."""
    k = len(widths)
    prefix = [0]
    for w in widths:
        prefix.append(prefix[-1] + w)
    inf = float("inf")
    # cost[j][i]: the best widest line laying the first i atoms on j lines; cut[j][i]: the last line's start
    cost = [[inf] * (k + 1) for _ in range(n + 1)]
    cut = [[0] * (k + 1) for _ in range(n + 1)]
    cost[0][0] = 0
    for j in range(1, n + 1):
        for i in range(1, k + 1):
            for s in range(j - 1, i):
                c = max(cost[j - 1][s], prefix[i] - prefix[s])
                if c <= cost[j][i]:  # of equal widths, the one with the longer first lines
                    cost[j][i], cut[j][i] = c, s
    sizes, i = [], k
    for j in range(n, 0, -1):
        s = cut[j][i]
        sizes.append(i - s)
        i = s
    return sizes[::-1]


__all__ = ["TEXT_OPTIONS", "display_width", "looks_rich", "write_text", "balanced_lines"]
