"""Atomic output: write to a temp file beside the target, then replace it in one step.

Files are created with the mode a new file gets from the user's umask (0644 under the usual 022), or keep
the mode of the file they replace: a temp file's own 0600 never reaches the target. Every failure is an
``OutputError`` whose reason is Chinese (``os_reason``), never the system's English text.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path


class OutputError(Exception):
    """An output that cannot be written (folder missing, file open in Excel, no permission, disk full)."""

    def __init__(self, path: Path, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


_REASONS = {
    errno.ENOSPC: "磁盘空间不足",
    errno.EDQUOT: "磁盘配额已用完",
    errno.EROFS: "所在的磁盘或文件夹是只读的",
    errno.ENOENT: "文件夹不存在",
    errno.ENOTDIR: "路径中有一部分是文件而不是文件夹",
    errno.EISDIR: "已有同名的文件夹",
    errno.ENAMETOOLONG: "路径或文件名太长",
    errno.EIO: "磁盘读写出错（磁盘或网络驱动器可能有故障）",
    errno.EFBIG: "文件超过了系统允许的大小",
    errno.EMFILE: "打开的文件太多",
    errno.EBUSY: "文件正被其他程序占用",
    errno.EXDEV: "临时文件与目标不在同一磁盘",
    errno.EEXIST: "文件已存在",
}


def os_reason(exc: OSError) -> str:
    """Why an operating-system call failed, in Chinese (the system's own text is English on most machines)."""
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM):
        return "没有写入权限，或文件正在 Excel/WPS 中打开（请先关闭该文件）"
    if exc.errno in _REASONS:
        return _REASONS[exc.errno]
    if getattr(exc, "winerror", None) in (32, 33):  # ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION
        return "文件正在 Excel/WPS 或其他程序中打开（请先关闭该文件）"
    name = errno.errorcode.get(exc.errno or 0)
    return f"操作系统报告错误（{name}）" if name else "操作系统报告错误"


def _umask() -> int:
    """The process's umask, read without changing it where the system says it (Linux), else set and restored."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_file_mode(target: Path) -> int:
    """The mode ``target`` should have: the mode of the file it replaces, or what the umask gives a new file."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def write_temp(path: Path, data: bytes) -> Path:
    """``data`` written and flushed to disk in a temp file in ``path``'s folder, with ``path``'s mode to be;
    the temp file's path. Raises OSError (the temp file removed)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if hasattr(os, "fchmod"):
                os.fchmod(fh.fileno(), new_file_mode(path))
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return Path(tmp)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = write_temp(path, data)
    except OSError as exc:
        raise OutputError(path, os_reason(exc)) from None
    try:
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OutputError(path, os_reason(exc)) from None
        raise
