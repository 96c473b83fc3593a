"""backend/matchmaking is the one seam: no other backend module imports the matcher."""

from __future__ import annotations

import ast
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[2] / "backend"
SEAM = BACKEND / "matchmaking"


def matcher_imports(path: Path) -> list[str]:
    """Every import of ``matching`` in a module, top-level or inside a function."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [
            f"{path.name}:{node.lineno} {name}"
            for name in names
            if name == "matching" or name.startswith("matching.")
        ]
    return found


def test_only_backend_matchmaking_imports_matching():
    modules = [p for p in BACKEND.rglob("*.py") if SEAM not in p.parents]

    offenders = [hit for path in modules for hit in matcher_imports(path)]

    assert len(modules) > 40  # the walk really covers the backend
    assert offenders == []


def test_the_check_sees_lazy_imports_and_not_lookalikes(tmp_path):
    module = tmp_path / "lazy.py"
    module.write_text(
        "import matchingale\n"
        "from backend.matchmaking import frames\n"
        "def f():\n"
        "    from matching.rounds import run_round\n"
        "    import matching\n"
    )

    assert matcher_imports(module) == ["lazy.py:4 matching.rounds", "lazy.py:5 matching"]


def test_the_seam_itself_reaches_the_matcher():
    assert any(matcher_imports(path) for path in SEAM.glob("*.py"))
