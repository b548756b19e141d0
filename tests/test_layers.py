"""The package's layers, read from its imports (every import, also those inside functions): the core touches no
file library, typer or rich; only the command line imports typer and rich; no module imports itself back through
others; the stages import only stages before them in the flow."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "villagescore"
IO_LIBRARIES = {"openpyxl", "xlsxwriter", "python_calamine", "pandas", "sqlite3", "defusedxml", "reportlab", "cv2",
                "pypdfium2", "zxingcpp", "segno", "shutil", "tempfile"}
UI_LIBRARIES = {"typer", "click", "rich"}
STAGES = ["collect", "survey", "setup", "parse", "check", "score", "grade", "validate", "template"]


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(module: str) -> tuple[set[str], set[str]]:
    """(modules of the package, top-level names of other libraries) that ``module`` imports."""
    path = MODULES[module]
    inside, outside = set(), set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module
                     for a in node.names]  # `from pkg import submodule` depends on the submodule
        else:
            continue
        for name in names:
            if name.split(".")[0] != "villagescore":
                outside.add(name.split(".")[0])
                continue
            while name not in MODULES:
                name = name.rpartition(".")[0]
            if name != module:
                inside.add(name)
    return inside, outside


GRAPH = {m: _imports(m) for m in MODULES}


def test_the_core_touches_no_file_library_typer_or_rich():
    for m, (inside, outside) in GRAPH.items():
        if m.startswith("villagescore.core"):
            assert all(x.startswith("villagescore.core") or x == "villagescore" for x in inside), (m, inside)
            assert not outside & (IO_LIBRARIES | UI_LIBRARIES), (m, outside & (IO_LIBRARIES | UI_LIBRARIES))


def test_only_the_command_line_imports_typer_and_rich():
    for m, (inside, outside) in GRAPH.items():
        if not m.startswith("villagescore.cli"):
            assert not outside & UI_LIBRARIES, m
            if m != "villagescore.__main__":  # python -m villagescore
                assert not any(x.startswith("villagescore.cli") for x in inside), m


def test_no_import_cycles():
    seen: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(m: str, path: list[str]) -> None:
        seen[m] = 1
        for n in sorted(GRAPH[m][0]):
            if seen.get(n) == 1:
                raise AssertionError("import cycle: " + " → ".join([*path[path.index(n):], n]))
            if n not in seen:
                visit(n, [*path, n])
        seen[m] = 2

    for m in sorted(GRAPH):
        if m not in seen:
            visit(m, [m])


def test_stages_import_only_earlier_stages():
    for i, stage in enumerate(STAGES):
        inside = GRAPH[f"villagescore.stages.{stage}"][0]
        later = {f"villagescore.stages.{s}" for s in STAGES[i + 1:]}
        assert not inside & later, (stage, inside & later)
        assert not {"villagescore.pipeline", "villagescore.runs"} & inside, stage
