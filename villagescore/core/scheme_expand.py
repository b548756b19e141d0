"""Scheme files without repetition: named option lists (``[choices]``) and defaults (``[defaults.*]``), expanded
into the full form the scheme model reads, as XLSForm's choices sheet lets a form name a list once.

    [choices]                          # a list of options, or a table of options with a number each
    档次 = { A = 1.0, B = 0.9, C = 0.8, D = 0.7, E = 0.6 }
    满意度 = ["满意", "基本满意", "不满意"]

    [defaults.forms.unit_scores]       # keys every form of that kind gets unless it writes its own
    scope = "township"
    [defaults.columns.band]            # … every column of that type (a column without type is "text")
    options = "档次"
    show_max = true                    # the label gets the column's points: "党建工作" → "党建工作（8分）"
    [defaults.nodes.direct]            # … every leaf of that agg (or every combine of "sum" / "weighted")
    applies_to = ["村", "社区"]

A name in place of a list or table (``options`` of a column, tally or vote ballot; ``letters``, ``points_map``,
``weights`` of a leaf) stands for that entry of ``[choices]``; a table named as ``options`` gives its names. A
``direct`` leaf reading a band column leaves out ``max`` (the column's) and ``letters`` (the table its column's
options name). What a key sets is never merged with what a default says: a form's own ``columns`` replace the
default's whole list.

``expand`` returns the data as if all of it were written out (a file written out in full comes back equal), where
each value it filled in was written (so an error can name that line), and the problems of the short form itself.
Nothing here reads files; it works on the parsed TOML, before the model checks it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from villagescore.core.numbers import plain

KeyPath = tuple[str | int, ...]
Problem = tuple[KeyPath, str]

# where a name of [choices] may stand for a list (options) or a table (the rest)
FORM_REFS = ("options",)
COLUMN_REFS = ("options",)
LEAF_REFS = ("letters", "points_map", "weights")
TABLE_REFS = {"letters", "points_map", "weights"}

SECTIONS = {"forms": "kind", "columns": "type", "nodes": "agg"}  # defaults.<section>.<value of this key>
# a points note already at the end of a label, e.g. "（8分）" or "(2.5分)"
POINTS_NOTE = re.compile(r"[（(]\s*(\d+(?:\.\d+)?)\s*分\s*[)）]\s*$")


class Expansion:
    """The expanded data, where each filled-in value came from (expanded path → written path) and the problems."""

    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.origins: dict[KeyPath, KeyPath] = {}
        self.problems: list[Problem] = []

    def written(self, path: KeyPath) -> KeyPath:
        """The path where the value at ``path`` (or the nearest enclosing one filled in) was written."""
        for _ in range(8):  # a default naming a choice: two steps; never a cycle
            for n in range(len(path), 0, -1):
                src = self.origins.get(path[:n])
                if src is not None:
                    path = src + path[n:]
                    break
            else:
                return path
        return path


def expand(data: Mapping[str, Any], known: Mapping[str, Mapping[str, frozenset[str]]]) -> Expansion:
    """``data`` with its choices and defaults written out. ``known``: section → kind, type or agg → the keys a
    default of it may set (the model's keys less the one naming the kind, and ids)."""
    out = Expansion({k: copy.deepcopy(v) for k, v in data.items() if k not in ("choices", "defaults")})
    choices = _choices(data.get("choices"), out)
    defaults = _defaults(data.get("defaults"), known, out)
    letters: dict[tuple[str, str], tuple[Any, KeyPath]] = {}  # (form id, column key) → its options' table, where
    forms = out.data.get("forms")
    if isinstance(forms, list):
        for i, form in enumerate(forms):
            if isinstance(form, dict):
                _form(form, ("forms", i), choices, defaults, letters, out)
    nodes = out.data.get("nodes")
    if isinstance(nodes, dict):
        for nid, node in nodes.items():
            if isinstance(node, dict):
                _node(node, ("nodes", nid), choices, defaults, letters, out)
    return out


def _choices(raw: Any, out: Expansion) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        out.problems.append((("choices",), "应为表：每行写 名字 = [选项, …] 或 名字 = { 选项 = 数值, … }"))
        return {}
    good: dict[str, Any] = {}
    for name, value in raw.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            good[name] = value
        elif isinstance(value, dict):
            bad = [k for k, v in value.items() if not _number(v)]
            out.problems.extend((("choices", name, k), "应为数字") for k in bad)
            good[name] = value
        else:
            out.problems.append((("choices", name), "应为选项列表（[\"好\", \"较好\"]）或表（{ A = 1.0, B = 0.9 }）"))
    return good


def _defaults(raw: Any, known: Mapping[str, Mapping[str, frozenset[str]]],
              out: Expansion) -> dict[str, dict[str, dict[str, Any]]]:
    good: dict[str, dict[str, dict[str, Any]]] = {s: {} for s in SECTIONS}
    if raw is None:
        return good
    if not isinstance(raw, dict):
        out.problems.append((("defaults",), "应为表，例如 [defaults.forms.unit_scores]"))
        return good
    for section, kinds in raw.items():
        if section not in SECTIONS:
            out.problems.append((("defaults", section), f"不认识（可写：{'、'.join(SECTIONS)}）"))
            continue
        if not isinstance(kinds, dict):
            out.problems.append((("defaults", section), f"应为表，例如 [defaults.{section}.…]"))
            continue
        for kind, keys in kinds.items():
            at: KeyPath = ("defaults", section, kind)
            allowed = known[section].get(kind)
            if allowed is None:
                out.problems.append((at, f"{_WHAT[section]}“{kind}”不认识（可写：{'、'.join(known[section])}）"))
            elif not isinstance(keys, dict):
                out.problems.append((at, "应为表"))
            else:
                for key in keys:
                    if key not in allowed:
                        why = ("表示类型的键不能有默认值" if key == SECTIONS[section] or key in ("combine", "agg")
                               else "每项各不相同的键不能有默认值" if key in ("id", "key") else "不认识的键（拼写错误？）")
                        out.problems.append((at + (key,), why))
                good[section][kind] = {k: v for k, v in keys.items() if k in allowed}
    return good


_WHAT = {"forms": "表格类型", "columns": "列类型", "nodes": "计分方式"}


def _number(value: Any) -> bool:
    """A number of a choice table (as tomllib gives it, with floats as Decimal, float or their text)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float, Decimal)):
        return True
    try:
        return isinstance(value, str) and Decimal(value).is_finite()
    except InvalidOperation:
        return False


def _fill(entry: dict[str, Any], keys: dict[str, Any] | None, at: KeyPath, src: KeyPath, out: Expansion) -> None:
    """Set each default key the entry does not write (a copy: entries never share a list)."""
    for key, value in (keys or {}).items():
        if key not in entry:
            entry[key] = copy.deepcopy(value)
            out.origins[at + (key,)] = src + (key,)


def _ref(entry: dict[str, Any], key: str, at: KeyPath, choices: dict[str, Any], out: Expansion) -> Any:
    """Replace a name of [choices] at ``entry[key]`` by its list or table; return the choice (None if not one)."""
    name = entry.get(key)
    if not isinstance(name, str):
        return None
    if name not in choices:
        have = f"（[choices] 中有：{'、'.join(choices)}）" if choices else "（文件中没有 [choices]）"
        out.problems.append((at + (key,), f"“{name}”不是 [choices] 中的名字{have}"))
        return None
    value = choices[name]
    out.origins[at + (key,)] = ("choices", name)  # a value's problem is the choice's
    if key in TABLE_REFS:
        if not isinstance(value, dict):
            out.problems.append((at + (key,), f"[choices] 中的“{name}”是选项列表，这里要的是表（每个选项对应一个数，"
                                              "例如 { A = 1.0, B = 0.9 }）"))
            return None
        entry[key] = copy.deepcopy(value)
    else:
        entry[key] = list(value)  # a table's names, in order
    return value


def _form(form: dict[str, Any], at: KeyPath, choices: dict[str, Any], defaults: dict[str, dict[str, dict[str, Any]]],
          letters: dict[tuple[str, str], tuple[Any, KeyPath]], out: Expansion) -> None:
    kind = form.get("kind")
    if isinstance(kind, str):
        _fill(form, defaults["forms"].get(kind), at, ("defaults", "forms", kind), out)
    for key in FORM_REFS:
        _ref(form, key, at, choices, out)
    columns = form.get("columns")
    if not isinstance(columns, list):
        return
    for j, col in enumerate(columns):
        if not isinstance(col, dict):
            continue
        cat = at + ("columns", j)
        ctype = col.get("type", "text")
        if isinstance(ctype, str):
            _fill(col, defaults["columns"].get(ctype), cat, ("defaults", "columns", ctype), out)
        for key in COLUMN_REFS:
            table = _ref(col, key, cat, choices, out)
            if isinstance(table, dict) and isinstance(form.get("id"), str) and isinstance(col.get("key"), str):
                letters[(form["id"], col["key"])] = (table, out.written(cat + (key,)))  # the choice
        _label_points(col, cat, out)


def _label_points(col: dict[str, Any], at: KeyPath, out: Expansion) -> None:
    """``show_max = true``: the label ends with the column's points, “（8分）”, unless it already says them."""
    show = col.pop("show_max", False)
    if not isinstance(show, bool):
        out.problems.append((at + ("show_max",), "应为 true 或 false"))
        return
    label, top = col.get("label"), col.get("max")
    if not show or not isinstance(label, str):
        return
    try:
        points = Decimal(str(top)) if top is not None and not isinstance(top, bool) else None
    except InvalidOperation:
        points = None
    if points is None or not points.is_finite():
        out.problems.append((at + ("show_max",), "show_max = true 须同时给出 max（该项满分）"))
        return
    written = POINTS_NOTE.search(label)
    if written is None:
        col["label"] = f"{label}（{plain(points)}分）"
    elif Decimal(written.group(1)) != points:
        out.problems.append((at + ("label",), f"标题中写的是 {written.group(1)} 分，max 是 {plain(points)}，"
                                              "两处应一致（标题可以不写分值，自动加上）"))


def _node(node: dict[str, Any], at: KeyPath, choices: dict[str, Any], defaults: dict[str, dict[str, dict[str, Any]]],
          letters: dict[tuple[str, str], tuple[Any, KeyPath]], out: Expansion) -> None:
    how = node.get("agg") if "agg" in node else node.get("combine")
    if isinstance(how, str):
        _fill(node, defaults["nodes"].get(how), at, ("defaults", "nodes", how), out)
    for key in LEAF_REFS:
        _ref(node, key, at, choices, out)
    if node.get("agg") != "direct" or not isinstance(node.get("form"), str) or not isinstance(node.get("field"), str):
        return
    col, cat = _column(out.data.get("forms"), node["form"], node["field"])
    if col is None or col.get("type") != "band":
        return
    if "max" not in node and "max" in col:
        node["max"] = copy.deepcopy(col["max"])
        out.origins[at + ("max",)] = cat + ("max",)
    found = letters.get((node["form"], node["field"]))
    if "letters" not in node and found is not None:
        node["letters"] = copy.deepcopy(found[0])
        out.origins[at + ("letters",)] = found[1]


def _column(forms: Any, form_id: str, key: str) -> tuple[dict[str, Any] | None, KeyPath]:
    for i, form in enumerate(forms if isinstance(forms, list) else []):
        if isinstance(form, dict) and form.get("id") == form_id and isinstance(form.get("columns"), list):
            for j, col in enumerate(form["columns"]):
                if isinstance(col, dict) and col.get("key") == key:
                    return col, ("forms", i, "columns", j)
    return None, ()
