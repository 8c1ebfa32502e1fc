"""The layer contract, over the whole package, read from the source with `ast` (a lazy import
inside a function counts too; imports under `if TYPE_CHECKING:` do not, they cost nothing at run
time and cannot form a cycle). Generalises tests/sandbox/test_isolation.py.

- the core (every top-level module) never imports `cli`, `render`, the `client` or the sandbox:
  it talks to the API through `protocol.Api`;
- `render` never imports the engine, the client, the CLI or the sandbox;
- the client imports only `errors`, `protocol`, `escape`, the package version and itself;
- CLI modules share code only through `cli/common.py` (and `cli/__init__.py` loads them by name);
- the sandbox imports nothing from the rest (a fake that shares the code under test shares its
  bugs);
- no module is longer than 400 lines.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import reconciler

PACKAGE = Path(reconciler.__file__).parent
MAX_LINES = 400


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = ["reconciler", *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(tree: ast.AST) -> set[int]:
    """Line numbers of the statements inside `if TYPE_CHECKING:` blocks."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                for inner in ast.walk(child):
                    if hasattr(inner, "lineno"):
                        lines.add(inner.lineno)
    return lines


def imports(path: Path, name: str) -> Iterator[str]:
    """Every `reconciler...` module `path` imports at run time, resolved to absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skip = _type_checking_only(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            yield module
            # `from reconciler import render` imports the submodule `reconciler.render`.
            yield from (f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and getattr(node.func, "id", getattr(node.func, "attr", ""))
            in ("__import__", "import_module")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            yield str(node.args[0].value)


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def violations(root: Path = PACKAGE) -> list[str]:
    """Every import that breaks the contract, as `importer -> imported (rule)`."""
    files = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    known = set(files)
    found: list[str] = []
    for name, path in files.items():
        for imported in set(imports(path, name)):
            if not _within(imported, "reconciler") or imported not in known:
                continue  # third-party, or `from module import function`
            rule = _broken_rule(name, imported)
            if rule:
                found.append(f"{name} -> {imported} ({rule})")
    return sorted(found)


def _broken_rule(name: str, imported: str) -> str | None:
    layer = _layer(name)
    target = _layer(imported)
    if layer == "sandbox":
        return None if target == "sandbox" else "the sandbox imports nothing from the core"
    if target == "sandbox" and layer != "cli":
        return "only the CLI starts the sandbox"
    if layer == "core":
        if name == "reconciler.__main__":
            return None if imported == "reconciler.cli" else "__main__ only starts the CLI"
        if target in ("cli", "render", "client"):
            return f"the core never imports {target} (the API: through protocol.Api)"
    if layer == "render" and (target in ("cli", "client") or imported == "reconciler.engine"):
        return "render never imports the engine, the client or the CLI"
    if (
        layer == "client"
        and target not in ("client",)
        and imported
        not in (
            "reconciler",
            "reconciler.errors",
            "reconciler.protocol",
            "reconciler.escape",
        )
    ):
        return "the client imports only errors, protocol, escape and itself"
    if (
        layer == "cli"
        and target == "cli"
        and name != "reconciler.cli"  # the entry point loads each command by name
        and imported != "reconciler.cli.common"
    ):
        return "CLI modules share code only through cli/common.py"
    return None


def _layer(module: str) -> str:
    for layer in ("sandbox", "cli", "render", "client"):
        if _within(module, f"reconciler.{layer}"):
            return layer
    return "core"


def test_the_package_keeps_its_layers() -> None:
    assert violations() == []


def _package_with(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "reconciler"
    for sub in ("", "cli", "render", "client", "sandbox"):
        (root / sub).mkdir(parents=True, exist_ok=True)
        (root / sub / "__init__.py").write_text("")
    for rel, text in files.items():
        (root / rel).write_text(text)
    return root


BASE = {
    "fields.py": "import json\n",
    "plan.py": "from reconciler.fields import x\n",
    "engine.py": "from reconciler.plan import x\nfrom reconciler.protocol import Api\n",
    "protocol.py": "",
    "render/text.py": "from reconciler.plan import Plan\nfrom reconciler.render import cell\n",
    "client/api.py": "from reconciler.errors import x\nfrom reconciler import protocol\n",
    "errors.py": "",
    "cli/common.py": "from reconciler.engine import run\n",
    "cli/plan.py": "from reconciler.cli.common import x\nfrom reconciler.render import text\n",
    "sandbox/app.py": "from reconciler.sandbox import store\n",
    "sandbox/store.py": "",
}


def test_a_well_layered_package_passes(tmp_path: Path) -> None:
    assert violations(_package_with(tmp_path, BASE)) == []


@pytest.mark.parametrize(
    ("rel", "line", "expected"),
    [
        # The arrow the issue found: the core (apply) importing a view.
        ("apply.py", "from reconciler.render import format_value\n", "apply -> reconciler.render"),
        ("engine.py", "def f():\n    import reconciler.cli.common\n", "engine -> reconciler.cli"),
        ("engine.py", "from reconciler.client import api\n", "engine -> reconciler.client"),
        ("render/text.py", "from reconciler import engine\n", "text -> reconciler.engine"),
        ("client/api.py", "from reconciler.plan import Plan\n", "api -> reconciler.plan"),
        ("cli/plan.py", "from reconciler.cli.apply import x\n", "plan -> reconciler.cli.apply"),
        ("cli/plan.py", "from reconciler.cli import x\n", "plan -> reconciler.cli ("),
        ("sandbox/app.py", "from reconciler.fields import x\n", "app -> reconciler.fields"),
        ("sandbox/app.py", "from .. import fields\n", "app -> reconciler.fields"),
        ("fields.py", "from reconciler.sandbox import store\n", "fields -> reconciler.sandbox"),
    ],
)
def test_an_arrow_added_the_wrong_way_fails(
    tmp_path: Path, rel: str, line: str, expected: str
) -> None:
    files = dict(BASE)
    files["apply.py"] = ""
    files["cli/apply.py"] = ""
    files[rel] = files.get(rel, "") + line
    found = violations(_package_with(tmp_path, files))
    assert found, "the contract let a wrong arrow through"
    assert any(expected in f for f in found), found


def test_type_checking_imports_do_not_count(tmp_path: Path) -> None:
    files = dict(BASE)
    files["engine.py"] += (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from reconciler.client import x\n"
    )
    assert violations(_package_with(tmp_path, files)) == []


def line_counts(root: Path = PACKAGE) -> dict[str, int]:
    return {
        str(p.relative_to(root)): len(p.read_text(encoding="utf-8").splitlines())
        for p in sorted(root.rglob("*.py"))
    }


def test_no_module_is_longer_than_400_lines() -> None:
    too_long = {name: n for name, n in line_counts().items() if n > MAX_LINES}
    assert too_long == {}, "split these along a seam that already exists"


def test_the_line_check_would_catch_a_long_module(tmp_path: Path) -> None:
    root = _package_with(tmp_path, {"big.py": "x = 1\n" * (MAX_LINES + 1)})
    assert {n for n, c in line_counts(root).items() if c > MAX_LINES} == {"big.py"}
