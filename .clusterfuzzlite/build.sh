#!/bin/bash -eu
# Builds every fuzz/fuzz_*.py into a libFuzzer target in $OUT: compile_python_fuzzer packages
# the harness with PyInstaller and writes the wrapper OSS-Fuzz runs; next to each target go its
# seed corpus (<fuzzer>_seed_corpus.zip), dictionary (<fuzzer>.dict) and options.
# ClusterFuzzLite runs this file (.clusterfuzzlite/Dockerfile), OSS-Fuzz through
# oss-fuzz/build.sh, and fuzz/check-oss-fuzz-build runs it without Docker.
cd "$SRC/sphinxamp"
pip3 install .

# coincurve's secp256k1 binding is a compiled cffi module: it imports coincurve._cffi_backend
# from C, where PyInstaller's import analysis cannot see it. Without it in the bundle, every
# target dies on its first input with a ModuleNotFoundError that libFuzzer reports as a crash.
hidden=(--hidden-import=coincurve._cffi_backend)

shopt -s nullglob
harnesses=(fuzz/fuzz_*.py)
if [ ${#harnesses[@]} -eq 0 ]; then
  echo "no fuzz/fuzz_*.py harness in $PWD" >&2
  exit 1
fi

for harness in "${harnesses[@]}"; do
  fuzzer=$(basename -s .py "$harness")
  target=${fuzzer#fuzz_}
  # Coverage builds prepend a stub to the harness source, which a `from __future__` import
  # (legal only at the top of a file) would turn into a SyntaxError.
  if grep -q '^from __future__' "$harness"; then
    echo "$harness: remove 'from __future__' imports (breaks coverage builds)" >&2
    exit 1
  fi
  # --paths: the harnesses import their helpers (fuzz/_common.py, ...) as top-level modules.
  compile_python_fuzzer "$harness" --paths=fuzz "${hidden[@]}"
  # A fast target (fuzz_X_fast.py) fuzzes from its oracle target's seeds, dictionary and
  # options: fuzz/_targets.py names the corpus a target uses.
  corpus=$(python3 fuzz/_targets.py "$target")
  seeds=("fuzz/corpus/$corpus"/*)
  if [ ${#seeds[@]} -gt 0 ]; then
    # The stdlib's zip writer: the base image need not carry a zip program.
    python3 -m zipfile -c "$OUT/${fuzzer}_seed_corpus.zip" "${seeds[@]}"
  fi
  if [ -f "fuzz/dict/$corpus.dict" ]; then
    cp "fuzz/dict/$corpus.dict" "$OUT/$fuzzer.dict"
  fi
  case "$corpus" in
    bigsize) max_len=32 ;;
    peel_reseal) max_len=2048 ;;
    *) max_len=4096 ;;
  esac
  printf '[libfuzzer]\nmax_len = %s\ntimeout = 10\n' "$max_len" > "$OUT/$fuzzer.options"
done
