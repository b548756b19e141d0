"""Loading a scheme: its choices and defaults written out (scheme_expand.py), the model validated, and every
problem as a Chinese line naming its key path (and its line in the file when the loader can say it)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sized
from decimal import Decimal
from typing import TYPE_CHECKING, Any, get_args

from pydantic import ValidationError

from villagescore.core.numbers import dec, plain, sci
from villagescore.core.scheme.common import SchemeError
from villagescore.core.scheme.forms import FORM_KINDS, Column, ColumnType
from villagescore.core.scheme.model import Scheme
from villagescore.core.scheme.nodes import LEAF_KINDS, Combine
from villagescore.core.scheme_expand import KeyPath, expand

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails  # what ValidationError.errors() gives


_MESSAGES = {
    "missing": "缺少此项",
    "extra_forbidden": "不认识的键（拼写错误？）",
    "literal_error": "取值不在允许范围内",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "string_type": "应为文字",
    "list_type": "应为列表",
    "dict_type": "应为表",
    "bool_type": "应为 true 或 false",
    "union_tag_invalid": "agg 取值不认识",
    "union_tag_not_found": "缺少 agg 或 combine",
    "model_type": "应为表",
    "decimal_parsing": "应为数字",
    "decimal_type": "应为数字",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "finite_number": "应为有限的数字（不能是 inf 或 nan）",
    "int_from_float": "应为整数",
    "bool_parsing": "应为 true 或 false",
    "decimal_max_digits": "数字位数太多",
    "decimal_max_places": "小数位数太多",
    "decimal_whole_digits": "数字位数太多",
    "recursion_loop": "嵌套层数过多",
}
# messages that quote the bound (pydantic's ctx); the value given is added
_BOUNDS = {
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "too_long": "最多 {max_length} 项",
    "too_short": "至少 {min_length} 项",
    "string_too_long": "文字太长，最多 {max_length} 个字",
    "string_too_short": "文字太短，至少 {min_length} 个字",
}


def _shown(value: Any) -> str:
    """A number or text a scheme gave, as a message shows it (short)."""
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, str) and value.startswith("Decimal('") and value.endswith("')"):  # a bound, as pydantic
        value = Decimal(value[9:-2])                                                        # gives some
    if isinstance(value, (int, float, Decimal)):
        d = dec(value) if not isinstance(value, float) else Decimal(repr(value))
        if not d.is_finite() or abs(d) >= 10**12:
            return sci(d) if d.is_finite() else str(value)
        return plain(d)
    text = str(value)
    return text if len(text) <= 40 else f"{text[:30]}…（共 {len(text)} 字）"


def _message(err: ErrorDetails) -> str:
    """A pydantic error in Chinese: ours as written, pydantic's by type, never its English text."""
    kind = err["type"]
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind in _BOUNDS:
        ctx = {k: _shown(v) for k, v in (err.get("ctx") or {}).items()}
        try:
            text = _BOUNDS[kind].format(**ctx)
        except (KeyError, IndexError):
            text = "超出允许的范围"
        given = err.get("input")
        if kind in ("too_long", "too_short") and isinstance(given, Sized):
            return f"{text}，写了 {len(given)} 项"
        if kind.startswith("string_") and isinstance(given, str):
            return f"{text}，写了 {len(given)} 个字"
        return f"{text}，填写的是 {_shown(given)}"
    msg = str(err.get("msg", "")).removeprefix("Value error, ")
    if msg.isascii():  # a message of pydantic's own we have no words for
        return "取值不正确"
    return msg


def _known() -> dict[str, dict[str, frozenset[str]]]:
    """The keys a default may set, per form kind, column type and leaf agg or combine (scheme_expand.py)."""
    column = frozenset(Column.model_fields) - {"key", "type"} | {"show_max"}
    combine = frozenset(Combine.model_fields) - {"combine"}
    return {
        "forms": {k: frozenset(m.model_fields) - {"id", "kind"} for k, m in FORM_KINDS.items()},
        "columns": {t: column for t in get_args(ColumnType)},
        "nodes": {**{a: frozenset(m.model_fields) - {"agg"} for a, m in LEAF_KINDS.items()},
                  "sum": combine, "weighted": combine},
    }


KNOWN_DEFAULTS = _known()

# A line of the file for a key path (0-based indexes), or None: given by the loader that read the file's text.
Locate = Callable[[KeyPath], "int | None"]


def _where(loc: tuple[Any, ...]) -> tuple[str, KeyPath]:
    """A pydantic location as a key path to print (1-based indexes) and to locate (0-based), without the names
    pydantic gives the members of unions (a form's kind, a node's model and agg)."""
    out, located = "", []
    for i, part in enumerate(loc):
        if i == 2 and loc[0] == "forms" and part in FORM_KINDS:
            continue
        if i == 3 and loc[0] == "nodes" and str(loc[2]).startswith("tagged-union") and part in LEAF_KINDS:
            continue
        if isinstance(part, int):
            out += f"[{part + 1}]"
        elif part == "Combine" or "[" in str(part):  # pydantic's labels of models and unions, not keys
            continue
        else:
            out += ("." if out else "") + str(part)
        located.append(part)
    return out or "（顶层）", tuple(located)


_PATH_PART = re.compile(r"\[(\d+)\]|\.?([^.\[]+)")


