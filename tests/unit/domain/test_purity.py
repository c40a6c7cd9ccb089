"""deltastream.domain is pure: numpy, scipy and the standard library only, and no environment reads.

Both the source (every import statement, every ``os.environ``/``getenv``) and a fresh interpreter
(what importing every domain module actually loads) are checked.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import deltastream.domain

DOMAIN = Path(deltastream.domain.__file__).parent
ALLOWED_THIRD_PARTY = {"numpy", "scipy"}
MODULES = sorted(p for p in DOMAIN.rglob("*.py"))


def _imported_roots(tree: ast.AST) -> set[str]:
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_domain_sources_import_only_numpy_scipy_stdlib_and_the_domain_itself() -> None:
    assert len(MODULES) >= 2
    for path in MODULES:
        tree = ast.parse(path.read_text(), filename=str(path))
        for root in _imported_roots(tree):
            assert root in sys.stdlib_module_names or root in ALLOWED_THIRD_PARTY or root == "deltastream", (
                f"{path.name} imports {root!r}"
            )
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("deltastream."):
                assert node.module.startswith("deltastream.domain"), f"{path.name} imports {node.module}"


def test_domain_sources_read_no_environment() -> None:
    for path in MODULES:
        source = path.read_text()
        for forbidden in ("environ", "getenv", "print("):
            assert forbidden not in source, f"{path.name} uses {forbidden}"


def _third_party_modules_named() -> set[str]:
    """Every numpy/scipy module the domain sources import (``scipy.special``, ``numpy.typing``...)."""
    named = set()
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            named |= {n for n in names if n.split(".")[0] in ALLOWED_THIRD_PARTY}
    return named


def test_importing_the_whole_domain_loads_nothing_beyond_what_numpy_and_scipy_load() -> None:
    # Baseline: what importing the numpy/scipy modules themselves loads (numpy.f2py, for one, picks
    # up charset_normalizer when it happens to be installed). The domain must add only the standard
    # library and its own modules on top.
    names = [f"deltastream.domain.{p.stem}" for p in MODULES if p.stem != "__init__"]
    program = (
        "import json, sys\n"
        f"for name in {sorted(_third_party_modules_named())!r}: __import__(name)\n"
        "before = set(sys.modules)\n"
        f"for name in {names!r}: __import__(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))"
    )
    run = subprocess.run([sys.executable, "-c", program], check=True, capture_output=True, text=True)
    added: list[str] = json.loads(run.stdout)
    assert "deltastream" in added
    foreign = [m for m in added if m not in sys.stdlib_module_names and m != "deltastream"]
    assert foreign == []
