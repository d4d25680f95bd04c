"""A small mutation runner: which injected bugs in one module do the given tests catch?

    python tools/mutation.py sphinxamp/onion/_replay.py --tests tests/test_replay.py \
        [--max 40] [--seed 0] [--pytest-arg ARG]... [--only N]... [--list] [--json]

Each mutant changes one operator of the module: `<`/`<=`, `>`/`>=`, `==`/`!=`, `is`/`is not`,
`in`/`not in`, `and`/`or`, `+`/`-`, an integer compared against moved by one, `not x` to `x`,
`max`/`min`, `return True`/`return False`, a `raise` replaced by `pass`. The module is parsed
with `ast`, the one node is changed and the module is written back with `ast.unparse`.

The working tree is never written: the package is copied into a temporary folder, the mutant
goes into that copy, and pytest runs (`-x -q`) with the copy first on the import path (its
folder is the working directory and PYTHONPATH). The unmutated copy must pass first, and the
package must be seen to import from the copy. A mutant is killed when the tests fail or run out
of time, survived when they pass. With more sites than `--max`, a seeded sample is run.
Survivors are listed for reading: each is either a missing test or an equivalent mutant.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

_SWAP_CMP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
    ast.In: ast.NotIn, ast.NotIn: ast.In,
}
_SWAP_BIN: dict[type[ast.operator], type[ast.operator]] = {ast.Add: ast.Sub, ast.Sub: ast.Add}
_SWAP_CALL = {"max": "min", "min": "max"}
_SYMBOL: dict[type[ast.AST], str] = {
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
    ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in", ast.Add: "+",
    ast.Sub: "-", ast.And: "and", ast.Or: "or",
}

Mutate = Callable[[ast.Module], ast.AST]  # changes the parsed module, returns the new tree


@dataclass(frozen=True)
class Site:
    """One mutation: the `index`-th site of the walk, changed as `description` says."""

    index: int
    line: int
    description: str


@dataclass(frozen=True)
class Outcome:
    site: Site
    status: str  # killed, survived, timeout
    seconds: float


class _Replace(ast.NodeTransformer):
    """Puts `replacement` where `target` was (the node itself, not an equal one)."""

    def __init__(self, target: ast.AST, replacement: ast.AST) -> None:
        self.target, self.replacement = target, replacement

    def visit(self, node: ast.AST) -> ast.AST:
        return self.replacement if node is self.target else super().visit(node)


def _replace(target: ast.AST, replacement: ast.AST) -> Mutate:
    return lambda tree: _Replace(target, replacement).visit(tree)


def _set(node: ast.AST, field: str, value: object) -> Mutate:
    def mutate(tree: ast.Module) -> ast.AST:
        setattr(node, field, value)
        return tree
    return mutate


def _set_item(items: list[Any], k: int, value: ast.AST) -> Mutate:
    def mutate(tree: ast.Module) -> ast.AST:
        items[k] = value
        return tree
    return mutate


def _int_value(node: ast.AST) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def _compare(node: ast.Compare) -> Iterator[tuple[str, Mutate]]:
    for k, op in enumerate(node.ops):
        if type(op) in _SWAP_CMP:
            new = _SWAP_CMP[type(op)]
            yield f"{_SYMBOL[type(op)]} -> {_SYMBOL[new]}", _set_item(node.ops, k, new())
    for k, right in enumerate(node.comparators):
        value = _int_value(right)
        if value is not None:
            yield (f"compared {value} -> {value + 1}",
                   _set_item(node.comparators, k, ast.Constant(value + 1)))


def _mutations(node: ast.AST) -> Iterator[tuple[str, Mutate]]:
    """Every way this node can be mutated: a description and the mutation."""
    if isinstance(node, ast.Compare):
        yield from _compare(node)
    elif isinstance(node, ast.BoolOp):
        new_op: type[ast.boolop] = ast.Or if isinstance(node.op, ast.And) else ast.And
        yield f"{_SYMBOL[type(node.op)]} -> {_SYMBOL[new_op]}", _set(node, "op", new_op())
    elif isinstance(node, ast.BinOp) and type(node.op) in _SWAP_BIN:
        new_bin = _SWAP_BIN[type(node.op)]
        yield f"{_SYMBOL[type(node.op)]} -> {_SYMBOL[new_bin]}", _set(node, "op", new_bin())
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "not x -> x", _replace(node, node.operand)
    elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
          and node.func.id in _SWAP_CALL):
        name = _SWAP_CALL[node.func.id]
        yield f"{node.func.id}() -> {name}()", _set(node.func, "id", name)
    elif (isinstance(node, ast.Return) and isinstance(node.value, ast.Constant)
          and isinstance(node.value.value, bool)):
        flip = not node.value.value
        yield (f"return {node.value.value} -> return {flip}",
               _set(node, "value", ast.Constant(flip)))
    elif isinstance(node, ast.Raise):
        yield "raise -> pass", _replace(node, ast.Pass())


def _skipped_ids(tree: ast.AST) -> set[int]:
    """Nodes inside annotations and `assert` statements: mutating them tests nothing."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        roots: list[ast.AST] = []
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            roots.append(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
            roots.append(node.returns)
        if isinstance(node, ast.Assert):
            roots.append(node)
        for root in roots:
            skip.update(id(n) for n in ast.walk(root))
    return skip


def _walk(tree: ast.Module) -> Iterator[tuple[int, ast.AST, str, Mutate]]:
    """(index, node, description, mutation) for every site, in a fixed order."""
    skip = _skipped_ids(tree)
    index = 0
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        for description, mutate in _mutations(node):
            yield index, node, description, mutate
            index += 1


def sites(source: str) -> list[Site]:
    tree = ast.parse(source)
    return [Site(i, getattr(node, "lineno", 0), description)
            for i, node, description, _ in _walk(tree)]


def mutant(source: str, site: Site) -> str:
    """The module's source with `site` applied (and nothing else changed in meaning)."""
    tree = ast.parse(source)
    for index, _, _, mutate in _walk(tree):
        if index == site.index:
            return ast.unparse(ast.fix_missing_locations(mutate(tree)))
    raise LookupError(f"no site {site.index}")


def choose(all_sites: list[Site], limit: int, seed: int) -> list[Site]:
    if len(all_sites) <= limit:
        return all_sites
    return sorted(random.Random(seed).sample(all_sites, limit), key=lambda s: s.index)


class Runner:
    """A temporary copy of the package, and pytest run against it."""

    def __init__(self, module: Path, tests: list[str], timeout: float | None,
                 pytest_args: list[str]) -> None:
        self.module = module.resolve()
        self.pytest_args = pytest_args
        self.package = _package_root(self.module)
        self.tests = [str(Path(t).resolve()) for t in tests]
        self.timeout = timeout
        self._tmp = tempfile.TemporaryDirectory(prefix="mutation-")
        self.root = Path(self._tmp.name)
        shutil.copytree(self.package, self.root / self.package.name,
                        ignore=shutil.ignore_patterns("__pycache__"))
        self.target = self.root / self.package.name / self.module.relative_to(self.package)
        self.env = dict(os.environ, PYTHONPATH=str(self.root), PYTHONDONTWRITEBYTECODE="1")

    def close(self) -> None:
        self._tmp.cleanup()

    def check_isolation(self) -> None:
        probe = f"import {self.package.name} as p; print(p.__file__)"
        out = subprocess.run([sys.executable, "-c", probe], cwd=self.root, env=self.env,
                             capture_output=True, text=True, check=True).stdout.strip()
        if not Path(out).resolve().is_relative_to(self.root):
            raise SystemExit(f"the package imports from {out}, not from the copy")

    def run(self, source: str) -> tuple[str, float]:
        self.target.write_text(source)
        start = time.monotonic()
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                 *self.pytest_args, *self.tests], cwd=self.root, env=self.env, capture_output=True,
                timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            return "timeout", time.monotonic() - start
        return ("survived" if proc.returncode == 0 else "killed"), time.monotonic() - start


