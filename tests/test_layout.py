"""The layout holds: no import cycle between project modules, and no import hidden inside a function.

Read from the source with `ast`, so an import inside a function counts as much as one at the top:
a cycle hidden that way still ties two modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PACKAGES = ("bot", "handlers", "store", "web", "fakes", "bench")
"""Project packages whose modules may not import each other in a cycle (tests/ and scripts/ sit outside)."""
MODULES = ("app.py", "worker.py")
"""Top-level project modules."""
NO_LOCAL_IMPORTS = ("bot", "handlers", "store", "web", "app.py", "worker.py")
"""Where an import inside a function needs a `# why:` comment (on its line, or above its block of imports)."""


def _sources(roots) -> dict[str, Path]:
    found = {}
    for root in roots:
        path = ROOT / root
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for file in files:
            if "migrations/versions" in file.as_posix():
                continue
            name = ".".join(file.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = file
    return found


def _imports(name: str, file: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` imports, anywhere in the file."""
    package = name if file.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    resolved = set()
    for target in targets:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        # A package's own __init__ is imported by everything inside it: not a dependency of its own.
        if target and target != name and not name.startswith(target + "."):
            resolved.add(target)
    return resolved


def import_cycles(modules: dict[str, Path]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    graph = {name: _imports(name, file, modules) for name, file in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return cycles


def unexplained_local_imports(modules: dict[str, Path], root: Path = ROOT) -> list[str]:
    """`file:line` of each import inside a function with no `# why:` comment on its line or above its block."""
    found = []
    for file in modules.values():
        lines = file.read_text(encoding="utf-8").splitlines()
        for function in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    here = lines[node.lineno - 1]
                    above = node.lineno - 2  # the comment may head a block of imports
                    while above >= 0 and lines[above].strip().startswith(("import ", "from ")):
                        above -= 1
                    explained = above >= 0 and lines[above].strip().startswith("# why:")
                    if "# why:" not in here and not explained:
                        found.append(f"{file.relative_to(root)}:{node.lineno}: {here.strip()}")
    return sorted(set(found))


def test_no_import_cycle_between_project_modules():
    assert import_cycles(_sources(PACKAGES + MODULES)) == []


def test_every_import_inside_a_function_says_why():
    assert unexplained_local_imports(_sources(NO_LOCAL_IMPORTS)) == []


def test_the_cycle_check_sees_imports_inside_functions(tmp_path):
    (tmp_path / "a.py").write_text("import b\n")
    (tmp_path / "b.py").write_text("def f():\n    import a\n")
    modules = {"a": tmp_path / "a.py", "b": tmp_path / "b.py"}
    assert import_cycles(modules) == [["a", "b"]]


def test_the_local_import_check_accepts_only_a_reason(tmp_path):
    file = tmp_path / "m.py"
    file.write_text(
        "def f():\n    import json\n\n"
        "def g():\n    # why: heavy, optional\n    import csv\n    import io\n\n"
        "def h():\n    import zlib  # why: heavy\n"
    )
    assert unexplained_local_imports({"m": file}, root=tmp_path) == ["m.py:2: import json"]
