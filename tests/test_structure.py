"""The structure the code keeps: features in packages that reach each other only through
their __init__, services free of the web, no import cycles, and modules and functions
small enough to read. Each rule reads the source; none imports the app."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from tracker.config import PACKAGE_ROOT

FEATURES = ("accounts", "monitoring", "plans", "registry", "reminders", "reports")
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60
#: the OpenAPI document's schema table is one long literal, kept whole on purpose
LONG_FUNCTIONS_ALLOWED = {"tracker.views.api.openapi_schemas._schemas"}
#: what services may not take from Flask: the request and its user belong to the web
WEB_ONLY_NAMES = {"request", "g", "current_user", "abort", "redirect", "session"}
#: what runs a query on the session; a view leaves these to services
SESSION_READS = {"execute", "scalar", "scalars", "query"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts
    name = ".".join(parts)
    return name.removesuffix(".__init__")


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE_ROOT.rglob("*.py"))}


@cache
def _tree(name: str) -> ast.Module:
    return ast.parse(_modules()[name].read_text(), filename=str(_modules()[name]))


def _imports(name: str) -> list[tuple[str, str | None, int]]:
    """(module imported, name imported from it or None, line) for every import statement,
    at any depth: an import inside a function is a dependency too."""
    path = _modules()[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(_tree(name)):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([module] if module else [])])
            found += [(module, alias.name, node.lineno) for alias in node.names]
    return found


def _dependencies(name: str) -> set[str]:
    """The tracker modules a module imports. `from package import submodule` depends on
    the submodule; a parent package's own __init__ is not counted as a dependency."""
    modules = _modules()
    result = set()
    for module, imported, _line in _imports(name):
        target = (
            f"{module}.{imported}" if imported and f"{module}.{imported}" in modules else module
        )
        if target in modules and target != name:
            result.add(target)
    return result


def _cycles() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    graph = {name: _dependencies(name) for name in _modules()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for neighbour in graph[node]:
            if neighbour not in index:
                visit(neighbour)
                low[node] = min(low[node], low[neighbour])
            elif neighbour in on_stack:
                low[node] = min(low[node], index[neighbour])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for name in graph:
        if name not in index:
            visit(name)
    return groups


#: modules of tracker/forms and tracker/commands that belong to a feature by another name
FEATURE_ALIASES = {"scorecard": "plans"}


def _feature_of(name: str) -> str | None:
    """The feature a module belongs to: services/<f>/, views/<f>/ (views/api/ is "api"),
    forms/<f>.py or commands/<f>.py."""
    parts = name.split(".")
    if len(parts) < 3:
        return None
    if parts[1] == "views" and parts[2] == "api":
        return "api"
    feature = FEATURE_ALIASES.get(parts[2], parts[2])
    if parts[1] in ("services", "views", "forms", "commands") and feature in FEATURES:
        return feature
    return None


def test_no_import_cycle():
    assert _cycles() == []


def test_services_do_not_use_the_request():
    found = []
    for name in _modules():
        if not name.startswith("tracker.services"):
            continue
        for module, imported, line in _imports(name):
            if module in ("flask", "flask_login") and imported in WEB_ONLY_NAMES:
                found.append(f"{name}:{line} imports {module}.{imported}")
            if module.startswith("tracker.views") or (
                module.startswith("tracker.web") and module != "tracker.web.links"
            ):
                found.append(f"{name}:{line} imports {module}")
    assert found == []


def test_views_ask_services_and_build_no_queries():
    """A view loads its object (web.permissions.get_or_404) and leaves every query to a
    service: no statement is built, and no session is read, in tracker/views/."""
    found = []
    for name in _modules():
        if not name.startswith("tracker.views"):
            continue
        for module, _imported, line in _imports(name):
            if module.split(".")[0] == "sqlalchemy":
                found.append(f"{name}:{line} imports {module}")
        for node in ast.walk(_tree(name)):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in SESSION_READS
                and ast.unparse(node.value) == "db.session"
            ):
                found.append(f"{name}:{node.lineno} calls db.session.{node.attr}")
    assert found == []


def test_no_view_imports_another_features_view():
    found = []
    for name in _modules():
        if not name.startswith("tracker.views."):
            continue
        for module, imported, line in _imports(name):
            target = (
                f"{module}.{imported}"
                if imported and f"{module}.{imported}" in _modules()
                else module
            )
            if (
                target.startswith("tracker.views.")
                and target in _modules()
                and _feature_of(target) != _feature_of(name)
            ):
                found.append(f"{name}:{line} imports {target}")
    assert found == []


def test_features_reach_each_other_only_through_their_package():
    found = []
    for name in _modules():
        mine = _feature_of(name)
        for module, imported, line in _imports(name):
            parts = module.split(".")
            if len(parts) < 4 or parts[:2] != ["tracker", "services"] or parts[2] not in FEATURES:
                continue
            if parts[2] != mine:
                found.append(f"{name}:{line} reaches into {module}.{imported}")
    assert found == []


def test_feature_packages_export_what_they_import():
    """Each name a feature package offers is listed in its __all__."""
    for feature in FEATURES:
        name = f"tracker.services.{feature}"
        exported = {
            alias.asname or alias.name
            for node in _tree(name).body
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        declared = set()
        for node in _tree(name).body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
            ):
                declared = set(ast.literal_eval(node.value))
        assert declared == exported, feature


@pytest.mark.parametrize("limit", [MAX_MODULE_LINES])
def test_no_module_is_too_long(limit):
    long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text().splitlines())) > limit
    }
    assert long == {}


def test_no_function_is_too_long():
    long = {}
    for name in _modules():
        for node in ast.walk(_tree(name)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                qualified = f"{name}.{node.name}"
                if length > MAX_FUNCTION_LINES and qualified not in LONG_FUNCTIONS_ALLOWED:
                    long[qualified] = length
    assert long == {}


def test_the_walker_sees_a_cycle_through_a_function_level_import(tmp_path, monkeypatch):
    """The cycle check itself: two modules that import each other, one of them inside a
    function, are a cycle."""
    package = tmp_path / "tracker"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from tracker import b\n")
    (package / "b.py").write_text("def f():\n    from tracker.a import x\n")
    monkeypatch.setattr(f"{__name__}.PACKAGE_ROOT", package)
    for cached in (_modules, _tree):
        cached.cache_clear()
    try:
        assert _cycles() == [["tracker.a", "tracker.b"]]
    finally:
        for cached in (_modules, _tree):
            cached.cache_clear()
