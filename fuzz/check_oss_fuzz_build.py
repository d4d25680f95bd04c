#!/usr/bin/env python3
"""Check the OSS-Fuzz / ClusterFuzzLite build of the fuzz targets without Docker.

Runs the real build script (`.clusterfuzzlite/build.sh`, `oss-fuzz/build.sh`) in an emulation
of OSS-Fuzz's Python builder: a copy of the checkout in `$SRC/sphinxamp`, an empty `$OUT`,
`$WORK`, `SANITIZER=address`, and on PATH a `compile_python_fuzzer` that packages a harness as
OSS-Fuzz does (PyInstaller `--onefile` into `$OUT/<fuzzer>.pkg`, run bit removed, plus an
executable wrapper `$OUT/<fuzzer>` carrying the marker by which OSS-Fuzz finds targets). Then
every target found in `$OUT` runs 500 executions on its unzipped seed corpus, with its
dictionary and options. Exit status 0 only when every selected target built and ran.

Not emulated: the base image (its Python, atheris and PyInstaller come from `--python` here),
the sanitizer runtime the wrapper preloads there, and coverage builds. `pip3 install` goes to
a private directory with the interpreter's packages as dependencies, so the interpreter's
environment is never modified.

    fuzz/check-oss-fuzz-build [--target NAME]... [--script clusterfuzzlite|oss-fuzz|both]
                              [--python PATH] [--keep]
"""

from __future__ import annotations

import argparse
import configparser
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
REPO = FUZZ.parent
if str(FUZZ) not in sys.path:
    sys.path.insert(0, str(FUZZ))

from _targets import corpus_of  # noqa: E402  (a fast target ships its oracle's seeds)

LOCK = REPO / "requirements" / "fuzz.lock"
SCRIPTS = {"clusterfuzzlite": (REPO / ".clusterfuzzlite" / "build.sh", ".clusterfuzzlite"),
           "oss-fuzz": (REPO / "oss-fuzz" / "build.sh", "oss-fuzz")}
RUNS = 500
MARKER = b"LLVMFuzzerTestOneInput"  # OSS-Fuzz treats an executable in $OUT holding it as a target
BUILD_SECONDS_PER_TARGET = 240
RUN_TIMEOUT = 300


def lock_pin(package: str) -> str | None:
    for line in LOCK.read_text().splitlines():
        name, _, version = line.partition("==")
        if name.strip().lower() == package:
            return version.split("#")[0].strip()
    return None


def preflight(python: str) -> list[str]:
    """What the interpreter lacks to emulate the builder: a pinned PyInstaller, atheris, and
    the build backend `pip3 install .` needs without network access."""
    probe = ("import importlib.metadata as m\n"
             "for p in ('pyinstaller', 'atheris', 'hatchling'):\n"
             "    try: print(p, m.version(p))\n"
             "    except m.PackageNotFoundError: print(p, '-')\n")
    try:
        found = subprocess.run([python, "-c", probe], capture_output=True, text=True,
                               check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return [f"cannot run {python}: {exc}"]
    versions = dict(line.split(" ", 1) for line in found.splitlines())
    pin, problems = lock_pin("pyinstaller"), []
    for package, version in versions.items():
        if version == "-":
            problems.append(f"{package} is not installed in {python} "
                            f"(pip install --no-deps -r {LOCK.relative_to(REPO)})")
    if versions.get("pyinstaller", "-") not in ("-", pin):
        problems.append(f"PyInstaller {versions['pyinstaller']} is installed in {python}, but "
                        f"{LOCK.relative_to(REPO)} pins pyinstaller=={pin}")
    return problems


def copy_checkout(dest: Path, targets: list[str]) -> None:
    """The files git would ship (tracked or new, never ignored), as the Dockerfile's COPY puts
    them in the image; harnesses outside the selection are left out so the build skips them."""
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], cwd=REPO, capture_output=True, check=True)
    for name in sorted(set(listing.stdout.decode().split("\0")) - {""}):
        path = REPO / name
        harness = re.fullmatch(r"fuzz/fuzz_(\w+)\.py", name)
        if not path.is_file() or (harness and harness.group(1) not in targets):
            continue
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest / name)