def _package_root(module: Path) -> Path:
    """The outermost folder above `module` that still holds an __init__.py."""
    package = module.parent
    while (package.parent / "__init__.py").is_file():
        package = package.parent
    if not (package / "__init__.py").is_file():
        raise SystemExit(f"{module} is not inside a package")
    return package


def mutate_module(module: Path, tests: list[str], limit: int, seed: int,
                  report: Callable[[Outcome], None], pytest_args: list[str] | None = None,
                  only: list[int] | None = None) -> list[Outcome]:
    source = module.read_text()
    every = sites(source)
    chosen = [s for s in every if s.index in only] if only else choose(every, limit, seed)
    runner = Runner(module, tests, None, pytest_args or [])
    try:
        runner.check_isolation()
        status, seconds = runner.run(source)
        if status != "survived":
            raise SystemExit(f"the tests fail without any mutant ({status})")
        runner.timeout = 5 * seconds + 10
        outcomes = []
        for site in chosen:
            status, spent = runner.run(mutant(source, site))
            outcomes.append(Outcome(site, status, round(spent, 2)))
            report(outcomes[-1])
        return outcomes
    finally:
        runner.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module", type=Path)
    parser.add_argument("--tests", nargs="+", default=["tests"])
    parser.add_argument("--max", type=int, default=40, help="most mutants run (default 40)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample")
    parser.add_argument("--pytest-arg", action="append", default=[], metavar="ARG",
                        help="passed on to pytest (repeatable), e.g. --pytest-arg=--deselect=ID")
    parser.add_argument("--only", type=int, action="append", metavar="N",
                        help="run only site N of --list (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the sites, run nothing")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.list:
        for site in sites(args.module.read_text()):
            print(f"{site.index:4} line {site.line:4}  {site.description}")
        return 0
    show: Callable[[Outcome], None] = (lambda o: None) if args.json else (
        lambda o: print(f"{o.status:8} {o.seconds:6.1f}s  line {o.site.line:4}  "
                        f"#{o.site.index} {o.site.description}", flush=True))
    outcomes = mutate_module(args.module, args.tests, args.max, args.seed, show,
                             args.pytest_arg, args.only)
    killed = sum(o.status != "survived" for o in outcomes)
    if args.json:
        print(json.dumps({"module": str(args.module), "mutants": len(outcomes),
                          "killed": killed, "outcomes": [asdict(o) for o in outcomes]}))
    else:
        print(f"{args.module}: {len(outcomes)} mutants, {killed} killed, "
              f"{len(outcomes) - killed} survived")
    return 0 if killed == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
