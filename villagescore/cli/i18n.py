"""typer's and click's own words in Chinese: usage lines, help, usage errors.

The one module of the package that reaches into typer's and click's private internals; ``install`` applies it
once, before the application is used, and records in ``PATCHED`` what it changed (``FAILED``: why it could not,
with a newer typer: the messages are then English, never a crash). ``tests/test_cli_i18n.py`` fails when an
internal relied on here is gone, so that a typer upgrade is noticed (pyproject.toml pins typer below 0.30).

- typer < 0.20 uses the real click, whose words go through gettext's ``_``: ``_translate_click`` answers them.
- typer >= 0.20 carries its own click (``typer._click``) without gettext: ``_chinese_usage_errors`` replaces the
  help option's text, the usage line's prefix and words, the width of CJK text in help columns, and how a usage
  error is shown.
"""

from __future__ import annotations

import gettext
import re
import sys

PATCHED: list[str] = []  # what install changed, by name
FAILED: str | None = None  # why install could not finish (a typer it does not know)


def install() -> None:
    """Put the Chinese words in place (once; typer must be imported first)."""
    global FAILED
    if PATCHED or FAILED:
        return
    _translate_click()
    try:
        _chinese_usage_errors()
    except Exception as exc:  # noqa: BLE001 - a newer typer may differ; English messages are better than none
        FAILED = f"{type(exc).__name__}: {exc}"


# click's own words (usage, errors) go through gettext; give them in Chinese.
_CLICK_ZH = {
    "Usage:": "用法：",
    "Options": "选项",
    "Arguments": "参数",
    "Commands": "命令",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本号并退出。",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "请运行 '{command} {option}' 查看帮助。",
    "Missing {param_type}": "缺少参数",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing command.": "缺少命令。",
    "No such command {name!r}.": "没有这个命令：{name!r}。",
    "No such option {name!r}.": "没有这个选项：{name!r}。",
    "No such option: {name}": "没有这个选项：{name}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值不对：{message}",
    "Invalid value: {message}": "值不对：{message}",
    "Option {name!r} does not take a value.": "选项 {name!r} 后面不需要写值。",
    "Option {name!r} requires an argument.": "选项 {name!r} 后面需要写一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 后面需要写 {nargs} 个值。",
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Got unexpected extra arguments ({args})": "多余的参数（{args}）",
    "Did you mean {possibility}?": "是不是想写 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（是不是想写其中之一：{possibilities}？）",
    "Aborted!": "已取消。",
    "default: {default}": "默认：{default}",
    "required": "必填",
    "{value!r} is not a valid integer.": "{value!r} 不是整数。",
}


def _zh(text: str) -> str:
    return _CLICK_ZH.get(text, text)


def _nzh(singular: str, plural: str, n: int) -> str:
    return _zh(singular if n == 1 else plural)


def _translate_click() -> None:
    """Typer (and the click it carries) call gettext's ``_`` for usage and error text; answer in Chinese."""
    for name, mod in list(sys.modules.items()):
        if not name.startswith(("click", "typer")) or mod is None:
            continue
        if getattr(mod, "_", None) is gettext.gettext:
            setattr(mod, "_", _zh)  # the module's gettext function replaced
            PATCHED.append(f"{name}._")
        if getattr(mod, "ngettext", None) is gettext.ngettext:
            setattr(mod, "ngettext", _nzh)
            PATCHED.append(f"{name}.ngettext")


# typer's own click (>= 0.20) has no gettext: its messages are matched and rewritten
_USAGE_ZH = [
    (r"^Option '(.+)' requires an argument\.$", r"选项 \1 后面需要写一个值。"),
    (r"^Option '(.+)' requires (\d+) arguments\.$", r"选项 \1 后面需要写 \2 个值。"),
    (r"^Option '(.+)' does not take a value\.$", r"选项 \1 后面不需要写值。"),
    (r"^Got unexpected extra arguments? \((.*)\)$", r"多余的参数：\1"),
    (r"^Invalid value for (.+?): (.*)$", r"\1 的值不对：\2"),
    (r"'(.+)' is not a valid integer\.", r"“\1”不是整数。"),
    (r"^No such command '(.+)'\.$", r"没有这个命令：\1"),
    (r"^Missing command\.$", "缺少命令。"),
    (r"Input should be a valid integer.*$", "应填写整数"),
    (r"Input should be a valid number.*$", "应填写数字"),
]


