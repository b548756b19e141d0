"""The options several commands share, each defined once: its flags, the value it takes as the clerk reads it
in help (``metavar``), its default and its usual help. A command whose use of the option differs says so in its
own words (``help=``): --force names what it overwrites, --roster where it is looked for when left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer


def scheme() -> Any:
    return typer.Option("pingbian", "--scheme", "-s", metavar="方案", help="考评方案：内置方案名或 .toml 文件路径。")


def roster(help: str = "名册（不写则用文件夹中的）。") -> Any:
    return typer.Option(None, "--roster", metavar="文件", help=help)


def criteria(help: str = "考核细则（不写则用文件夹中的）。") -> Any:
    return typer.Option(None, "--criteria", metavar="文件", help=help)


def period(help: str) -> Any:
    return typer.Option(None, "--period", "-p", metavar="期间", help=help)


def force(help: str) -> Any:
    return typer.Option(False, "--force", help=help)


def out(default: Any, help: str, metavar: str = "文件夹") -> Any:
    """-o/--out: where the command writes (``...``: required)."""
    return typer.Option(default, "--out", "-o", metavar=metavar, help=help)


def archive(help: str, default: Path | None = None) -> Any:
    return typer.Option(default, "--archive", metavar="文件", help=help)


def decisions(help: str) -> Any:
    return typer.Option(None, "--decisions", metavar="文件", help=help)


def as_json(help: str) -> Any:
    return typer.Option(False, "--json", help=help)


def folders(help: str, required: bool = True) -> Any:
    """The folders of filled forms (several may be given)."""
    return typer.Argument(... if required else None, metavar="文件夹...", help=help)
