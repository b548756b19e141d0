"""Finding and loading scheme files (TOML). Built-in schemes ship inside the package."""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from pathlib import Path

from villagescore.core.scheme import Scheme, SchemeError, load_scheme
from villagescore.core.scheme_expand import KeyPath


def builtin_dir() -> Path:
    """The built-in scheme folder: inside the installed package, or the repo's templates/."""
    here = Path(__file__).resolve().parent.parent
    packaged = here / "templates"
    if packaged.is_dir():
        return packaged
    return here.parent / "templates"


def builtin_names() -> list[str]:
    return sorted(p.stem for p in builtin_dir().glob("*.toml"))


def resolve(name_or_path: str) -> Path:
    """A built-in scheme name (``pingbian``) or a path to a TOML file."""
    p = Path(name_or_path)
    if p.suffix.lower() == ".toml" or p.exists():
        return p
    return builtin_dir() / f"{name_or_path}.toml"


def load_file(path: Path) -> Scheme:
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        names = "、".join(builtin_names())
        raise SchemeError(str(path), [f"找不到考评方案文件（内置方案有：{names}）"]) from None
    except OSError as exc:
        raise SchemeError(str(path), [f"无法读取：{exc.strerror or exc}"]) from None
    try:
        data = tomllib.loads(text.decode("utf-8-sig"), parse_float=Decimal)
    except UnicodeDecodeError:
        raise SchemeError(str(path), ["文件不是 UTF-8 编码的文本，请用记事本另存为 UTF-8"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SchemeError(str(path), [toml_error(str(exc))]) from None
    except RecursionError:
        raise SchemeError(str(path), ["TOML 格式错误：列表或表嵌套的层数过多"]) from None
    return load_scheme(data, str(path), KeyLines(text.decode("utf-8-sig")))


class KeyLines:
    """The line of a key path in a TOML text (0-based indexes into arrays, as ``load_scheme`` asks), or of the
    nearest enclosing key that is written there: a key left out is found at its table's header, an entry of
    ``columns`` at its own line. tomllib keeps no positions; the text is parsed again with tree-sitter's TOML
    grammar, only when an error is to be shown (nothing is parsed for a file without errors)."""

    def __init__(self, text: str):
        self.text = text
        self._index: dict[KeyPath, int] | None = None

    def __call__(self, path: KeyPath) -> int | None:
        if self._index is None:
            try:
                self._index = key_lines(self.text)
            except (ImportError, RecursionError, ValueError):  # no grammar installed: messages without lines
                self._index = {}
        for n in range(len(path), 0, -1):
            line = self._index.get(path[:n])
            if line is not None:
                return line
        return None


def key_lines(text: str) -> dict[KeyPath, int]:
    """Every key path of a (valid) TOML text → its line (1-based): table headers, the elements of arrays of tables
    (``[[forms]]``: ("forms", 0), ("forms", 1), …; a later ``[forms.survey]`` belongs to the last), keys, dotted
    keys, and the elements of arrays and inline tables, at any depth (walked without recursion)."""
    import tree_sitter
    import tree_sitter_toml

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_toml.language()))
    root = parser.parse(text.encode("utf-8")).root_node
    out: dict[KeyPath, int] = {}
    arrays: dict[KeyPath, int] = {}  # each array of tables → its elements so far
    todo: list[tuple[tree_sitter.Node, KeyPath]] = []  # values still to walk, with their paths

    def parts(key: tree_sitter.Node) -> list[str]:
        if key.type == "dotted_key":
            return [p for k in key.named_children for p in parts(k)]
        raw = (key.text or b"").decode("utf-8")
        return [raw] if key.type == "bare_key" else list(tomllib.loads(f"{raw} = 0"))  # a quoted key, unquoted

    def concrete(names: list[str]) -> KeyPath:
        """A header's path, through the last element of every array of tables it passes."""
        path: KeyPath = ()
        for name in names:
            path += (name,)
            if path in arrays:
                path += (arrays[path] - 1,)
        return path

    def pairs(table: tree_sitter.Node, base: KeyPath) -> None:
        for pair in table.named_children:
            if pair.type != "pair":
                continue
            key, value = pair.named_children[0], pair.named_children[1]
            names = parts(key)
            for n in range(1, len(names) + 1):
                out.setdefault(base + tuple(names[:n]), key.start_point.row + 1)
            todo.append((value, base + tuple(names)))

    pairs(root, ())  # keys before the first table header
    for node in root.named_children:
        line = node.start_point.row + 1
        if node.type == "table":
            path = concrete(parts(node.named_children[0]))
            out.setdefault(path, line)
            pairs(node, path)
        elif node.type == "table_array_element":
            names = parts(node.named_children[0])
            array = concrete(names[:-1]) + (names[-1],)
            arrays[array] = arrays.get(array, 0) + 1
            out.setdefault(array, line)
            out[array + (arrays[array] - 1,)] = line
            pairs(node, array + (arrays[array] - 1,))
    while todo:
        value, path = todo.pop()
        if value.type == "array":
            for i, item in enumerate(c for c in value.named_children if c.type != "comment"):
                out.setdefault(path + (i,), item.start_point.row + 1)
                todo.append((item, path + (i,)))
        elif value.type == "inline_table":
            pairs(value, path)
    return out


# tomllib's messages (English) → what is wrong, in Chinese; the first that the message starts with
_TOML_ERRORS = [
    ("Invalid value", "值的写法不对（文字要加英文双引号，数字不加）"),
    ("Cannot overwrite a value", "同一个键写了两次"),
    ("Cannot declare", "同一个表写了两次"),
    ("Expected ']' at the end of a table declaration", "表头缺少右方括号 ]"),
    ("Expected ']]' at the end of an array declaration", "表头缺少 ]]"),
    ("Unterminated string", "文字缺少结尾的引号"),
    ("Expected newline or end of document after a statement", "一行只能写一个“键 = 值”"),
    ("Expected '=' after a key", "键后面缺少等号 ="),
    ("Unclosed array", "列表缺少右方括号 ]"),
    ("Unclosed inline table", "缺少右花括号 }"),
    ("Illegal character", "有不允许的字符（可能是中文标点或全角符号）"),
    ("Invalid statement", "这一行的写法不对"),
    ("Invalid initial character for a key part", "键的写法不对（键名用英文字母、数字、下划线，或加引号）"),
]
_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def toml_error(text: str) -> str:
    """A tomllib error message in Chinese, with its place (line and column as an editor shows them)."""
    what = next((zh for en, zh in _TOML_ERRORS if text.startswith(en)), "写法不对")
    at = _TOML_AT.search(text)
    where = f"第 {at.group(1)} 行第 {at.group(2)} 列" if at else "文件末尾" if "end of document" in text else ""
    return f"TOML 格式错误（{where}）：{what}" if where else f"TOML 格式错误：{what}"


def load(name_or_path: str) -> Scheme:
    path = resolve(name_or_path)
    if path.parent == builtin_dir() and not path.exists() and Path(name_or_path).suffix.lower() != ".toml":
        import difflib

        names = builtin_names()
        near = difflib.get_close_matches(name_or_path.lower(), names, n=1, cutoff=0.6)
        hint = f"，是不是想写 {near[0]}" if near else ""
        raise SchemeError(name_or_path, [f"没有名为“{name_or_path}”的内置方案{hint}（内置方案有：{'、'.join(names)}；"
                                         "也可以写 .toml 方案文件的路径）"])
    return load_file(path)