_USAGE_WORDS = (("[OPTIONS]", "[选项]"), ("COMMAND [ARGS]...", "命令 [参数]..."), ("[ARGS]...", "[参数]..."))


def _plain_help_layout(formatting) -> None:
    """Help as a clerk reads it: the usage line in Chinese, no Python type after an argument's name (<str>,
    <list[Path]>: the metavar says what to write), columns measured in screen cells (a CJK character takes two)."""
    from typer import core as typer_core

    from villagescore.io.cells import display_width

    plain_usage = formatting.HelpFormatter.write_usage

    def write_usage(self, prog, args="", prefix=None):
        for english, chinese in _USAGE_WORDS:
            args = args.replace(english, chinese)
        return plain_usage(self, prog, args, prefix)

    formatting.HelpFormatter.write_usage = write_usage
    strip = getattr(formatting, "strip_ansi", None) or (lambda x: x)
    formatting.term_len = lambda x: display_width(strip(x))
    PATCHED.extend(["HelpFormatter.write_usage (usage words)", "formatting.term_len"])
    argument = getattr(typer_core, "TyperArgument", None)
    if argument is not None and hasattr(argument, "display_type_rich"):
        argument.display_type_rich = lambda self, ctx: None
        PATCHED.append("TyperArgument.display_type_rich")


def _chinese_usage_errors() -> None:
    """Typer ≥ 0.20 carries its own click without gettext: give its usage, help and errors in Chinese."""
    try:
        from typer._click import decorators, exceptions, formatting, utils
    except ImportError:  # an older typer uses the real click, handled by _translate_click
        return
    plain_help = decorators.help_option

    def help_option(param_decls):
        add = plain_help(param_decls)

        def apply(command):
            command = add(command)
            command.params[-1].help = "显示本帮助并退出。"
            return command

        return apply

    decorators.help_option = help_option
    PATCHED.append("decorators.help_option")
    plain_usage = formatting.HelpFormatter.write_usage

    def write_usage(self, prog, args="", prefix=None):
        return plain_usage(self, prog, args, "用法：" if prefix is None else prefix)

    setattr(formatting.HelpFormatter, "write_usage", write_usage)  # a method replaced on purpose (not a slip)
    PATCHED.append("HelpFormatter.write_usage (用法：)")
    _plain_help_layout(formatting)

    def message(exc) -> str:
        if isinstance(exc, exceptions.MissingParameter):
            hint = ""
            if isinstance(exc.param_hint, str):
                hint = exc.param_hint
            elif exc.param is not None:
                try:
                    hint = exc.param.get_error_hint()
                except Exception:  # noqa: BLE001
                    hint = ""
            return f"缺少参数 {hint}".rstrip()
        if isinstance(exc, exceptions.NoSuchOption):
            near = f"（是不是想写 {'、'.join(exc.possibilities)}？）" if exc.possibilities else ""
            return f"没有这个选项：{exc.option_name}{near}"
        text = exc.format_message()
        for pattern, zh in _USAGE_ZH:
            text = re.sub(pattern, zh, text)
        return text

    def show(self, file=None) -> None:
        file = file or sys.stderr
        hint = ""
        if self.ctx is not None:
            if self.ctx.command.get_help_option(self.ctx) is not None:
                hint = f"请运行 '{self.ctx.command_path} {self.ctx.help_option_names[0]}' 查看帮助。\n"
            utils.echo(f"{self.ctx.get_usage()}\n{hint}", file=file)
        utils.echo(f"错误：{message(self)}", file=file)

    setattr(exceptions.UsageError, "show", show)  # a method replaced on purpose (not a slip)
    PATCHED.append("UsageError.show")
