"""Build offline install bundles for a clerk's Windows PC (64-bit, no internet).

    python scripts/build_bundle.py                      # dist/villagescore-win64-py311.zip, …py312.zip, …py313.zip
    python scripts/build_bundle.py --python 3.12        # only that one
    python scripts/build_bundle.py --out /some/folder

Each zip holds one folder ``villagescore-win64-py3XX/`` with:

- ``wheels/``: this project's wheel and every dependency's wheel for CPython 3.XX on win_amd64
  (``pip download --platform win_amd64 --only-binary=:all:``), completed by the requirements whose markers hold
  only on Windows (pip evaluates ``platform_system == "Windows"`` on the machine it runs on, so typer's colorama
  would be missed);
- ``安装.bat``: makes ``venv\\`` beside itself with the PC's Python 3.XX (64-bit) and installs from ``wheels\\``
  with ``pip --no-index``; ``运行示例.bat``: runs ``villagescore demo`` into ``演示\\`` and opens the folder;
  ``打开命令行.bat``: a command window where ``villagescore`` works; ``说明.txt``: the steps, in Chinese.

The .bat files are GBK with CRLF line ends, as cmd.exe on a Chinese Windows reads them; each switches the console
to code page 936 in ASCII-only first lines and restores the old one at the end (the idiom of CPython's own
``activate.bat``); no GBK trail byte of their Chinese text is ``|`` or ``^``, so even a console left in another
code page parses the same commands; every path is quoted (folders with spaces or Chinese names).

Every bundle is checked before it is zipped: each wheel's requirements, with Windows markers, are met by a wheel
in the bundle whose tags a 64-bit CPython 3.XX on Windows accepts, and pip resolves ``villagescore`` from the
bundle alone (``--no-index --find-links``) for that platform and Python version. Downloading uses the machine's pip settings
(a mirror, say); the check ignores them (``PIP_CONFIG_FILE`` = os.devnull).
"""

from __future__ import annotations

import argparse
import email.parser
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

try:
    from packaging.markers import default_environment
    from packaging.requirements import Requirement
    from packaging.tags import compatible_tags, cpython_tags
    from packaging.utils import canonicalize_name, parse_wheel_filename
except ImportError:  # pip carries its own copy
    from pip._vendor.packaging.markers import default_environment  # type: ignore[no-redef]
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    from pip._vendor.packaging.tags import compatible_tags, cpython_tags  # type: ignore[no-redef]
    from pip._vendor.packaging.utils import canonicalize_name, parse_wheel_filename  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
PYTHONS = ("3.11", "3.12", "3.13")
PLATFORM = "win_amd64"
PROJECT = "villagescore"


# ------------------------------------------------------------------ wheels


