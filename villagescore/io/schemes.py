"""Finding and loading scheme files (TOML). Built-in schemes ship inside the package."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

from villagescore.core.scheme import Scheme, SchemeError, load_scheme


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
        raise SchemeError(str(path), [f"TOML 格式错误：{exc}"]) from None
    return load_scheme(data, str(path))


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
