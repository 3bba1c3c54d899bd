"""The API side's modules import at the top, and no module imports a tasks module.

An import inside a function usually hides an import cycle; code sends work
through the enqueue modules by task name, so only Celery imports the tasks.
An import inside a function is accepted where its line says why (a heavy or
optional dependency loaded only when needed).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("enhancer", "operations", "config")
NOT_CHECKED = (ROOT / "enhancer" / "engine",)  # the engine has its own rules (docs/engine.md)


def _modules() -> list[Path]:
    return [
        path
        for folder in CHECKED
        for path in sorted((ROOT / folder).rglob("*.py"))
        if not any(path.is_relative_to(skipped) for skipped in NOT_CHECKED)
    ]


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]


def test_no_module_imports_inside_a_function_without_saying_why():
    hidden = []
    for path in _modules():
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in _imports(function):
                if "#" not in lines[node.lineno - 1]:
                    hidden.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert hidden == []


def test_only_celery_imports_the_tasks_modules():
    importers = []
    for path in _modules():
        for node in _imports(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [f"{node.module}.{alias.name}" for alias in node.names]
            )
            if any(name.endswith(".tasks") or ".tasks." in name for name in names):
                importers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert importers == []
