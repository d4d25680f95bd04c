"""The import graph of sphinxamp/, read from the source (AST), against docs/architecture.md:
no cycle between modules, no import hidden in a function or an `if TYPE_CHECKING:` block,
every arrow allowed by the page's layer table, files and processes touched only where the
page says, and every package and top-level module named on the page.

`from a import b` where `a.b` is a module counts as an arrow to `a.b`, not to the package
`a`. Each checker is also run on a small made-up graph or source that breaks its rule."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "sphinxamp"
PAGE = ROOT / "docs" / "architecture.md"
EVERYTHING_BELOW = "everything below"
IO_IMPORTS = frozenset({"sqlite3", "subprocess", "multiprocessing", "shutil", "tempfile"})
IO_METHODS = frozenset({"read_text", "read_bytes", "write_text", "write_bytes", "open",
                        "iterdir", "mkdir", "unlink", "touch", "is_file"})


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    hidden: str | None  # "function" or "TYPE_CHECKING" when the import is not at module level


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _targets(node: ast.Import | ast.ImportFrom, name: str, is_pkg: bool,
             modules: Mapping[str, object]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = name.split(".")[: len(name.split(".")) - (0 if is_pkg else 1)]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join([*parts, *([node.module] if node.module else [])])
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]


class _Imports(ast.NodeVisitor):
    def __init__(self) -> None:
        self.found: list[tuple[ast.Import | ast.ImportFrom, str | None]] = []
        self._where: list[str] = []

    def _inside(self, node: ast.AST, where: str) -> None:
        self._where.append(where)
        self.generic_visit(node)
        self._where.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._inside(node, "function")

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._inside(node, "function")

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._inside(node, "function")

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" in ast.unparse(node.test):
            self._inside(node, "TYPE_CHECKING")
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.append((node, self._where[-1] if self._where else None))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.found.append((node, self._where[-1] if self._where else None))


def import_edges(sources: Mapping[str, tuple[str, bool]], prefix: str) -> list[Edge]:
    """Arrows between the modules of `sources` (name: (source text, is a package))."""
    edges = []
    for name, (text, is_pkg) in sources.items():
        visitor = _Imports()
        visitor.visit(ast.parse(text))
        for node, hidden in visitor.found:
            for target in _targets(node, name, is_pkg, sources):
                if target.split(".")[0] == prefix and target != name:
                    edges.append(Edge(name, target, node.lineno, hidden))
    return edges


def read_package(root: Path = PKG) -> dict[str, tuple[str, bool]]:
    return {module_name(p, root.parent): (p.read_text(encoding="utf-8"), p.name == "__init__.py")
            for p in sorted(root.rglob("*.py"))}


def find_cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module, or with a loop."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
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
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def unit(module: str) -> str:
    """The layer table's name for a module: its package or module directly under sphinxamp/."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def parse_layers(page: str) -> dict[str, tuple[int, frozenset[str]]]:
    """The page's layer table: package -> (layer, packages it may import)."""
    rows = re.findall(r"^\| (\d+) \| `([\w.]+)` \| (.+?) \|$", page, re.M)
    layers = {name: int(layer) for layer, name, _ in rows}
    assert len(layers) == len(rows), "a package listed twice in the layer table"
    table = {}
    for layer, name, allowed in rows:
        names = set(re.findall(r"`([\w.]+)`", allowed))
        if EVERYTHING_BELOW in allowed:
            names |= {n for n, lay in layers.items() if lay < int(layer)}
        table[name] = (int(layer), frozenset(names))
    return table


def table_problems(table: Mapping[str, tuple[int, frozenset[str]]]) -> list[str]:
    """A table that itself points up, at a stranger, or both ways inside one layer."""
    problems = []
    for name, (layer, allowed) in table.items():
        for other in allowed:
            if other not in table:
                problems.append(f"{name} may import {other}, which the table does not list")
            elif table[other][0] > layer:
                problems.append(f"{name} (layer {layer}) may import {other} above it")
            elif name in table[other][1]:
                problems.append(f"{name} and {other} may import each other")
    return problems


def layer_violations(edges: list[Edge], table: Mapping[str, tuple[int, frozenset[str]]]
                     ) -> list[str]:
    bad = []
    for e in edges:
        src, dst = unit(e.source), unit(e.target)
        if src == dst:
            continue
        if src not in table or dst not in table:
            bad.append(f"{e.source} -> {e.target}: not in the layer table")
        elif dst not in table[src][1]:
            bad.append(f"{e.source}:{e.line} -> {e.target}: {src} may not import {dst}")
    return bad


