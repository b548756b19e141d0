"""The offline install bundles for Windows (scripts/build_bundle.py): their scripts as cmd.exe reads them, the
Windows-only requirements, and each bundle built and resolved by pip from its own wheels alone."""

import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("build_bundle", ROOT / "scripts" / "build_bundle.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_bundle", module)
    spec.loader.exec_module(module)
    return module


bb = _script()


def _check_cmd_script(name: str, data: bytes) -> None:
    text = data.decode("gbk")  # cmd.exe on a Chinese Windows reads the file in code page 936
    assert b"\n" not in data.replace(b"\r\n", b""), f"{name}: a line end other than CRLF"
    lines = text.split("\r\n")
    switch = next(i for i, line in enumerate(lines) if "chcp.com\" 936" in line)
    assert all(line.isascii() for line in lines[:switch + 1]), f"{name}: non-ASCII before the code page switch"
    assert bb.unsafe_in_other_code_pages(text) == []
    assert 'if defined VS_OLD_CP "%SystemRoot%\\System32\\chcp.com" %VS_OLD_CP% >nul 2>&1' in lines  # restored
    for line in lines:
        if not line.lower().startswith(("echo", "title")):  # a path given to a program is quoted
            assert all(line[m.start() - 1] == '"' for m in re.finditer(r"%~dp0", line)), f"{name}: {line}"


def test_scripts_as_cmd_reads_them():
    files = bb.bundle_files("3.12", "0.1.0")
    assert set(files) == {"安装.bat", "运行示例.bat", "打开命令行.bat", "说明.txt"}
    for name, data in files.items():
        if name.endswith(".bat"):
            _check_cmd_script(name, data)
    install = files["安装.bat"].decode("gbk")
    assert 'py -3.12-64 -c "import sys"' in install  # the 64-bit Python of the bundle's version
    assert '-m pip install --no-index --find-links "%~dp0wheels" --upgrade villagescore' in install
    demo = files["运行示例.bat"].decode("gbk")
    assert '"%~dp0venv\\Scripts\\villagescore.exe" demo --out "%~dp0演示"' in demo
    notes = files["说明.txt"].decode("gbk")
    assert "Python 3.12（64 位）" in notes and "\r\n" in notes


def _wheel(folder: Path, filename: str, requires: list[str]) -> None:
    name, version = filename.split("-")[:2]
    meta = "Metadata-Version: 2.1\nName: {}\nVersion: {}\n{}".format(
        name, version, "".join(f"Requires-Dist: {r}\n" for r in requires))
    with zipfile.ZipFile(folder / filename, "w") as zf:
        zf.writestr(f"{name}-{version}.dist-info/METADATA", meta)


def test_windows_only_requirements_are_found(tmp_path):
    """pip evaluates markers on the machine it runs on; the bundle's check evaluates them for Windows."""
    _wheel(tmp_path, "villagescore-0.1.0-py3-none-any.whl",
           ['colorama; platform_system == "Windows"', 'uvloop; sys_platform != "win32"', "numpy>=2",
            'tomli; python_version < "3.11"', "rich"])
    _wheel(tmp_path, "numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl", [])  # not for Windows
    _wheel(tmp_path, "rich-14.0.0-py3-none-any.whl", ["pygments>=2.13"])
    assert sorted(str(r) for r, _ in bb.missing(tmp_path, "3.11")) == ["colorama", "numpy>=2", "pygments>=2.13"]
    problems = bb.unmet(tmp_path, "3.11")
    assert "numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl: not installable on CPython 3.11 win_amd64" in problems
    _wheel(tmp_path, "numpy-2.1.0-cp311-cp311-win_amd64.whl", [])
    assert sorted(str(r) for r, _ in bb.missing(tmp_path, "3.11")) == ["colorama", "pygments>=2.13"]
    assert sorted(str(r) for r, _ in bb.missing(tmp_path, "3.12")) == ["colorama", "numpy>=2", "pygments>=2.13"]


def _index_reachable() -> str:
    """'' when pip can download a Windows wheel here, else why not."""
    env = {k: v for k, v in os.environ.items() if k != "PIP_NO_INDEX"}
    with tempfile.TemporaryDirectory() as dest:
        res = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--timeout", "10",
                              "--retries", "1", "--only-binary=:all:", "--platform", "win_amd64", "--python-version",
                              "3.11", "-d", dest, "colorama"], capture_output=True, text=True, env=env, timeout=120)
    return "" if res.returncode == 0 else (res.stderr.strip().splitlines() or ["pip download failed"])[-1]


@pytest.mark.network
def test_bundles_build_and_resolve_offline(tmp_path):
    """Builds the three bundles as `python scripts/build_bundle.py` does (their own check included), then has pip
    resolve villagescore from each unpacked bundle alone, for 64-bit CPython 3.1x on Windows."""
    why = _index_reachable()
    if why:
        pytest.skip(f"the package index cannot be reached, so no bundle can be built: {why}")
    started = time.monotonic()
    assert bb.main(["--out", str(tmp_path / "dist")]) == 0
    for python in bb.PYTHONS:
        tag = python.replace(".", "")
        archive = tmp_path / "dist" / f"villagescore-win64-py{tag}.zip"
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(tmp_path / "unpacked")
        folder = tmp_path / "unpacked" / f"villagescore-win64-py{tag}"
        names = sorted(p.name for p in (folder / "wheels").glob("*.whl"))
        assert any(n.startswith("villagescore-") for n in names)
        assert any(n.startswith("colorama-") for n in names)  # typer's, on Windows only
        assert any(re.match(rf"numpy-.*-cp{tag}-cp{tag}-win_amd64\.whl", n) for n in names)
        assert any(re.match(rf"pandas-.*-cp{tag}-cp{tag}-win_amd64\.whl", n) for n in names)
        for name in ("安装.bat", "运行示例.bat", "打开命令行.bat"):
            _check_cmd_script(name, (folder / name).read_bytes())
        assert bb.unmet(folder / "wheels", python) == []
        res = bb.resolve(folder / "wheels", python)
        assert res.returncode == 0, res.stderr
    print(f"three bundles built and resolved in {time.monotonic() - started:.1f} s")