def write_tools(bin_dir: Path, python: str, site: Path) -> None:
    """The builder's commands, each running the chosen interpreter."""
    py, me = shlex.quote(python), shlex.quote(str(Path(__file__).resolve()))
    tools = {
        "python3": f'exec {py} "$@"',
        # -P: like the `pyinstaller` console script, leave the current directory (the source
        # tree) off sys.path, so the bundle gets the installed package.
        "pyinstaller": f'exec {py} -P -m PyInstaller "$@"',
        "compile_python_fuzzer": f'exec {py} {me} --compile-python-fuzzer "$@"',
        # Dependencies come from the interpreter (PYTHONPATH keeps them visible), so the
        # install needs no network and leaves that environment as it was.
        "pip3": ('if [ "$1" = install ]; then shift; '
                 f"exec {py} -m pip install --quiet --no-deps --no-build-isolation --no-index "
                 f'--target {shlex.quote(str(site))} "$@"; fi\n'
                 f'exec {py} -m pip "$@"'),
    }
    tools["python"], tools["pip"] = tools["python3"], tools["pip3"]
    bin_dir.mkdir(parents=True)
    for name, body in tools.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)


WRAPPER = """#!/bin/sh
# LLVMFuzzerTestOneInput (the marker OSS-Fuzz looks for in a target)
here=$(dirname "$0")
chmod +x "$here/{pkg}"
preload="$here/sanitizer_with_fuzzer.so"
if [ -f "$preload" ]; then export LD_PRELOAD="$preload"; fi
ASAN_OPTIONS="$ASAN_OPTIONS:symbolize=1:detect_leaks=0" exec "$here/{pkg}" "$@"
"""


def compile_python_fuzzer(argv: list[str]) -> int:
    """The emulated builder command: `compile_python_fuzzer <harness.py> [pyinstaller args]`."""
    if not argv:
        sys.exit("usage: compile_python_fuzzer <harness.py> [pyinstaller arguments]")
    if "coverage" in os.environ.get("SANITIZER", ""):
        sys.exit("compile_python_fuzzer: coverage builds are not emulated")
    harness, extra = argv[0], argv[1:]
    fuzzer = Path(harness).name.removesuffix(".py")
    out, workdir = Path(os.environ["OUT"]), Path(os.environ["SRC"]) / "pyfuzzworkdir"
    shutil.rmtree(workdir, ignore_errors=True)
    (workdir / fuzzer).mkdir(parents=True)
    start = time.monotonic()
    subprocess.run(["pyinstaller", "--distpath", str(out), f"--workpath={workdir / fuzzer}",
                    "--onefile", "--name", f"{fuzzer}.pkg", *extra, harness], check=True)
    package = out / f"{fuzzer}.pkg"
    package.chmod(0o644)  # only the wrapper may look like a target; it restores the run bit
    (out / fuzzer).write_text(WRAPPER.format(pkg=package.name))
    (out / fuzzer).chmod(0o755)
    with (Path(os.environ["WORK"]) / "compiled.tsv").open("a") as log:
        log.write(f"{fuzzer}\t{time.monotonic() - start:.1f}\n")
    return 0


@dataclass
class Verdict:
    fuzzer: str
    ok: bool = False
    note: str = ""
    build_s: float | None = None
    run_s: float = 0.0
    runs: int = 0

    def line(self) -> str:
        built = f"built {self.build_s:5.1f}s" if self.build_s is not None else "not built"
        ran = f"{self.runs} runs in {self.run_s:4.1f}s" if self.runs else "no run"
        return f"{'ok  ' if self.ok else 'FAIL'} {self.fuzzer:<36} {built}  {ran}  {self.note}"