def io_uses(text: str) -> list[str]:
    """Where a module touches files or processes: imports of sqlite3, subprocess, ...;
    calls of open(); calls of Path-style file methods (read_text, write_bytes, open, ...)."""
    uses = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            uses += [f"import {a.name}" for a in node.names
                     if a.name.split(".")[0] in IO_IMPORTS]
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] in IO_IMPORTS and not node.level:
                uses.append(f"from {node.module} import")
        elif isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id == "open":
                uses.append(f"open() at line {node.lineno}")
            elif isinstance(f, ast.Attribute) and f.attr in IO_METHODS:
                uses.append(f".{f.attr}() at line {node.lineno}")
    return uses


def io_allowed(page: str) -> list[str]:
    """The paths listed under "Files and processes" (a trailing / is a whole folder)."""
    start = page.index("## Files and processes")
    end = page.index("\n## ", start + 1)
    return re.findall(r"^- `(sphinxamp/[\w./]+)`", page[start:end], re.M)


def may_touch_io(path: str, allowed: list[str]) -> bool:
    return any(path == a or (a.endswith("/") and path.startswith(a)) for a in allowed)


# --- the package against the page ----------------------------------------------------------

PAGE_TEXT = PAGE.read_text(encoding="utf-8")
SOURCES = read_package()
EDGES = import_edges(SOURCES, "sphinxamp")
TABLE = parse_layers(PAGE_TEXT)


def _graph(edges: list[Edge]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.source, set()).add(e.target)
    return graph


def test_no_cycle_between_modules() -> None:
    assert find_cycles(_graph(EDGES)) == []


def test_no_import_hidden_in_a_function_or_type_checking() -> None:
    hidden = [f"{e.source}:{e.line} imports {e.target} ({e.hidden})" for e in EDGES if e.hidden]
    assert hidden == []


def test_the_layer_table_is_well_formed() -> None:
    assert len(TABLE) >= 20
    assert table_problems(TABLE) == []


def test_every_arrow_respects_the_layer_table() -> None:
    assert layer_violations(EDGES, TABLE) == []


def test_the_kit_does_not_import_its_vector_checks() -> None:
    """conformance/vectors/ imports the kit; only the kit's __init__ imports it back."""
    back = [f"{e.source} -> {e.target}" for e in EDGES
            if e.target.startswith("sphinxamp.conformance.vectors")
            and not e.source.startswith("sphinxamp.conformance.vectors")
            and e.source != "sphinxamp.conformance" and unit(e.source) == "conformance"]
    assert back == []


def test_only_the_listed_modules_touch_files_or_processes() -> None:
    allowed = io_allowed(PAGE_TEXT)
    assert "sphinxamp/_sqlite.py" in allowed and "sphinxamp/cli/" in allowed
    for path in allowed:
        assert (ROOT / path).exists(), f"{path} is listed but does not exist"
    bad = {}
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(ROOT).as_posix()
        uses = io_uses(p.read_text(encoding="utf-8"))
        if uses and not may_touch_io(rel, allowed):
            bad[rel] = uses
    assert bad == {}


def _top_level() -> set[str]:
    return {p.stem if p.is_file() else p.name for p in PKG.iterdir()
            if (p.suffix == ".py" and p.stem != "__init__")
            or (p.is_dir() and (p / "__init__.py").is_file())} | {"sphinxamp"}


def tree_names(page: str) -> set[str]:
    """The names the page's "Where each concept lives" tree gives a line of its own."""
    start = page.index("## Where each concept lives")
    tree = page[start:page.index("\n## ", start + 1)]
    listed = set(re.findall(r"^  ([\w.]+?)(?:\.py|/)\s", tree, re.M))
    return {"sphinxamp" if n == "__init__" else n for n in listed}


def test_the_page_names_every_package_and_top_level_module() -> None:
    names = _top_level()
    assert {"wire", "cli", "_hop", "_version", "errors", "sphinxamp"} <= names
    assert set(TABLE) == names, (names - set(TABLE), set(TABLE) - names)
    assert tree_names(PAGE_TEXT) == names, (names - tree_names(PAGE_TEXT),
                                            tree_names(PAGE_TEXT) - names)


# --- each checker refuses what breaks its rule ---------------------------------------------


def _fake(files: Mapping[str, str]) -> dict[str, tuple[str, bool]]:
    return {name.removesuffix(".__init__"): (text, name.endswith("__init__"))
            for name, text in files.items()}


