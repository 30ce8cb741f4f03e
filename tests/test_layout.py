"""The package's shape holds: no import loops, the sandbox entered only by its door and
standing on nothing above it, the analysis reading rows without importing the engine that
writes them and in layers that import one way, no module taking another module's private
names, and few modules loose at the top.

Every import counts, wherever it stands: at the top, inside a function (a lazy import is still
a dependency) or under ``TYPE_CHECKING`` (so is a type).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "koderz"

# What the analysis must not import: what runs models and judges code.
NOT_FOR_ANALYSIS = ("koderz.engine", "koderz.problems", "koderz.sandbox")
NOT_FOR_ANALYSIS_MODULES = {"koderz", "koderz.cli", "koderz.extract", "koderz.testing"}
# What the sandbox must not import: the parts that stand on it (`koderz evaluate`, which
# reads problems and reports pass@k, lives in koderz/evaluate/ for this reason).
ABOVE_THE_SANDBOX = ("koderz.problems", "koderz.analysis", "koderz.engine")
MAX_LOOSE_MODULES = 10

ANALYSIS = "koderz.analysis"
# The analysis' layers (the first name after koderz.analysis) and the layers below each that
# it may import; a module may always import its own layer. The numbers, then the words (no
# matplotlib), the figures, the reports; analyze() and its record sit on the numbers and the
# words (an analysis draws nothing); the demo rows sit below them all. "" is the package's
# __init__, which reads ANALYSIS_COLUMNS from the numbers on first use.
ANALYSIS_LAYERS: dict[str, set[str]] = {
    "demo": set(),
    "stats": set(),
    "text": {"stats", "demo"},
    "figures": {"stats", "text"},
    "report": {"stats", "text", "figures"},
    "analyze": {"stats", "text"},
    "": {"stats"},
}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules(root: Path) -> dict[str, Path]:
    return {_module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the package's modules it imports, by its source."""
    modules = _modules(root)
    top = root.name
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")
                    anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.add(sub if sub in modules else base)
        graph[name] = {t for t in targets if t in modules and t != name and t.split(".")[0] == top}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def test_no_import_loops() -> None:
    cycles = import_cycles(import_graph())
    assert cycles == [], "import loops: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_sandbox_is_entered_by_its_door() -> None:
    bad = [
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        if not module.startswith("koderz.sandbox")
        for target in targets
        if target.startswith("koderz.sandbox.")
    ]
    assert bad == []


def test_sandbox_imports_nothing_that_stands_on_it() -> None:
    bad = [
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        if module == "koderz.sandbox" or module.startswith("koderz.sandbox.")
        for target in targets
        if any(target == p or target.startswith(p + ".") for p in ABOVE_THE_SANDBOX)
    ]
    assert bad == []


def test_analysis_imports_nothing_of_the_engine() -> None:
    bad = [
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        if module.startswith("koderz.analysis")
        for target in targets
        if target in NOT_FOR_ANALYSIS_MODULES
        or any(target == p or target.startswith(p + ".") for p in NOT_FOR_ANALYSIS)
    ]
    assert bad == []


def layer_violations(
    graph: dict[str, set[str]],
    layers: dict[str, set[str]] = ANALYSIS_LAYERS,
    package: str = ANALYSIS,
) -> list[str]:
    """The imports of ``package``'s modules that go up or sideways between its layers, and
    its modules that are in no layer."""

    def layer(module: str) -> str | None:
        if module == package:
            return ""
        if not module.startswith(package + "."):
            return None
        return module.removeprefix(package + ".").split(".")[0]

    bad = []
    for module, targets in sorted(graph.items()):
        mine = layer(module)
        if mine is None:
            continue
        if mine not in layers:
            bad.append(f"{module} is in no layer of {package}")
            continue
        for target in sorted(targets):
            theirs = layer(target)
            if theirs is not None and theirs != mine and theirs not in layers[mine]:
                bad.append(f"{module} imports {target} ({theirs or package} is not below it)")
    return bad


def test_the_analysis_imports_one_way_through_its_layers() -> None:
    assert layer_violations(import_graph()) == []


