"""The import contract (pyproject.toml, [tool.importlinter]): the layers
cli | web > flows > services > storage | rendering | mail > config | fileio > domain, and no
import circle between the modules of a package.

The contract is checked by `lint-imports` on the tree as it is (kept), and on copies of
the tree with one deliberate upward import, and with one circle (broken), so a test that
always passed could not hide behind a contract that checks nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "cli",
    "web",
    "flows",
    "services",
    "storage",
    "rendering",
    "mail",
    "config",
    "fileio",
    "domain",
)


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports with the repository's contract on the packages under `tree`."""
    binary = Path(sys.executable).with_name("lint-imports")
    if not binary.exists():
        pytest.fail("lint-imports is not installed; pip install -e '.[dev]'")
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(binary), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy_of_tree(target: Path) -> Path:
    """The product's packages (Python files only) copied under `target`."""
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            copy = target / path.relative_to(ROOT)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copy)
    return target


def _add_import(module: Path, line: str) -> None:
    module.write_text(f"{line}\n{module.read_text(encoding='utf-8')}", encoding="utf-8")


def test_the_tree_keeps_the_contract() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_an_upward_import_breaks_the_layers(tmp_path: Path) -> None:
    tree = _copy_of_tree(tmp_path)
    _lint_imports(tree).check_returncode()  # the copy keeps the contract, as the tree does
    _add_import(tree / "domain" / "calendar.py", "import storage.db  # noqa")
    result = _lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "domain is not allowed to import storage" in result.stdout
    assert "domain.calendar -> storage.db" in result.stdout


def test_independent_layers_may_not_import_each_other(tmp_path: Path) -> None:
    tree = _copy_of_tree(tmp_path)
    _add_import(tree / "mail" / "outgoing.py", "import rendering.pdf  # noqa")
    result = _lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "mail.outgoing -> rendering.pdf" in result.stdout


def test_a_circle_breaks_the_contract(tmp_path: Path) -> None:
    tree = _copy_of_tree(tmp_path)
    # services.review_lookup imports services.hearings; the other way round closes a circle
    # (the one that an import inside a function used to hide).
    _add_import(tree / "services" / "hearings.py", "import services.review_lookup  # noqa")
    result = _lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "No cycles are allowed in services" in result.stdout
    assert "Layers" in result.stdout and "KEPT" in result.stdout  # only the circle is wrong


def test_the_desk_may_not_import_the_cli(tmp_path: Path) -> None:
    tree = _copy_of_tree(tmp_path)
    _add_import(tree / "web" / "pages.py", "import cli.output  # noqa")
    result = _lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "web.pages -> cli.output" in result.stdout
