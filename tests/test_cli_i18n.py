"""The fence around typer's and click's private internals (villagescore/cli/i18n.py): when a typer upgrade moves or
renames what it patches, these tests fail by name, instead of the clerk quietly getting English usage errors."""

from __future__ import annotations

import importlib.util
import inspect

import pytest
from typer.testing import CliRunner

from villagescore.cli import app, i18n

OWN_CLICK = importlib.util.find_spec("typer._click") is not None  # typer >= 0.20 carries its own click


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_every_patch_was_put_in_place():
    assert i18n.FAILED is None, f"cli/i18n.py could not patch this typer: {i18n.FAILED}"
    if OWN_CLICK:
        assert {"decorators.help_option", "HelpFormatter.write_usage (用法：)", "HelpFormatter.write_usage (usage words)",
                "formatting.term_len", "UsageError.show"} <= set(i18n.PATCHED), i18n.PATCHED
    else:  # the real click: its words go through gettext
        assert any(p.endswith("._") for p in i18n.PATCHED), i18n.PATCHED


@pytest.mark.skipif(not OWN_CLICK, reason="typer < 0.20 uses the real click, translated through gettext")
def test_the_private_internals_relied_on_are_there():
    from typer import core as typer_core
    from typer._click import decorators, exceptions, formatting, utils

    assert callable(decorators.help_option) and callable(utils.echo)
    assert list(inspect.signature(formatting.HelpFormatter.write_usage).parameters)[:4] == ["self", "prog", "args",
                                                                                         "prefix"]
    assert hasattr(formatting, "term_len")
    assert hasattr(typer_core.TyperArgument, "display_type_rich")
    for name, attrs in (("UsageError", ("ctx", "format_message", "show")), ("MissingParameter", ("param_hint", "param")),
                        ("NoSuchOption", ("option_name", "possibilities"))):
        cls = getattr(exceptions, name)
        sample = cls.__new__(cls)
        cls.__init__(sample, *(("--x",) if name == "NoSuchOption" else ("x",) if name == "UsageError" else ()))
        assert all(hasattr(sample, a) for a in attrs), (name, attrs)
    assert exceptions.UsageError.show.__module__ == i18n.__name__  # ours, not typer's


@pytest.mark.parametrize("args, words", [
    (["compute", "--help"], ["用法：", "[选项]", "显示本帮助并退出。"]),
    (["history"], ["用法：", "请运行", "查看帮助。", "错误：缺少参数 '单位代码|runs|export'"]),
    (["compute", "x", "--perod", "2025"], ["没有这个选项：--perod（是不是想写 --period？）"]),
    (["template", "--period"], ["选项 --period 后面需要写一个值。"]),
    (["template", "--seed", "abc"], ["的值不对：应填写整数"]),
    (["nope"], ["没有这个命令：'nope'"]),
])
def test_typers_own_words_are_chinese(args, words):
    out = _run(*args).output
    for w in words:
        assert w in out, (args, w, out)
    for english in ("Usage:", "Error:", "Try '", "Show this message", "[OPTIONS]", "<str>", "<path>", "No such"):
        assert english not in out, (args, english)