def test_checkers_catch_a_cycle_and_hidden_imports() -> None:
    sources = _fake({
        "pkg.__init__": "",
        "pkg.a": "from pkg import b\n",
        "pkg.b": "def f():\n    from pkg.c import x\n",
        "pkg.c": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import y\n"
                 "from . import d\n",
        "pkg.d": "import os\n",
    })
    edges = import_edges(sources, "pkg")
    got = {(e.source, e.target, e.hidden) for e in edges}
    assert got == {("pkg.a", "pkg.b", None), ("pkg.b", "pkg.c", "function"),
                   ("pkg.c", "pkg.a", "TYPE_CHECKING"), ("pkg.c", "pkg.d", None)}
    assert find_cycles(_graph(edges)) == [["pkg.a", "pkg.b", "pkg.c"]]
    assert find_cycles({"x": {"x"}}) == [["x"]]
    assert find_cycles({"x": {"y"}, "y": {"z"}}) == []


def test_checkers_catch_an_upward_arrow_and_a_bad_table() -> None:
    page = ("| 0 | `errors` | nothing |\n| 1 | `wire` | `errors` |\n"
            "| 2 | `onion` | everything below |\n| 2 | `blinding` | `onion` |\n")
    table = parse_layers(page)
    assert table["onion"] == (2, frozenset({"errors", "wire"}))
    assert table_problems(table) == []
    up = [Edge("s.wire._tlv", "s.onion._sphinx", 3, None)]
    assert layer_violations(up, table) == ["s.wire._tlv:3 -> s.onion._sphinx: wire may not "
                                           "import onion"]
    assert layer_violations([Edge("s.blinding.x", "s.onion", 1, None)], table) == []
    assert layer_violations([Edge("s.onion.x", "s.blinding", 1, None)], table) != []
    both = parse_layers("| 0 | `a` | nothing |\n| 1 | `b` | `c` |\n| 1 | `c` | `b`, `a` |\n")
    assert table_problems(both) == ["b and c may import each other",
                                    "c and b may import each other"]
    assert table_problems(parse_layers("| 0 | `a` | `z` |\n")) == [
        "a may import z, which the table does not list"]
    assert table_problems(parse_layers("| 0 | `a` | `b` |\n| 1 | `b` | nothing |\n")) == [
        "a (layer 0) may import b above it"]


def test_checkers_catch_file_and_process_use() -> None:
    text = ("import subprocess\nfrom sqlite3 import connect\nfrom pathlib import Path\n"
            "def f(p: Path) -> None:\n    open(p)\n    p.read_text()\n    p.write_bytes(b'')\n")
    assert io_uses(text) == ["import subprocess", "from sqlite3 import", "open() at line 5",
                             ".read_text() at line 6", ".write_bytes() at line 7"]
    assert io_uses("from ._x import open_thing\nx = 'a'.replace('a', 'b')\n") == []
    allowed = ["sphinxamp/_sqlite.py", "sphinxamp/cli/"]
    assert may_touch_io("sphinxamp/cli/bench.py", allowed)
    assert not may_touch_io("sphinxamp/onion/_sphinx.py", allowed)


@pytest.mark.parametrize("name", ["wire", "onion", "_payload", "_hop", "cli"])
def test_the_page_check_sees_a_missing_name(name: str) -> None:
    """A page without the row and the tree line of `name` no longer names it."""
    page = re.sub(rf"^\| \d+ \| `{name}` \|.*\n", "", PAGE_TEXT, flags=re.M)
    page = re.sub(rf"^  {name}(\.py|/) .*\n", "", page, flags=re.M)
    assert name in TABLE and name in tree_names(PAGE_TEXT)
    assert name not in parse_layers(page) and name not in tree_names(page)


def test_module_names() -> None:
    root = Path("/x")
    assert module_name(root / "sphinxamp" / "__init__.py", root) == "sphinxamp"
    assert module_name(root / "sphinxamp" / "wire" / "_tlv.py", root) == "sphinxamp.wire._tlv"
    assert unit("sphinxamp.wire._tlv") == "wire" and unit("sphinxamp") == "sphinxamp"


def test_the_graph_is_not_empty() -> None:
    """The checks above pass vacuously on no arrows: the package has its known ones."""
    pairs = {(unit(e.source), unit(e.target)) for e in EDGES}
    assert {("onion", "primitives"), ("receiver", "_sqlite"), ("cli", "conformance"),
            ("sphinxamp", "_explain")} <= pairs
