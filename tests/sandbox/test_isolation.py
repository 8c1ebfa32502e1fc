"""Point 7 of the issue: the sandbox imports nothing from the reconciler outside its own package
(a fake that shares the code under test shares its bugs). Read from the source with `ast`, so a
lazy import inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import reconciler.sandbox

PACKAGE = Path(reconciler.sandbox.__file__).parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the package
                base = "reconciler.sandbox" if node.level == 1 else "reconciler"
                found.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                found.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and getattr(node.func, "id", getattr(node.func, "attr", ""))
            in ("__import__", "import_module")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value))
    return found


def test_the_sandbox_imports_only_itself_and_third_party_libraries() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 5
    offenders = {
        f"{path.relative_to(PACKAGE)}: {module}"
        for path in files
        for module in imported_modules(path)
        if (module == "reconciler" or module.startswith("reconciler."))
        and not (module == "reconciler.sandbox" or module.startswith("reconciler.sandbox."))
    }
    assert offenders == set()


def test_the_check_would_catch_a_core_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import json\nfrom reconciler import fields\nfrom reconciler.diff import diff\n"
        "def late():\n    import reconciler.plan\n"
        "from .. import errors\nimport importlib\nimportlib.import_module('reconciler.fields')\n"
    )
    modules = imported_modules(sample)
    assert {"reconciler", "reconciler.diff", "reconciler.plan", "reconciler.fields"} <= modules
