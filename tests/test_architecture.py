"""The map in docs/architecture.md stays true: every file:function it names exists, no module
outside migrations and tests grows past about 400 lines, and no two modules import each other
(not even inside a function)."""

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("apportionment", "claims", "ledger", "members", "mutualaid", "notice", "pools", "reports")
MAX_LINES = 420


def project_modules() -> dict[str, Path]:
    modules = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    return modules


def imports_of(path: Path, modules: dict) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in modules:
                found.add(node.module)
            for alias in node.names:  # `from apportionment import engine` imports a module
                if f"{node.module}.{alias.name}" in modules:
                    found.add(f"{node.module}.{alias.name}")
    return found


def test_no_two_modules_import_each_other():
    modules = project_modules()
    graph = {name: imports_of(path, modules) - {name} for name, path in modules.items()}
    mutual = sorted(
        (a, b) for a, targets in graph.items() for b in targets if a < b and a in graph.get(b, ())
    )
    assert mutual == []


def test_no_module_outside_migrations_and_tests_is_long():
    long = {
        name: n
        for name, path in project_modules().items()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


REFERENCE = re.compile(r"`([a-z_/]+\.py):([A-Za-z_.]+)`")


def references():
    return REFERENCE.findall((ROOT / "docs" / "architecture.md").read_text())


def test_the_map_names_the_rules():
    assert len(references()) >= 40


@pytest.mark.parametrize("path,name", references())
def test_every_rule_is_where_the_map_says(path, name):
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    target = module
    for part in name.split("."):
        target = getattr(target, part)
    assert callable(target) or isinstance(target, dict | str)


@pytest.mark.django_db
def test_the_models_and_their_migrations_agree():
    """One leaf per app and no model change without its migration (two branches merged with
    a migration of the same number each would otherwise pass every other test)."""
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
