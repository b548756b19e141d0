"""The command line: the only package that imports typer and rich.

- ``app``: the typer application, the entry point ``main`` (``villagescore = "villagescore.cli:main"``) and how
  every failure becomes a Chinese message and an exit code (``guarded``);
- ``i18n``: typer's and click's own words in Chinese, the one module touching their private internals;
- ``options``: the options several commands share, each defined once;
- ``commands``: the commands, each parsing its options, calling one function of ``villagescore.runs`` and
  rendering what it returns;
- ``render``: everything drawn on screen (tables, trees, reports, the progress bar).
"""

from __future__ import annotations

from villagescore.cli import commands as _commands  # noqa: F401 - registers the commands on the application
from villagescore.cli.app import app, main

__all__ = ["app", "main"]
