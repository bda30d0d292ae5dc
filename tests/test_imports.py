"""The package's import graph, read from the source: no cycles between modules or between stage
packages, the product path apart from the benchmark and the synthetic data, and the modules that must
stay light.

Imports inside functions count as much as those at the top of a module: a
function-level import that closes a cycle only hides it.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "workflow" / "xner"
# Tooling that no pipeline stage uses: the benchmark against the HF Trainer, and the synthetic
# demo data and random encoders. Only the command line's own groups for them may import them.
APART = ("bench", "synthetic")
ENTRY_POINTS = ("cli.bench", "cli.synthetic", "cli.main")


def module_names(package: Path) -> set[str]:
    """Every module of the package, dotted from it (``data.splits``; a package's ``__init__`` is ``data``)."""
    names = set()
    for path in package.rglob("*.py"):
        parts = path.relative_to(package).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and parts[-1] != "__main__":
            names.add(".".join(parts))
    return names


def source_of(package: Path, name: str) -> Path:
    path = package.joinpath(*name.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module name -> the package's modules it imports (anywhere in its source)."""
    modules = module_names(package)
    graph: dict[str, set[str]] = {}
    for name in modules:
        imported = set()
        for node in ast.walk(ast.parse(source_of(package, name).read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                parts = node.module.split(".")
                if parts[0] != "xner":
                    continue
                base = ".".join(parts[1:])
                if base:
                    imported.add(base)
                for alias in node.names:  # from xner.evaluation import inference
                    imported.add(f"{base}.{alias.name}" if base else alias.name)
            elif isinstance(node, ast.Import):
                imported |= {a.name.removeprefix("xner.") for a in node.names if a.name.startswith("xner.")}
        graph[name] = imported & modules - {name}
    return graph


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The stage packages' graph: ``data.splits`` -> ``models.card`` is ``data`` -> ``models``; the
    modules at the top (shared ground) and the command line are left out."""
    stages = {name.split(".")[0] for name in graph if "." in name} - {"cli"}
    result: dict[str, set[str]] = {stage: set() for stage in stages}
    for name, imported in graph.items():
        stage = name.split(".")[0]
        if stage in stages:
            result[stage] |= {m.split(".")[0] for m in imported if m.split(".")[0] in stages} - {stage}
    return result


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_package_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_stage_packages_import_each_other_without_a_cycle():
    cycle = find_cycle(package_graph(import_graph()))
    assert cycle is None, "stage packages in a cycle: " + " -> ".join(cycle)


def test_the_product_path_imports_neither_the_benchmark_nor_the_synthetic_data():
    graph = import_graph()
    offenders = {
        f"{name} -> {imported}"
        for name, targets in graph.items()
        if name.split(".")[0] not in APART and name not in ENTRY_POINTS
        for imported in targets
        if imported.split(".")[0] in APART
    }
    assert not offenders, sorted(offenders)


def test_every_stage_is_a_folder_and_no_module_is_over_600_lines():
    stages = {
        "data",
        "models",
        "training",
        "evaluation",
        "reporting",
        "prediction",
        "bench",
        "synthetic",
        "cli",
    }
    assert stages <= {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 600
    }
    assert not long, long


def test_the_graph_reader_finds_cycles_through_function_level_imports(tmp_path):
    (tmp_path / "a.py").write_text("from xner.b import f\n")
    (tmp_path / "b.py").write_text("def f():\n    from xner.c import g\n")
    (tmp_path / "c.py").write_text("import xner.a\n")
    (tmp_path / "d.py").write_text("from xner import a, b\n")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "__init__.py").write_text("")
    (tmp_path / "p" / "q.py").write_text("from xner.p import r\n")
    (tmp_path / "p" / "r.py").write_text("from xner.d import x\n")
    graph = import_graph(tmp_path)
    assert graph == {
        "a": {"b"},
        "b": {"c"},
        "c": {"a"},
        "d": {"a", "b"},
        "p": set(),
        "p.q": {"p", "p.r"},
        "p.r": {"d"},
    }
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    assert package_graph(graph) == {"p": set()}


def test_device_imports_nothing_else_of_the_package():
    assert import_graph()["device"] == set()


def test_the_shared_ground_imports_no_stage_package():
    """The modules at the top (io, device, labels, errors, config, runs, ...) are what every stage stands on."""
    graph = import_graph()
    shared = {
        name for name in graph if "." not in name and name not in package_graph(graph) and name != "cli"
    }
    assert {"io", "device", "labels", "errors", "config", "runs"} <= shared
    upward = {
        f"{name} -> {m}" for name in shared for m in graph[name] if "." in m or m in package_graph(graph)
    }
    assert not upward, sorted(upward)


def test_every_import_of_the_package_names_what_exists():
    """Imports inside functions run only when the function does: a name moved away breaks them late.
    Each ``from xner.X import a`` must find ``a`` in ``xner.X`` (a module or a name defined there)."""
    import importlib

    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("xner"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if not hasattr(module, alias.name):
                        try:
                            importlib.import_module(f"{node.module}.{alias.name}")
                        except ModuleNotFoundError:
                            problems.append(
                                f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.module}.{alias.name}"
                            )
    assert not problems, problems
