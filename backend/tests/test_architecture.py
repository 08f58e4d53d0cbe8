"""The architecture rules that a linter can check: no private imports from other packages."""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_imports(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] != "app" and any(_private(part) for part in parts):
                found.append((node.lineno, module))
    return found


def test_no_private_imports_from_libraries() -> None:
    offenders = [
        f"{path.relative_to(APP.parent)}:{line}: {module}"
        for path in sorted(APP.rglob("*.py"))
        for line, module in _private_imports(ast.parse(path.read_text(), str(path)))
    ]
    assert offenders == [], "private imports from third-party packages:\n" + "\n".join(offenders)


def test_the_check_finds_a_private_import() -> None:
    tree = ast.parse(
        "from langfuse._client.resource_manager import X\n"
        "import pkg._internal\n"
        "from pkg import _helper\n"
        "from app.core import _ours\n"
        "from __future__ import annotations\n"
    )
    assert [module for _, module in _private_imports(tree)] == [
        "langfuse._client.resource_manager",
        "langfuse._client.resource_manager.X",
        "pkg._internal",
        "pkg._helper",
    ]
