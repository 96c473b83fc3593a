"""The one direction of dependency in architecture.md, checked on every module's imports.

Lazy imports inside functions count too: a cycle broken by a lazy import is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = {
    "peerbridge",
    "web",
    "schema",
    "backend",
    "matching",
    "vocabulary",
    "members_csv",
}
# What each layer may import of the project's own packages (itself included).
ALLOWED = {
    "peerbridge": PROJECT_PACKAGES,
    "web": {"web", "backend", "vocabulary", "members_csv"},
    "schema": {"schema", "backend", "vocabulary", "members_csv"},
    "backend": {"backend", "matching", "vocabulary", "members_csv"},
    "matching": {"matching", "vocabulary", "members_csv"},
    "members_csv": {"members_csv", "vocabulary"},
    "vocabulary": {"vocabulary"},
}
# The matcher is a pure library: no database, no web framework.
FORBIDDEN_THIRD_PARTY = {
    "matching": {"sqlmodel", "sqlalchemy", "fastapi", "starlette", "strawberry", "jinja2"},
    "members_csv": {"sqlmodel", "sqlalchemy", "fastapi", "starlette", "strawberry", "jinja2"},
    "vocabulary": {"sqlmodel", "sqlalchemy", "fastapi", "starlette", "strawberry", "jinja2"},
}


def imported_top_levels(path: Path) -> set[str]:
    """Every top-level package a module imports, wherever the import statement stands."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def modules_of(package: str) -> list[Path]:
    """The package's Python files (migrations included: they must not import upward either)."""
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_no_layer_imports_upward(package: str) -> None:
    """Each package imports only the layers below it (architecture.md)."""
    files = modules_of(package)
    assert files, f"{package}/ has no modules"
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in imported_top_levels(path)
        if name in PROJECT_PACKAGES - ALLOWED[package]
        or name in FORBIDDEN_THIRD_PARTY.get(package, set())
    }
    assert not wrong, sorted(wrong)


def test_the_checker_sees_lazy_imports(tmp_path: Path) -> None:
    """A lazy import inside a function is found (so the test above can fail)."""
    module = tmp_path / "module.py"
    module.write_text("def f():\n    from web.routes import router\n    import schema.http\n")
    assert imported_top_levels(module) == {"web", "schema"}