def _pip(*args: str, isolated: bool = False, quiet: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    if isolated:  # only the bundle: no index, find-links or constraints from this machine's settings
        env = {k: v for k, v in env.items() if not k.startswith("PIP_")}
        env["PIP_CONFIG_FILE"] = os.devnull
    cmd = [sys.executable, "-m", "pip", *args, *(["-q"] if quiet else [])]
    return subprocess.run(cmd, env=env, capture_output=True, text=True)


def _run_pip(*args: str) -> None:
    res = _pip(*args)
    if res.returncode:
        raise SystemExit(f"pip {' '.join(args[:2])} failed:\n{res.stderr.strip() or res.stdout.strip()}")


def build_wheel(out: Path) -> Path:
    """This project's wheel (pip wheel with the build backend of pyproject.toml)."""
    out.mkdir(parents=True, exist_ok=True)
    _run_pip("wheel", "--no-deps", "-w", str(out), str(ROOT))
    (wheel,) = sorted(out.glob(f"{PROJECT}-*.whl"))
    return wheel


def _target(python: str) -> list[str]:
    return ["--only-binary=:all:", "--platform", PLATFORM, "--python-version", python, "--implementation", "cp"]


def windows_environment(python: str) -> dict[str, str]:
    """Marker values of 64-bit CPython ``python`` on Windows."""
    env = dict(default_environment())
    env.update(os_name="nt", sys_platform="win32", platform_system="Windows", platform_machine="AMD64",
               platform_release="10", platform_version="10.0.19045", implementation_name="cpython",
               platform_python_implementation="CPython", python_version=python, python_full_version=f"{python}.0",
               implementation_version=f"{python}.0")
    return env


def _metadata(wheel: Path):
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
        return email.parser.Parser().parsestr(zf.read(name).decode("utf-8"))


def _accepted(python: str) -> set:
    major, minor = (int(x) for x in python.split("."))
    return {*cpython_tags((major, minor), platforms=[PLATFORM]),
            *compatible_tags((major, minor), f"cp{major}{minor}", [PLATFORM])}


def missing(folder: Path, python: str) -> list[tuple[Requirement, str]]:
    """Requirements (and who asks for them) reached from the project through the bundle's wheels, with Windows
    markers and the extras asked for, that no wheel in ``folder`` meets for 64-bit CPython ``python`` on Windows."""
    accepted, env = _accepted(python), windows_environment(python)
    wheels = {}
    for path in sorted(folder.glob("*.whl")):
        name, version, _, tags = parse_wheel_filename(path.name)
        if tags & accepted:
            wheels.setdefault(name, []).append((version, path))
    out, todo, seen = [], [(Requirement(PROJECT), "")], set()
    while todo:
        req, wanted_by = todo.pop()
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        fits = [(v, p) for v, p in wheels.get(key[0], []) if req.specifier.contains(v, prereleases=True)]
        if not fits:
            out.append((req, wanted_by))
            continue
        wheel = max(fits)[1]
        for line in _metadata(wheel).get_all("Requires-Dist") or []:
            dep = Requirement(line)
            if dep.marker is None or any(dep.marker.evaluate({**env, "extra": x}) for x in (req.extras or {""})):
                dep.marker = None
                todo.append((dep, wheel.name))
    return out


def unmet(folder: Path, python: str) -> list[str]:
    """Why the bundle in ``folder`` would not install offline on 64-bit CPython ``python`` on Windows: a wheel
    such a Python cannot install, or a requirement no wheel meets. Empty when it would."""
    accepted = _accepted(python)
    problems = [f"{p.name}: not installable on CPython {python} {PLATFORM}" for p in sorted(folder.glob("*.whl"))
                if not parse_wheel_filename(p.name)[3] & accepted]
    problems += [f"{req}: no wheel in the bundle" + (f" (required by {by})" if by else "")
                 for req, by in missing(folder, python)]
    return problems


def download(wheel: Path, folder: Path, python: str) -> None:
    """The project's wheel and its dependencies' Windows wheels, then what only Windows markers ask for."""
    folder.mkdir(parents=True, exist_ok=True)
    _run_pip("download", *_target(python), "-d", str(folder), str(wheel))
    for _ in range(10):  # a requirement found missing may bring its own
        wanted = sorted({str(req) for req, _ in missing(folder, python)})
        if not wanted:
            return
        _run_pip("download", *_target(python), "-d", str(folder), *wanted)


def resolve(folder: Path, python: str) -> subprocess.CompletedProcess:
    """pip resolving the project from the bundle alone (``--no-index --find-links``) for 64-bit CPython ``python``
    on Windows. ``pip download`` rather than ``pip install --dry-run --target``: pip 23's install checks each
    wheel's Requires-Python against the Python running pip, not ``--python-version`` (numpy for 3.12 is refused
    on a 3.11 machine), while download checks it against the target, as an install on that PC would."""
    with tempfile.TemporaryDirectory() as dest:
        return _pip("download", "--no-index", "--find-links", str(folder), *_target(python), "-d", dest, PROJECT,
                    isolated=True, quiet=False)


# ------------------------------------------------------------------ scripts for cmd.exe

# Lines before the code page switch are ASCII; the rest is read in code page 936.
_HEAD = r"""@echo off
setlocal EnableExtensions
for /f "tokens=2 delims=:." %%a in ('"%SystemRoot%\System32\chcp.com"') do set "VS_OLD_CP=%%a"
"%SystemRoot%\System32\chcp.com" 936 >nul 2>&1
cd /d "%~dp0"
set "PIP_DISABLE_PIP_VERSION_CHECK=1"
set "PIP_NO_INDEX=1"
"""
_TAIL = r"""
:end
if defined VS_OLD_CP "%SystemRoot%\System32\chcp.com" %VS_OLD_CP% >nul 2>&1
pause
endlocal
"""

INSTALL = r"""title villagescore 安装
echo.
echo 正在安装 villagescore {version}（离线安装，不需要联网）
echo 安装位置：%~dp0venv
echo.
set "VS_PY="
py -{python}-64 -c "import sys" >nul 2>&1 && set "VS_PY=py -{python}-64"
if defined VS_PY goto found
python -c "import sys, struct; sys.exit(0 if sys.version_info[:2] == ({major}, {minor}) and struct.calcsize('P') == 8 else 1)" >nul 2>&1 && set "VS_PY=python"
if defined VS_PY goto found
echo 没有找到 64 位的 Python {python}。
echo 请先安装 Python {python}（64 位，Windows installer 64-bit），安装时勾选 Add python.exe to PATH，
echo 然后重新双击“安装.bat”。如果电脑上装的是其他版本的 Python，请改用对应版本的安装包
echo （villagescore-win64-py311、py312、py313）。
goto failed
:found
echo 使用的 Python：%VS_PY%
%VS_PY% -m venv "%~dp0venv"
if errorlevel 1 goto failed
"%~dp0venv\Scripts\python.exe" -m pip install --no-index --find-links "%~dp0wheels" --upgrade {project}
if errorlevel 1 goto failed
"%~dp0venv\Scripts\villagescore.exe" --version
if errorlevel 1 goto failed
echo.
echo 安装完成。双击“运行示例.bat”试一试；双击“打开命令行.bat”后即可输入 villagescore 命令。
goto end
:failed
echo.
echo 安装没有完成，请把本窗口的内容截图发给维护人员。
"""

DEMO = r"""title villagescore 示例
if not exist "%~dp0venv\Scripts\villagescore.exe" goto missing
echo 正在用虚构的“青石乡”演示：生成表格、模拟填报、计算、输出汇总表……
"%~dp0venv\Scripts\villagescore.exe" demo --out "%~dp0演示"
if errorlevel 1 goto failed
echo.
echo 演示文件在“演示”文件夹中，其中的“2025年度汇总.xlsx”就是汇总表。
start "" "%~dp0演示"
goto end
:missing
echo 还没有安装：请先双击“安装.bat”。
goto end
:failed
echo.
echo 示例没有运行成功，请把本窗口的内容截图发给维护人员。
"""

SHELL = r"""title villagescore 命令行
if not exist "%~dp0venv\Scripts\activate.bat" goto missing
if defined VS_OLD_CP "%SystemRoot%\System32\chcp.com" %VS_OLD_CP% >nul 2>&1
endlocal & cmd /k "call "%~dp0venv\Scripts\activate.bat" & villagescore --help"
goto :eof
:missing
echo 还没有安装：请先双击“安装.bat”。
"""

README = """villagescore {version}：村党组织书记考评工具（Windows 64 位离线安装包，适用于 Python {python}）

安装（不需要联网）：
1. 先在电脑上安装 Python {python}（64 位）。安装程序可在能上网的电脑上从 python.org 下载
   （Windows installer 64-bit），用 U 盘拷过来；安装时勾选“Add python.exe to PATH”。
   电脑上已有 Python 3.11、3.12 或 3.13 的，选用对应版本的安装包即可。
2. 把本压缩包解压到一个固定的位置（例如 D:\\villagescore），不要直接在压缩包里双击运行。
3. 双击“安装.bat”。它在本文件夹中建立 venv 文件夹，并从 wheels 文件夹安装，大约需要一两分钟。
4. 双击“运行示例.bat”：用虚构的“青石乡”走一遍完整流程，结果在“演示”文件夹中。
5. 日常使用：双击“打开命令行.bat”，在打开的窗口中输入命令，例如
       villagescore template roster -o 名册.xlsx
       villagescore compute 2025H1表格 -o 2025H1汇总.xlsx
   每条命令加 --help 可以看到说明和示例。

说明：
- 换到别的文件夹后，请重新双击“安装.bat”（venv 文件夹不能随意挪动）。
- 升级时解压新版本的安装包，再双击其中的“安装.bat”。
- 如果 Windows 提示“已保护你的电脑”，点“更多信息”→“仍要运行”。
"""


def _cmd_text(body: str, **values: str) -> str:
    return _HEAD + body.format(**values).strip("\n") + "\n" + _TAIL


def gbk_crlf(text: str) -> bytes:
    """Text as cmd.exe and Notepad on a Chinese Windows read it: GBK, CRLF line ends."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("gbk")


def unsafe_in_other_code_pages(text: str) -> list[str]:
    """Characters whose GBK bytes hold | or ^ (a trail byte): cmd.exe reading the file in another code page would
    take them for a pipe or an escape."""
    return [ch for ch in dict.fromkeys(text) if not ch.isascii() and any(b in b"|^" for b in ch.encode("gbk"))]


def bundle_files(python: str, version: str) -> dict[str, bytes]:
    """The bundle's scripts and notes, by file name."""
    major, minor = python.split(".")
    values = dict(python=python, major=major, minor=minor, version=version, project=PROJECT)
    texts = {"安装.bat": _cmd_text(INSTALL, **values), "运行示例.bat": _cmd_text(DEMO, **values),
             "打开命令行.bat": _cmd_text(SHELL, **values), "说明.txt": README.format(**values)}
    for name, text in texts.items():
        bad = unsafe_in_other_code_pages(text)
        if bad:
            raise SystemExit(f"{name}: reword {bad}: their GBK bytes hold | or ^")
    return {name: gbk_crlf(text) for name, text in texts.items()}


# ------------------------------------------------------------------ the bundle


def build(python: str, wheel: Path, work: Path, out: Path) -> Path:
    """Download, write the scripts, check, and zip one bundle; the zip's path."""
    version = parse_wheel_filename(wheel.name)[1]
    name = f"{PROJECT}-win64-py{python.replace('.', '')}"
    folder = work / name
    if folder.exists():
        shutil.rmtree(folder)
    download(wheel, folder / "wheels", python)
    for file, data in bundle_files(python, str(version)).items():
        (folder / file).write_bytes(data)
    problems = unmet(folder / "wheels", python)
    res = resolve(folder / "wheels", python)
    if res.returncode:
        problems.append("pip download --no-index from the bundle failed:\n" + (res.stderr or res.stdout).strip())
    if problems:
        raise SystemExit(f"{name}: the bundle would not install offline:\n  " + "\n  ".join(problems))
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{name}.zip"
    partial = target.with_suffix(".zip.part")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():  # wheels are compressed already: stored as they are
                kind = zipfile.ZIP_STORED if path.suffix == ".whl" else zipfile.ZIP_DEFLATED
                zf.write(path, f"{name}/{path.relative_to(folder).as_posix()}", compress_type=kind)
    partial.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", nargs="+", default=list(PYTHONS), choices=PYTHONS, help="Python versions")
    ap.add_argument("--out", type=Path, default=ROOT / "dist", help="where the zips go (default: dist/)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        wheel = build_wheel(work / "project")
        for python in args.python:
            zip_path = build(python, wheel, work, args.out)
            size = zip_path.stat().st_size / 1e6
            count = len(list((work / zip_path.stem / "wheels").glob("*.whl")))
            print(f"{zip_path} ({count} wheels, {size:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
