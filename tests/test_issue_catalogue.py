"""The issue codes against their uses and their catalogue (docs/issues.md), read statically from the source.

Like sqlite-utils' tests/test_docs.py: every code is emitted somewhere in the package and documented, and
every call site passes exactly the parameters its message template uses.
"""

import ast
import importlib.util
import string
import sys
from pathlib import Path

from villagescore.core.issues import CODES

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "villagescore"
DEFINED_IN = PACKAGE / "core" / "issues.py"
PLACES = {"file", "sheet", "cell", "unit"}  # an issue's position, not message parameters
IMPLICIT = {"unit", "sheet", "cell"}  # template fields Issue.message fills from the position


def _catalogue():
    spec = importlib.util.spec_from_file_location("issue_catalogue", ROOT / "scripts" / "issue_catalogue.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("issue_catalogue", module)
    spec.loader.exec_module(module)
    return module


def _trees():
    for path in sorted(PACKAGE.rglob("*.py")):
        if path != DEFINED_IN:
            yield path.relative_to(ROOT), ast.parse(path.read_text(encoding="utf-8"))


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def _dict_keys(node: ast.Dict) -> tuple[set[str], bool]:
    return {k.value for k in node.keys if isinstance(k, ast.Constant)}, any(k is None for k in node.keys)


def call_sites():
    """(code, parameters given, has a ** splat, places given as keywords, where) for every site that names a code
    as a literal and passes its parameters: ``issue("code", ..., key=...)``, ``FileRefused("code", {...}, ...)``,
    and ``(..., "code", {...})`` tuples (the normaliser's results)."""
    for path, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                    and node.args[0].value in CODES:
                keywords = {k.arg for k in node.keywords if k.arg}
                where = f"{path}:{node.lineno}"
                if len(node.args) > 1 and isinstance(node.args[1], ast.Dict):
                    given, splat = _dict_keys(node.args[1])
                    yield node.args[0].value, given, splat, keywords & PLACES, where
                else:
                    splat = any(k.arg is None for k in node.keywords)
                    yield node.args[0].value, keywords - PLACES, splat, keywords & PLACES, where
            elif isinstance(node, (ast.Tuple, ast.List)):
                for a, b in zip(node.elts, node.elts[1:]):
                    if isinstance(a, ast.Constant) and a.value in CODES and isinstance(b, ast.Dict):
                        given, splat = _dict_keys(b)
                        yield a.value, given, splat, set(), f"{path}:{node.lineno}"


def test_every_code_is_emitted_somewhere():
    named = {n.value for _, tree in _trees() for n in ast.walk(tree)
             if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in CODES}
    never = sorted(set(CODES) - named)
    assert never == [], f"issue codes never used in the package (remove them from core/issues.py): {never}"


def test_call_sites_pass_the_template_parameters():
    sites = list(call_sites())
    assert len(sites) > 60  # the scan finds the call sites (78 when written)
    wrong = []
    for code, given, splat, places, where in sites:
        fields = _fields(CODES[code].template) | _fields(CODES[code].hint)  # a hint may name values too
        needed = fields - IMPLICIT
        unused = given - fields
        missing = set() if splat else needed - given
        unplaced = set() if splat else (fields & {"sheet", "cell"}) - places
        if unused or missing or unplaced:
            wrong.append(f"{where} {code}: unused {sorted(unused)}, missing {sorted(missing | unplaced)}")
    assert wrong == []


def test_every_template_formats_with_its_fields():
    for spec in CODES.values():
        assert spec.template.format(**{f: "x" for f in _fields(spec.template)})
        assert spec.hint == "" or spec.hint.endswith("。"), spec.code


def test_catalogue_is_up_to_date():
    catalogue = _catalogue()
    text = catalogue.render()
    assert all(f"\n## {code}\n" in text for code in CODES)
    on_disk = (ROOT / "docs" / "issues.md").read_text(encoding="utf-8")
    assert on_disk == text, "docs/issues.md is out of date: run python scripts/issue_catalogue.py"


def test_catalogue_example_is_the_real_message():
    catalogue = _catalogue()
    assert catalogue.example(CODES["out-of-range"]) == "班子团结应在 0 到 10 之间，填写的是 12"
    assert catalogue.example(CODES["form-missing"]) == "青山村（QS01） 缺少“发展质量集中考评测评票”"