@pytest.mark.parametrize(
    ("files", "found"),
    [
        # the numbers importing the words: the very thing the layers forbid
        (
            {"stats/m.py": "from pkg.analysis.text.t import f\n", "text/t.py": ""},
            ["pkg.analysis.stats.m imports pkg.analysis.text.t (text is not below it)"],
        ),
        # a lazy import inside a function counts, and so does one of a layer's package
        (
            {"analyze.py": "def f():\n    from pkg.analysis import figures\n", "figures/p.py": ""},
            ["pkg.analysis.analyze imports pkg.analysis.figures (figures is not below it)"],
        ),
        # down, and within one layer: fine
        (
            {"text/t.py": "from pkg.analysis.stats import m\nfrom . import u\n", "stats/m.py": ""},
            [],
        ),
        # a module beside the layers belongs to none
        ({"extra.py": ""}, ["pkg.analysis.extra is in no layer of pkg.analysis"]),
    ],
)
def test_the_layer_checker_sees_violations(
    tmp_path: Path, files: dict[str, str], found: list[str]
) -> None:
    analysis = tmp_path / "pkg" / "analysis"
    for name, source in files.items():
        path = analysis / name
        for folder in reversed(path.relative_to(tmp_path).parents[:-1]):  # each a package
            (tmp_path / folder).mkdir(exist_ok=True)
            (tmp_path / folder / "__init__.py").touch()
        path.write_text(source)
    graph = import_graph(tmp_path / "pkg")
    assert layer_violations(graph, package="pkg.analysis") == found


@pytest.mark.parametrize(
    ("module", "heavy"),
    [
        # `koderz evaluate` computes pass@k with neither pandas nor matplotlib
        ("koderz.analysis.stats.estimators", ("pandas", "matplotlib")),
        # `koderz analyze` prints its text, JSON and tables without matplotlib
        ("koderz.analysis.analyze", ("matplotlib",)),
        ("koderz.analysis.text.tables", ("matplotlib",)),
    ],
)
def test_the_light_layers_stay_light(module: str, heavy: tuple[str, ...]) -> None:
    code = f"import sys, {module}\nprint(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def private_imports(root: Path = PACKAGE) -> list[str]:
    """``from X import _name`` of the package's own modules, other than a module's own."""
    modules = _modules(root)
    found = []
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != root.name:
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{name} imports {base}.{alias.name}")
    return found


def test_no_module_imports_another_modules_private_names() -> None:
    assert private_imports() == []


MAX_LINES = 900


def test_no_module_is_longer_than_a_reader_can_hold() -> None:
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these (over {MAX_LINES} lines): {long}"


def test_few_modules_are_loose_at_the_top() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(loose) <= MAX_LOOSE_MODULES, f"{len(loose)} modules at the top: {loose}"


def test_the_private_import_checker_sees_them(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "a.py").write_text("from pkg.b import _hidden, shown\nfrom . import _x\n")
    (root / "b.py").write_text("from __future__ import annotations\nfrom os import _exit\n")
    assert private_imports(root) == ["pkg.a imports pkg.b._hidden", "pkg.a imports pkg._x"]


@pytest.mark.parametrize(
    ("files", "cycle"),
    [
        # a lazy import inside a function is still an edge
        ({"a.py": "import pkg.b\n", "b.py": "def f():\n    from pkg import a\n"}, True),
        # so is a TYPE_CHECKING import
        ({"a.py": "from pkg.b import X\n", "b.py": "if False:\n    from pkg.a import Y\n"}, True),
        # a package and the modules it re-exports: no loop unless one imports the package back
        ({"__init__.py": "from pkg.a import f\n", "a.py": "from pkg.b import g\n"}, False),
        ({"__init__.py": "from pkg.a import f\n", "a.py": "from pkg import g\n"}, True),
        # relative imports are resolved
        ({"a.py": "from . import b\n", "b.py": "from .a import f\n"}, True),
    ],
)
def test_the_checker_sees_loops(tmp_path: Path, files: dict[str, str], cycle: bool) -> None:
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "__init__.py").write_text("")
    for name, source in files.items():
        (root / name).write_text(source)
    assert bool(import_cycles(import_graph(root))) is cycle


def test_the_wheel_lists_every_package_and_the_notebooks() -> None:
    import tomllib

    project = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {
        ".".join(p.parent.relative_to(PACKAGE.parent).parts) for p in PACKAGE.rglob("__init__.py")
    }
    assert set(project["packages"]) == folders | {"koderz.notebooks"}
    # One copy of the notebooks: the top-level folder, mapped into the package at build time.
    assert project["package-dir"] == {"koderz.notebooks": "notebooks"}
    assert sorted(p.name for p in (PACKAGE.parent / "notebooks").iterdir() if p.is_file()) == [
        "explore.ipynb",
        "tier_comparison.ipynb",
    ]
