"""Dependencies are chosen, not accumulated: what the code imports is declared in
pyproject.toml, what is declared is imported (or has a stated reason), and no
GPL-licensed package is left in the product."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import metadata, packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# The product's packages, as pyproject.toml ships them.
PRODUCT = tuple(
    name.rstrip("*") for name in _PROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
)
LOCAL = {*PRODUCT, "tests", "benchmarks", "scripts"}
# Declared but not imported by name, each for a reason the README gives.
NOT_IMPORTED = {
    "psycopg": "the PostgreSQL driver SQLAlchemy loads for postgresql+psycopg:// URLs",
    "python-docx": "imported as `docx`",
    "pyyaml": "imported as `yaml`",
    "markdown-it-py": "imported as `markdown_it`",
    "pytest-timeout": "a pytest plugin",
    "ruff": "the linter, run by scripts/test.sh",
    "import-linter": "the import contract, run as lint-imports by scripts/test.sh",
    "mypy": "the type checker, run by scripts/test.sh",
    "types-pyyaml": "type stubs for mypy",
    "python-multipart": "Starlette's form parser, loaded by request.form()",
    "itsdangerous": "signs Starlette's session cookies (SessionMiddleware)",
}
# Imported but part of a declared package's own distribution set.
BUNDLED = {"pydantic_core": "pydantic"}


def _declared() -> dict[str, set[str]]:
    project = _PROJECT["project"]
    groups = {"main": project["dependencies"], **project["optional-dependencies"]}
    return {
        group: {re.split(r"[<>=\[ ;!~]", spec, maxsplit=1)[0].lower() for spec in specs}
        for group, specs in groups.items()
    }


def _imports(folders: tuple[str, ...]) -> set[str]:
    found: set[str] = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in LOCAL}


def _distributions(modules: set[str]) -> set[str]:
    owners = packages_distributions()
    result = set()
    for module in modules:
        if module in BUNDLED:
            result.add(BUNDLED[module])
            continue
        dists = owners.get(module)
        assert dists, f"no installed distribution provides `{module}`"
        result.add(dists[0].lower())
    return result


def test_every_product_import_is_a_declared_dependency():
    declared = _declared()["main"]
    missing = _distributions(_imports(PRODUCT)) - declared
    assert not missing, f"imported by the product but not in [project].dependencies: {missing}"


def test_every_test_import_is_declared_for_development():
    declared = _declared()["main"] | _declared()["dev"]
    missing = _distributions(_imports(("tests", "benchmarks"))) - declared - {"hoering"}
    assert not missing, f"imported by tests or benchmarks but not declared: {missing}"


def test_every_declared_dependency_is_imported_or_has_a_reason():
    declared = _declared()["main"] | _declared()["dev"]
    imported = _distributions(_imports((*PRODUCT, "tests", "benchmarks")))
    unused = declared - imported - set(NOT_IMPORTED)
    assert not unused, f"declared but never imported: {unused}"


def _licence(dist: str) -> str:
    info = metadata(dist)
    parts = [info["License-Expression"] or "", (info["License"] or "")[:200]]
    parts += [c for c in info.get_all("Classifier") or [] if c.startswith("License")]
    return " ".join(parts)


def test_no_gpl_runtime_dependency_and_html2text_imap_tools_are_gone():
    declared = _declared()["main"]
    assert "html2text" not in declared and "imap-tools" not in declared
    assert not {"html2text", "imap_tools"} & _imports(PRODUCT)
    gpl = re.compile(r"(?<![L])GPL|GNU General Public")
    licences = {dist: _licence(dist) for dist in declared}
    assert not {d: text for d, text in licences.items() if gpl.search(text)}
