"""The import structure: what may import what.

- The API side's and the dashboard's modules import at the top, and no module
  imports a tasks module. An import inside a function usually hides an import
  cycle; code sends work through the enqueue modules by task name, so only
  Celery imports the tasks. An import inside a function is accepted where its
  line says why (a heavy or optional dependency loaded only when needed).
- The dashboard talks to the API over HTTP only: nothing in it imports
  `enhancer`, except the demo's bootstrap command, which creates the API's
  application for the dashboard's team in the same database.
- The engine is plain Python: it imports neither Django nor the rest of the
  project (docs/engine.md).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("enhancer", "operations", "config", "dashboard")
ENGINE = ROOT / "enhancer" / "engine"
NOT_CHECKED = (ENGINE,)  # the engine has its own rules, below
MAY_IMPORT_THE_API = (ROOT / "dashboard" / "management" / "commands" / "bootstrap_demo.py",)
PROJECT_PACKAGES = sorted(path.parent.name for path in ROOT.glob("*/__init__.py"))


def python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def checked_modules() -> list[Path]:
    return [
        path
        for folder in CHECKED
        for path in python_files(ROOT / folder)
        if not any(path.is_relative_to(skipped) for skipped in NOT_CHECKED)
    ]


def imports_in(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]


def imported_names(path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The absolute dotted names an import statement of `path` brings in."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    module = node.module or ""
    if node.level:
        package = path.relative_to(ROOT).with_suffix("").parts[: -node.level]
        module = ".".join([*package, module] if module else package)
    return [f"{module}.{alias.name}" for alias in node.names]


def importers_of(paths: list[Path], forbidden) -> list[str]:
    """`path:line` of every import in `paths` of a name for which `forbidden` is true."""
    found = []
    for path in paths:
        for node in imports_in(ast.parse(path.read_text())):
            if any(forbidden(name) for name in imported_names(path, node)):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def test_no_module_imports_inside_a_function_without_saying_why():
    hidden = []
    for path in checked_modules():
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in imports_in(function):
                if "#" not in lines[node.lineno - 1]:
                    hidden.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert hidden == []


def test_only_celery_imports_the_tasks_modules():
    def a_tasks_module(name: str) -> bool:
        return name.endswith(".tasks") or ".tasks." in name

    assert importers_of(checked_modules(), a_tasks_module) == []


def test_the_dashboard_imports_nothing_of_the_api():
    dashboard = [
        path for path in python_files(ROOT / "dashboard") if path not in MAY_IMPORT_THE_API
    ]

    assert importers_of(dashboard, lambda name: within(name, "enhancer")) == []


def test_the_engine_imports_neither_django_nor_the_rest_of_the_project():
    def outside_the_engine(name: str) -> bool:
        if within(name, "enhancer.engine"):
            return False
        return within(name, "django") or any(within(name, p) for p in PROJECT_PACKAGES)

    assert importers_of(python_files(ENGINE), outside_the_engine) == []