def run_build(script: str, root: Path, python: str, targets: list[str]) -> tuple[int, Path]:
    src, out, work = root / "src", root / "out", root / "work"
    for folder in (src, out, work):
        folder.mkdir(parents=True)
    copy_checkout(src / "sphinxamp", targets)
    entry, _ = SCRIPTS[script]
    shutil.copy2(src / "sphinxamp" / entry.relative_to(REPO), src / "build.sh")
    site = work / "site"
    write_tools(work / "bin", python, site)
    env = {**os.environ, "SRC": str(src), "OUT": str(out), "WORK": str(work),
           "SANITIZER": "address", "FUZZING_ENGINE": "libfuzzer", "FUZZING_LANGUAGE": "python",
           "ARCHITECTURE": "x86_64", "PYTHONPATH": str(site),
           "PATH": f"{work / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    log = root / "build.log"
    with log.open("w") as sink:
        try:
            code = subprocess.run(["bash", "-eu", str(src / "build.sh")], cwd=src / "sphinxamp",
                                  env=env, stdout=sink, stderr=subprocess.STDOUT, check=False,
                                  timeout=60 + BUILD_SECONDS_PER_TARGET * len(targets)).returncode
        except subprocess.TimeoutExpired:
            sink.write("\ncheck-oss-fuzz-build: build.sh timed out\n")
            code = -1
    return code, log


def found_targets(out: Path) -> set[str]:
    """What OSS-Fuzz would run: executables in $OUT that carry the target marker."""
    return {p.name for p in out.iterdir()
            if p.is_file() and os.access(p, os.X_OK) and MARKER in p.read_bytes()}


def libfuzzer_options(out: Path, fuzzer: str) -> list[str]:
    path, parser = out / f"{fuzzer}.options", configparser.ConfigParser()
    if not path.is_file():
        return []
    parser.read(path)
    section = parser["libfuzzer"] if parser.has_section("libfuzzer") else {}
    return [f"-{key}={value}" for key, value in section.items()]


def complete_outputs(out: Path, fuzzer: str) -> list[str]:
    """Seed zip and dictionary as OSS-Fuzz expects them; made here when build.sh did not."""
    notes, target = [], corpus_of(fuzzer.removeprefix("fuzz_"))
    seeds = sorted(p for p in (FUZZ / "corpus" / target).glob("*") if p.is_file())
    zipped = out / f"{fuzzer}_seed_corpus.zip"
    if not zipped.is_file() and seeds:
        with zipfile.ZipFile(zipped, "w") as archive:
            for seed in seeds:
                archive.write(seed, seed.name)
        notes.append("seed zip made by the check")
    dictionary = FUZZ / "dict" / f"{target}.dict"
    if not (out / f"{fuzzer}.dict").is_file() and dictionary.is_file():
        shutil.copy2(dictionary, out / f"{fuzzer}.dict")
        notes.append("dict copied by the check")
    return notes


def run_target(out: Path, scratch: Path, verdict: Verdict) -> None:
    fuzzer = verdict.fuzzer
    seeds, new, artifacts = (scratch / fuzzer / d for d in ("seeds", "new", "artifacts"))
    for folder in (seeds, new, artifacts):
        folder.mkdir(parents=True)
    zipped = out / f"{fuzzer}_seed_corpus.zip"
    if zipped.is_file():
        with zipfile.ZipFile(zipped) as archive:
            archive.extractall(seeds)
    cmd = [str(out / fuzzer), f"-runs={RUNS}", f"-artifact_prefix={artifacts}/",
           *libfuzzer_options(out, fuzzer)]
    if (out / f"{fuzzer}.dict").is_file():
        cmd.append(f"-dict={out / f'{fuzzer}.dict'}")
    start = time.monotonic()
    try:
        proc = subprocess.run([*cmd, str(new), str(seeds)], cwd=scratch, capture_output=True,
                              text=True, timeout=RUN_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        verdict.note = f"no result within {RUN_TIMEOUT} s"
        return
    verdict.run_s = time.monotonic() - start
    done = re.search(r"Done (\d+) runs", proc.stderr)
    verdict.runs = int(done.group(1)) if done else 0
    findings = sorted(p.name for p in artifacts.iterdir())
    verdict.ok = proc.returncode == 0 and verdict.runs >= RUNS and not findings
    if not verdict.ok:
        tail = " | ".join(proc.stderr.strip().splitlines()[-6:])
        verdict.note = f"exit {proc.returncode}, {verdict.runs} runs, findings {findings}: {tail}"


def build_times(work: Path) -> dict[str, float]:
    path = work / "compiled.tsv"
    rows = [line.split("\t") for line in path.read_text().splitlines()] if path.is_file() else []
    return {name: float(seconds) for name, seconds in rows}


def check_script(script: str, python: str, targets: list[str], root: Path) -> list[Verdict]:
    print(f"== {script}: {SCRIPTS[script][0].relative_to(REPO)}, {len(targets)} target(s)",
          flush=True)
    code, log = run_build(script, root, python, targets)
    out, times = root / "out", build_times(root / "work")
    if code != 0:
        print(f"build.sh exited {code}; last lines of {log}:")
        print("\n".join(log.read_text().splitlines()[-30:]))
    found = found_targets(out)
    verdicts = []
    for fuzzer in [f"fuzz_{t}" for t in targets] + sorted(found - {f"fuzz_{t}" for t in targets}):
        verdict = Verdict(fuzzer, build_s=times.get(fuzzer))
        if fuzzer not in found:
            verdict.note = "no target in $OUT (wrapper missing, not executable or unmarked)"
        elif not (out / f"{fuzzer}.pkg").is_file():
            verdict.note = f"$OUT/{fuzzer}.pkg missing"
        elif fuzzer.removeprefix("fuzz_") not in targets:
            verdict.note = "built but no fuzz/ harness of that name was selected"
        else:
            notes = complete_outputs(out, fuzzer)
            run_target(out, root / "run", verdict)
            verdict.note = "; ".join([*notes, verdict.note] if verdict.note else notes)
        print(verdict.line(), flush=True)
        verdicts.append(verdict)
    return verdicts


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="fuzz/check-oss-fuzz-build",
        description="Run the real OSS-Fuzz/ClusterFuzzLite build.sh in an emulation of the "
                    f"Python builder, then every built target for {RUNS} executions.")
    parser.add_argument("--target", action="append", default=[], metavar="NAME",
                        help="check only this target (repeatable; default: every fuzz_*.py)")
    parser.add_argument("--script", choices=[*SCRIPTS, "both"], default="both",
                        help="which build script to run (default: both)")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter with atheris and the pinned PyInstaller "
                             "(default: the one running this script)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the emulated $SRC/$OUT/$WORK and print where they are")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--compile-python-fuzzer"]:
        return compile_python_fuzzer(argv[1:])
    args = parse_args(argv)
    known = sorted(p.stem.removeprefix("fuzz_") for p in FUZZ.glob("fuzz_*.py"))
    targets = sorted(set(args.target)) or known
    unknown = sorted(set(targets) - set(known))
    if unknown or not targets:
        print(f"nothing to check: unknown target(s) {unknown}; known: {known}", file=sys.stderr)
        return 2
    problems = preflight(args.python)
    if problems:
        print("cannot emulate the builder:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    scripts = list(SCRIPTS) if args.script == "both" else [args.script]
    start, verdicts = time.monotonic(), []
    root = Path(tempfile.mkdtemp(prefix="oss-fuzz-build-"))
    try:
        for script in scripts:
            verdicts += check_script(script, args.python, targets, root / script)
    finally:
        if args.keep:
            print(f"emulated builder directories kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    good = sum(v.ok for v in verdicts)
    ran = sum(1 for v in verdicts if v.runs)
    print(f"{good}/{len(verdicts)} target build(s) ok ({', '.join(scripts)}; "
          f"{ran} ran, {sum(v.runs for v in verdicts)} executions) in "
          f"{time.monotonic() - start:.0f} s")
    if not ran:
        print("FAIL: no target was built and run", file=sys.stderr)
    return 0 if verdicts and good == len(verdicts) and ran else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
