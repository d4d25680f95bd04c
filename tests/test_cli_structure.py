"""The command line's structure, read from its source: it stands on the public API alone, its
command modules do not reach into each other, each shared option is declared in one place,
and the commands are registered by ordinary imports a type checker follows."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / "sphinxamp" / "cli"
SHARED_OPTIONS = ("--node-key", "--path-key", "--profile", "--assoc-data", "--hold-time-ms")
# Calls that declare an option: argparse's own, and the secret-option declaration that wraps it.
DECLARING_CALLS = frozenset({"add_argument", "add_secret_option"})


def cli_modules() -> list[Path]:
    return sorted(CLI.glob("*.py"))


def command_modules() -> list[Path]:
    """The modules of command groups: every module of cli/ without a leading underscore."""
    return [p for p in cli_modules() if not p.name.startswith("_")]


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported_modules(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """Every module an import statement names, with `from X import y` also yielding X.y (y
    may be a submodule), each with its line."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            yield node.module, node.lineno
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno


def is_private_sphinxamp(module: str) -> bool:
    """A `sphinxamp` module path with a private part (`sphinxamp._x`, `sphinxamp.pkg._x`),
    the CLI's own shared modules and dunder names such as `__version__` aside."""
    parts = module.split(".")
    if parts[0] != "sphinxamp" or parts[1:2] == ["cli"]:
        return False
    return any(p.startswith("_") and not p.startswith("__") for p in parts[1:])


def private_imports(tree: ast.AST) -> list[tuple[int, str]]:
    return sorted((line, module) for module, line in imported_modules(tree)
                  if is_private_sphinxamp(module))


def test_the_private_import_check_catches_each_form() -> None:
    """The three ways of naming a private module are all caught; public paths are not."""
    source = ("from sphinxamp._codes import FAILURE_CODES\n"
              "from sphinxamp.wire._records import PROFILES\n"
              "from sphinxamp import _json\n"
              "import sphinxamp.onion._sphinx\n")
    assert {line for line, _ in private_imports(ast.parse(source))} == {1, 2, 3, 4}
    public = ("from sphinxamp import __version__, process_hop\n"
              "from sphinxamp.failures import FAILURE_CODES\n"
              "from sphinxamp.cli._common import read_hex\n"
              "from sphinxamp.conformance.vectors import CaseResult\n")
    assert private_imports(ast.parse(public)) == []


@pytest.mark.parametrize("path", cli_modules(), ids=lambda p: p.name)
def test_cli_imports_only_the_public_api(path: Path) -> None:
    assert private_imports(parse(path)) == []


@pytest.mark.parametrize("path", command_modules(), ids=lambda p: p.name)
def test_no_command_module_imports_another(path: Path) -> None:
    commands = {f"sphinxamp.cli.{p.stem}" for p in command_modules()}
    own = f"sphinxamp.cli.{path.stem}"
    reached = sorted({module for module, _ in imported_modules(parse(path))
                      if module in commands and module != own})
    assert reached == [], f"{path.name} imports {reached}: shared code goes in cli/_*.py"


def option_declarations(tree: ast.AST, flag: str) -> int:
    """How many declaring calls name `flag` as a string literal argument."""
    count = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in DECLARING_CALLS:
            count += sum(isinstance(a, ast.Constant) and a.value == flag for a in node.args)
    return count


@pytest.mark.parametrize("flag", SHARED_OPTIONS)
def test_each_shared_option_is_declared_once(flag: str) -> None:
    where = {p.name: n for p in cli_modules() if (n := option_declarations(parse(p), flag))}
    assert sum(where.values()) == 1, f"{flag} declared in {where}"


def test_the_declaration_count_sees_both_declaring_calls() -> None:
    source = ('parser.add_argument("--profile", choices=("bolt",))\n'
              'add_secret_option(parser, "--node-key", "key")\n'
              'parser.add_argument("--path-key")\n')
    tree = ast.parse(source)
    assert [option_declarations(tree, f) for f in SHARED_OPTIONS[:3]] == [1, 1, 1]


def test_registration_uses_ordinary_imports() -> None:
    tree = parse(CLI / "__init__.py")
    modules = {module for module, _ in imported_modules(tree)}
    assert not any(m == "importlib" or m.startswith("importlib.") for m in modules)
    calls = {node.func.attr for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    assert not calls & {"import_module", "__import__"}
    # Every command module is imported there by name, so a type checker sees its register.
    assert {f"sphinxamp.cli.{p.stem}" for p in command_modules()} <= modules


# A private import written out in any language's block (`python -c "..."` in a shell block
# too): `sphinxamp._x`, `sphinxamp.pkg._x`, `from sphinxamp import _x`.
PRIVATE_TEXT = re.compile(r"\bsphinxamp(?:\.\w+)*\._[a-z]"
                          r"|\bfrom sphinxamp(?:\.\w+)* import \(?\s*_[a-z]")


def code_blocks(markdown: str) -> list[str]:
    return re.findall(r"```[^\n]*\n(.*?)```", markdown, flags=re.DOTALL)


def example_sources() -> Iterator[tuple[str, str]]:
    for path in sorted((ROOT / "examples").rglob("*")):
        if path.is_file() and path.suffix in {".py", ".sh", ".md"}:
            yield str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for i, block in enumerate(code_blocks(readme)):
        yield f"README.md block {i}", block


def test_the_text_check_catches_private_imports() -> None:
    assert PRIVATE_TEXT.search("from sphinxamp._hop import process_hop")
    assert PRIVATE_TEXT.search("python -c 'from sphinxamp.wire._tlv import U64'")
    assert PRIVATE_TEXT.search("from sphinxamp import _codes")
    assert not PRIVATE_TEXT.search("from sphinxamp import __version__, process_hop")
    assert not PRIVATE_TEXT.search("python -m sphinxamp.cli trace examples/route.json")


def test_examples_and_readme_use_only_the_public_api() -> None:
    sources = list(example_sources())
    assert any(name.startswith("README.md") for name, _ in sources)  # the README has code
    found = {name: [m.group(0) for m in PRIVATE_TEXT.finditer(text)] for name, text in sources}
    assert {name: bad for name, bad in found.items() if bad} == {}
