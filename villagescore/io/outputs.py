"""A run's outputs change together or not at all: the summary, 公示, CSV files, reports and the archive record.

``Outputs`` is used in three steps:

1. ``check`` before any work: every target can be written (its folder exists or can be made, is writable, the
   target is no folder and not locked by another program), so a bad path costs nothing and changes nothing;
2. ``stage`` for each output once it is built: its bytes go to a temp file beside the target, flushed to disk
   (a full disk or a folder gone is found here, while nothing has changed);
3. ``commit``: the archive records the run (one transaction; a failure leaves it as it was and every temp
   file is removed), then each temp file is renamed over its target. The archive record and the renames cannot
   be one atomic step; a rename of a file already written and flushed in its own folder rarely fails, and if
   one does, the files already replaced are put back from hard-linked copies of the old ones and the archive
   record is withdrawn, so that again nothing has changed. Only what cannot be put back is reported as changed,
   path by path.

Every failure is an ``OutputError`` naming the path and the reason in Chinese (``atomic.os_reason``).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, TypeVar

from villagescore.io.atomic import OutputError, os_reason, write_temp

T = TypeVar("T")


@dataclass
class _Staged:
    target: Path
    temp: Path
    backup: Path | None = None  # a hard link to the file replaced, until the commit is over
    existed: bool = False


def _existing_ancestor(folder: Path) -> Path:
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder


def check_writable(target: Path) -> None:
    """Raise OutputError when ``target`` could not be written (nothing is created or changed)."""
    target = Path(target)
    if target.is_dir():
        raise OutputError(target, "已有同名的文件夹")
    folder = target.parent
    base = _existing_ancestor(folder)
    if not base.is_dir():
        raise OutputError(target, f"路径中的“{base}”是文件而不是文件夹")
    if base != folder:  # to be made: the first folder that exists must take it
        if not os.access(base, os.W_OK | os.X_OK):
            raise OutputError(target, f"无法在“{base}”中建立文件夹：没有写入权限，或该磁盘是只读的")
        return
    try:  # a probe file says what access() cannot: a read-only disk, a folder that refuses new files
        fd, probe = tempfile.mkstemp(prefix=".villagescore-", suffix=".tmp", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(target, os_reason(exc)) from None
    if target.exists():
        try:  # opening for append changes nothing; it fails where another program holds the file (Windows)
            with open(target, "ab"):
                pass
        except OSError as exc:
            raise OutputError(target, os_reason(exc)) from None


def check_folder(folder: Path) -> None:
    """Raise OutputError (naming ``folder``) when files could not be written into ``folder`` (made if missing)."""
    try:
        check_writable(Path(folder) / ".villagescore-probe")
    except OutputError as exc:
        raise OutputError(Path(folder), exc.reason) from None


class PartlyWritten(OutputError):
    """Some outputs were replaced and could not be put back."""


class Outputs:
    """The outputs of one run, staged beside their targets and put in place together (see the module doc)."""

    def __init__(self) -> None:
        self._staged: list[_Staged] = []
        self._made: list[Path] = []  # folders made for the outputs, removed again when nothing is written

    def __enter__(self) -> "Outputs":
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()  # whatever was staged and not committed (an error while building the next output)

    def check(self, targets: Iterable[Path | None]) -> None:
        for t in targets:
            if t is not None:
                check_writable(Path(t))

    def _folder(self, folder: Path) -> None:
        missing = []
        while not folder.exists() and folder.parent != folder:
            missing.append(folder)
            folder = folder.parent
        for f in reversed(missing):
            f.mkdir()
            self._made.append(f)

    def stage(self, target: Path, data: bytes) -> None:
        """Write ``data`` beside ``target`` (flushed to disk); the target is not touched yet."""
        target = Path(target)
        try:
            self._folder(target.parent)
            temp = write_temp(target, data)
        except OSError as exc:
            self.abort()
            raise OutputError(target, os_reason(exc)) from None
        except BaseException:
            self.abort()
            raise
        self._staged.append(_Staged(target, temp))

    @property
    def targets(self) -> list[Path]:
        return [s.target for s in self._staged]

    def abort(self) -> None:
        """Remove every temp file and folder made; the targets stay as they were."""
        for s in self._staged:
            _unlink(s.temp)
        self._staged.clear()
        for f in reversed(self._made):
            try:
                f.rmdir()
            except OSError:
                pass
        self._made.clear()

    def commit(self, record: Callable[[], T] | None = None,
               withdraw: Callable[[T], None] | None = None) -> T | None:
        """``record()`` (the archive), then every staged file renamed into place; what ``record`` returned.

        A failure of ``record`` leaves every target as it was. A failed rename puts back the files already
        replaced and calls ``withdraw(recorded)``; what could not be put back is named in the error.
        """
        try:
            recorded = record() if record is not None else None
        except BaseException:
            self.abort()
            raise
        done: list[_Staged] = []
        current: _Staged | None = None
        try:
            for s in self._staged:
                current = s
                s.existed = os.path.lexists(s.target)
                if s.existed:
                    s.backup = _link_copy(s.target)
                os.replace(s.temp, s.target)
                done.append(s)
        except BaseException as exc:
            failed = current.target if current is not None else Path()
            reason = os_reason(exc) if isinstance(exc, OSError) else "已中断"
            stuck = self._put_back(done)
            for rest in self._staged:
                if rest not in done:
                    _unlink(rest.temp)
            withdrawn = True
            if withdraw is not None and recorded is not None:
                try:
                    withdraw(recorded)
                except Exception:  # noqa: BLE001 - said below; the error to report is the rename's
                    withdrawn = False
            self._cleanup()
            if stuck or not withdrawn:
                parts = [f"已替换为本次结果、无法恢复原文件：{'、'.join(map(str, stuck))}" if stuck else "",
                         "" if withdrawn else "本次计算已记入结果档案库，未能撤回"]
                raise PartlyWritten(failed, f"{reason}；" + "；".join(p for p in parts if p)) from None
            if isinstance(exc, OSError):
                raise OutputError(failed, f"{reason}（其他输出文件和结果档案库均未改动）") from None
            raise
        self._cleanup()
        return recorded

    def _put_back(self, done: list[_Staged]) -> list[Path]:
        """Undo the renames of ``done``; the targets that could not be put back."""
        stuck = []
        for s in reversed(done):
            try:
                if s.backup is not None:
                    os.replace(s.backup, s.target)
                    s.backup = None
                elif not s.existed:
                    os.unlink(s.target)
                else:
                    stuck.append(s.target)
            except OSError:
                stuck.append(s.target)
        return stuck

    def _cleanup(self) -> None:
        for s in self._staged:
            if s.backup is not None:
                _unlink(s.backup)
        self._staged.clear()
        self._made.clear()


def _link_copy(path: Path) -> Path | None:
    """A hard link to ``path`` under a temp name in its folder (None where the disk has no hard links)."""
    for _ in range(3):
        name = path.parent / f".{path.stem}.{os.urandom(4).hex()}.old"
        try:
            os.link(path, name)
            return name
        except FileExistsError:
            continue
        except OSError:
            return None
    return None


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


__all__ = ["Outputs", "OutputError", "PartlyWritten", "check_writable", "check_folder"]