def _parse(printed: str, data: dict[str, Any]) -> KeyPath:
    """A key path as our messages print it (``forms[3].columns[1]``, ``gradings.grade.rules``, ``forms.dept_djb``)
    → the path to locate: 0-based indexes, and an array of tables' element named by its id found by that id."""
    out: list[str | int] = []
    node: Any = data
    for m in _PATH_PART.finditer(printed):
        if m.group(1) is not None:
            part: str | int = int(m.group(1)) - 1
        else:
            part = m.group(2)
            if isinstance(node, list):  # an element named by its id
                part = next((i for i, x in enumerate(node) if isinstance(x, dict) and x.get("id") == part), part)
        out.append(part)
        try:
            if isinstance(node, dict):
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int):
                node = node[part]
            else:
                node = None
        except (KeyError, IndexError):
            node = None
    return tuple(out)


def _form_key_message(kind: str, key: str) -> str:
    others = [k for k, m in FORM_KINDS.items() if key in m.model_fields]
    if others:
        return f"{kind} 表格没有此项（{key} 只用于 {'、'.join(others)} 表格）"
    return f"{kind} 表格不认识的键（拼写错误？）"


def load_scheme(data: dict[str, Any], source: str = "scheme", lines: Locate | None = None) -> Scheme:
    """Build and check a Scheme from parsed TOML (its choices and defaults written out first, scheme_expand.py);
    raise SchemeError with Chinese key-path lines, each with its line in the file when ``lines`` can say it."""
    if not isinstance(data, dict):
        raise SchemeError(source, ["（顶层）：应为表"])
    try:
        ex = expand(data, KNOWN_DEFAULTS)
    except RecursionError:
        raise SchemeError(source, ["（顶层）：嵌套层数过多（表或列表套了上千层）"]) from None

    if ex.problems:
        raise SchemeError(source, _report([(_where(p)[0], p, m) for p, m in ex.problems], ex, lines))
    try:
        return Scheme.model_validate(ex.data)
    except RecursionError:
        raise SchemeError(source, ["（顶层）：嵌套层数过多（表或列表套了上千层）"]) from None
    except ValidationError as exc:
        found: list[tuple[str, KeyPath | None, str]] = []  # (path printed, path located, message)
        for err in exc.errors():
            loc = err.get("loc", ())
            # A node that is neither a Combine nor a Leaf yields errors for both: keep the leaf's when it names an
            # agg, the Combine's when it names combine
            if loc and loc[0] == "nodes" and len(loc) > 2:
                combine_part = str(loc[2]) == "Combine" or str(loc[2]).endswith(", Combine]")
                if combine_part and _has_key(ex.data, loc, "agg"):
                    continue
                if str(loc[2]).startswith("tagged-union") and _has_key(ex.data, loc, "combine") and \
                        not _has_key(ex.data, loc, "agg"):
                    continue
            given = err.get("input")
            if loc and "[" in str(loc[-1]) and (err["type"] == "list_type" and isinstance(given, dict)
                                               or err["type"] == "dict_type" and isinstance(given, list)):
                continue  # the other member of a table-or-list union (Combine.parts): not what was meant
            if loc and loc[0] == "forms" and len(loc) == 4 and err["type"] == "extra_forbidden":
                msg = _form_key_message(str(loc[2]), str(loc[3]))
            elif loc and loc[0] == "forms" and len(loc) == 2 and err["type"].startswith("union_tag_"):
                kinds = "、".join(FORM_KINDS)
                msg = (f"缺少 kind（表格类型：{kinds}）" if err["type"] == "union_tag_not_found"
                       else f"kind 取值不认识（可选：{kinds}）")
            else:
                msg = _message(err)
            for m in msg.split("\n"):
                if loc:
                    found.append((*_where(loc), m))
                else:  # the scheme's own checks: one "path：message" line each
                    printed, sep, rest = m.partition("：")
                    found.append((printed, _parse(printed, ex.data), rest) if sep else ("", None, m))
        raise SchemeError(source, _report(found, ex, lines)) from None


def _report(found: list[tuple[str, KeyPath | None, str]], ex: Any, lines: Locate | None) -> list[str]:
    """Problem lines "path（第 N 行）：message", each once. N is the line where the value is written: for a value
    filled in from [defaults.…] or [choices], that line; and a problem of such a value, found again and again in
    every form, column or leaf it fills, is listed once, saying how many share it."""
    out: list[str] = []
    shared: dict[tuple[KeyPath, str], list[int]] = {}  # (written at, message) → [index in out, times found]
    for printed, located, message in found:
        if located is None:
            out.append(message)
            continue
        written = ex.written(located)
        if written[:1] in (("defaults",), ("choices",)):
            seen = shared.setdefault((written, message), [len(out), 0])
            seen[1] += 1
            if seen[1] > 1:
                continue
        line = lines(written) if lines is not None else None
        out.append(f"{printed}（第 {line} 行）：{message}" if line else f"{printed}：{message}")
    for index, times in shared.values():
        if times > 1:
            out[index] += f"（同一处写法用于 {times} 处，只列出第一处）"
    return list(dict.fromkeys(out))


def _has_key(data: dict[str, Any], loc: tuple[Any, ...], key: str) -> bool:
    node = (data.get("nodes") or {}).get(loc[1]) if isinstance(data.get("nodes"), dict) else None
    return isinstance(node, dict) and key in node
