"""Every number or list a built-in scheme takes from a seed says so, and every one it does not is marked 【默认】.

A scheme file is read line by line: each tie-breaker, grade list, quota rule, cap, floor and threshold must carry a
note, on its own line or in the comment lines right above it (or on the line opening the list it is in), that is
either 【原文】 followed by the seed's words in quotation marks, or 【默认】 (a default of ours, which a township
may change). A line without one fails the test, naming the file and line.

The same holds where a file says such a value once for many (docs/schemes.md): a leaf written inline in ``[nodes]``
(``x = { …, cap = 10 }``), a default of leaves (``[defaults.nodes.…]``) or of columns (a default ``max`` caps every
entry), and a table of numbers in ``[choices]`` (a band letter's share, an adjustment's points).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from villagescore.io.schemes import builtin_names, resolve

# keys whose lines need a note, by the table they are in
GRADING_KEYS = ("tie_breakers", "grades", "default", "streak")
NODE_KEYS = ("cap", "floor", "min_valid", "trim")
RULE = re.compile(r"^\s*\{\s*grade\s*=")  # an entry of a grading's rules
BAND = re.compile(r"^\s*\{\s*at_least\s*=")  # an entry of a leaf's bands
ENTRY_MAX = re.compile(r"^\s*\{\s*key\s*=.*\bmax\s*=")  # a column with a maximum (on a register: a cap per entry)
SOURCE = re.compile(r"【原文】\s*“[^”]+”|【默认】")
INLINE_NODE_KEYS = re.compile(r"\b(cap|floor|min_valid|trim|bands)\s*=")  # inside a leaf written on one line
TABLE_ENTRY = re.compile(r'^\s*("[^"]+"|[\w-]+)\s*=\s*\{')  # name = { … } (a choice's table, an inline node)


def _comment(line: str) -> str:
    """The comment of a TOML line (a # outside quotes), or ""."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted:
            return line[i + 1:]
    return ""


def unmarked(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every line that needs a note and has none."""
    lines = text.splitlines()
    table, kind, opener = "", "", ""
    out = []
    for n, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            table = stripped
            kind = ""
            opener = ""
            continue
        if m := re.match(r'kind\s*=\s*"(\w+)"', stripped):
            kind = m.group(1)
        if re.match(r"\w+\s*=\s*\[\s*(#.*)?$", stripped):  # a list opened on this line, closed further down
            opener = _comment(line)
        elif stripped.startswith("]"):
            opener = ""
        key = stripped.split("=", 1)[0].strip() if "=" in stripped and not stripped.startswith("{") else ""
        nodes = table.startswith("[nodes.") or table.startswith("[defaults.nodes.")
        needs = (
            (table == "[[gradings]]" and (key in GRADING_KEYS or RULE.match(line)))
            or (nodes and (key in NODE_KEYS or BAND.match(line)))
            or (table == "[nodes]" and TABLE_ENTRY.match(line) and INLINE_NODE_KEYS.search(line))
            or (table == "[[forms]]" and kind == "register" and ENTRY_MAX.match(line))
            or (table.startswith("[defaults.columns.") and key == "max")
            or (table == "[choices]" and TABLE_ENTRY.match(line))
        )
        if not needs:
            continue
        above = []
        for prev in reversed(lines[:n - 1]):
            if not prev.strip().startswith("#"):
                break
            above.append(prev)
        notes = [_comment(line), opener, *above]
        if not any(SOURCE.search(x) for x in notes):
            out.append((n, stripped))
    return out


@pytest.mark.parametrize("name", builtin_names())
def test_every_default_of_a_builtin_scheme_is_marked(name):
    path = resolve(name)
    text = path.read_text(encoding="utf-8")
    tomllib.loads(text)
    missing = unmarked(text)
    assert missing == [], f"{path.name}：以下各行没有注明【原文】“…”或【默认】：\n" + "\n".join(
        f"  第 {n} 行：{line}" for n, line in missing)


def test_the_checker_sees_what_it_should():
    text = '''
[[gradings]]
id = "g"
grades = ["好", "差"]            # 【默认】
tie_breakers = ["a"]
rules = [                        # 【原文】“不超过20%”
  { grade = "好", kind = "cap", share = 0.2 },
]
[nodes.x]
# 【默认】每季度最多 10 分
cap = 10
floor = 0
[[forms]]
kind = "register"
columns = [
  { key = "p", label = "分值", type = "number", max = 10 },
]
[choices]
"档次" = { A = 1.0, B = 0.9 }
"满意度" = ["满意", "不满意"]
# 【原文】“省级表彰加0.5分”
"加减分" = { "省级表彰" = 0.5 }
[defaults.columns.number]
max = 10
[defaults.nodes.register_sum]
cap = 5                          # 【默认】
floor = 0
[nodes]
a = { label = "甲", agg = "register_sum", form = "f", field = "p", cap = 10 }
b = { label = "乙", agg = "direct", form = "f", field = "p" }
'''
    assert [line for _, line in unmarked(text)] == [
        'tie_breakers = ["a"]', "floor = 0", '{ key = "p", label = "分值", type = "number", max = 10 },',
        '"档次" = { A = 1.0, B = 0.9 }', "max = 10", "floor = 0",
        'a = { label = "甲", agg = "register_sum", form = "f", field = "p", cap = 10 }']
