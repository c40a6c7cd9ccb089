"""deltastream.domain is pure: numpy, scipy and the standard library only, and no environment reads.

Both the source (every import statement, every ``os.environ``/``getenv``) and a fresh interpreter
(what importing every domain module actually loads) are checked.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import sysconfig
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


def test_importing_the_whole_domain_loads_nothing_but_numpy_scipy_and_the_stdlib() -> None:
    # Compiled helpers that numpy/scipy register under top-level names (Cython's runtime modules,
    # scipy's _cyutility) count as theirs: they have no file, or their file is inside those packages.
    names = [f"deltastream.domain.{p.stem}" for p in MODULES if p.stem != "__init__"]
    program = (
        "import json, sys, sysconfig\n"
        f"before = set(sys.modules)\nfor name in {names!r}: __import__(name)\n"
        "roots = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(json.dumps({m: getattr(sys.modules.get(m), '__file__', None) for m in roots}))"
    )
    run = subprocess.run([sys.executable, "-c", program], check=True, capture_output=True, text=True)
    loaded: dict[str, str | None] = json.loads(run.stdout)
    stdlib_dir = Path(sysconfig.get_paths()["stdlib"]).resolve()
    allowed_dirs = [
        stdlib_dir,
        *(Path(str(__import__(m).__file__)).parent.resolve() for m in ALLOWED_THIRD_PARTY),
    ]
    foreign = [
        name
        for name, file in loaded.items()
        if name not in sys.stdlib_module_names
        and name not in ALLOWED_THIRD_PARTY | {"deltastream"}
        and file is not None
        and not any(Path(file).resolve().is_relative_to(d) for d in allowed_dirs)
    ]
    assert {"numpy", "scipy"} <= loaded.keys()
    assert foreign == []
