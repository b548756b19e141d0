"""The typer application, its entry point and how every failure becomes a Chinese message and an exit code.

Exit codes: 0 clean; 1 data errors (the outputs are written all the same, listing them); 2 usage, a scheme file,
an output or an archive that cannot be used; 3 an internal error; 130 interrupted. Tracebacks only with --debug.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable

import typer
from rich.markup import escape

from villagescore import __version__
from villagescore.cli import i18n
from villagescore.cli.render import console, err, error

i18n.install()  # typer's own words (usage, help, usage errors) in Chinese, before the application is used

app = typer.Typer(
    help="村党组织书记考评工具：生成空白表格、读取填报表格、计算得分与等次、输出汇总表。\n\n"
    "示例：villagescore demo",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)
scheme_app = typer.Typer(help="查看和检查考评方案。\n\n示例：villagescore scheme show pingbian", no_args_is_help=True,
                         rich_markup_mode=None, pretty_exceptions_enable=False)
app.add_typer(scheme_app, name="scheme")

STATE = {"debug": False}


class Exit(Exception):
    """Leave a command with this exit code (its output already printed)."""

    def __init__(self, code: int):
        self.code = code


def exit_with(code: int) -> None:
    if code:
        raise Exit(code)


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn every failure into a Chinese message and an exit code; a traceback only with --debug."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from villagescore.core.issues import FatalInput
        from villagescore.core.scheme import SchemeError
        from villagescore.io.archive import ArchiveError
        from villagescore.io.atomic import OutputError
        from villagescore.runs import Refused

        try:
            return func(*args, **kwargs)
        except Exit as exc:
            raise typer.Exit(exc.code) from None
        except typer.Exit:
            raise
        except Refused as exc:  # the arguments, before or instead of the work: said as it is, even with --debug
            error(exc.message, exc.hint)
            raise typer.Exit(exc.code) from None
        except SchemeError as exc:
            if STATE["debug"]:
                raise
            missing = any(p.startswith("没有名为") for p in exc.problems)
            err.print(f"[red]{'找不到考评方案' if missing else '考评方案有错误'}：{escape(str(exc.source))}[/]")
            for p in exc.problems:
                err.print(f"  · {escape(p)}")
            raise typer.Exit(2) from None
        except FatalInput as exc:
            if STATE["debug"]:
                raise
            err.print(f"[red]{escape(exc.message)}[/]")
            raise typer.Exit(2) from None
        except OutputError as exc:
            if STATE["debug"]:
                raise
            err.print(f"[red]无法写入 {escape(str(exc.path))}：{escape(str(exc.reason))}[/]")
            raise typer.Exit(2) from None
        except ArchiveError as exc:
            if STATE["debug"]:
                raise
            err.print(f"[red]无法使用结果档案库 {escape(str(exc.path))}：{escape(str(exc.reason))}[/]")
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err.print("已中断，未写入任何结果。")
            raise typer.Exit(130) from None
        except OSError as exc:  # a file or folder the commands above did not check: said in Chinese all the same
            if STATE["debug"]:
                raise
            from villagescore.io.atomic import os_reason

            where = f" {exc.filename}" if exc.filename else ""
            err.print(f"[red]无法读写{escape(str(where))}：{escape(os_reason(exc))}[/]")
            raise typer.Exit(2) from None
        except Exception as exc:  # noqa: BLE001 - last resort: never a traceback for a clerk
            if STATE["debug"]:
                raise
            err.print(f"[red]程序内部错误：{type(exc).__name__}: {escape(str(exc))}[/]\n请加 --debug 重新运行，并把输出发给维护人员。")
            raise typer.Exit(3) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        console.print(f"villagescore {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="出错时显示完整的程序调用栈（供开发人员排查）。"),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="显示版本号。"),
) -> None:
    STATE["debug"] = debug


def _keep_printing() -> None:
    """Output to a console, file or pipe in a legacy code page (GBK on a Chinese Windows, or PYTHONIOENCODING=gbk):
    a character it lacks, say a rare character in a name or a file name, prints as ? instead of stopping the run."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", "") or "").lower().replace("-", "")
        if not encoding.startswith("utf") and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="replace")
            except (OSError, ValueError):  # a stream that cannot be reconfigured: leave it
                pass


def main() -> None:
    _keep_printing()
    app()
