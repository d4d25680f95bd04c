#!/bin/bash -eu
# Build every fuzz/fuzz_*.py into a PyInstaller-packaged libFuzzer target in $OUT, with its
# seed corpus ($OUT/<fuzzer>_seed_corpus.zip), dictionary and options next to it.
cd "$SRC/sphinxamp"
pip3 install .

# Modules PyInstaller cannot see by reading imports: coincurve's vendored cffi backend, which
# its compiled secp256k1 binding loads from C, and the exception module crypto.aead_decrypt
# imports inside the function. A module missing from the bundle only shows up at run time,
# as a ModuleNotFoundError that libFuzzer reports as a crash on the first input.
hidden=(--hidden-import=coincurve._cffi_backend --hidden-import=cryptography.exceptions)

for harness in fuzz/fuzz_*.py; do
  fuzzer=$(basename -s .py "$harness")
  target=${fuzzer#fuzz_}
  # compile_python_fuzzer prepends a coverage stub to the harness in coverage builds, which
  # a `from __future__` import (legal only at the top of a file) would turn into a SyntaxError.
  if grep -q '^from __future__' "$harness"; then
    echo "$harness: remove 'from __future__' imports (breaks coverage builds)" >&2
    exit 1
  fi
  # --paths: the harnesses import their helpers (fuzz/_common.py, ...) as top-level modules.
  compile_python_fuzzer "$harness" --paths=fuzz "${hidden[@]}"
  if [ -d "fuzz/corpus/$target" ]; then
    (cd "fuzz/corpus/$target" && zip -q -r "$OUT/${fuzzer}_seed_corpus.zip" .)
  fi
  if [ -f "fuzz/dict/$target.dict" ]; then
    cp "fuzz/dict/$target.dict" "$OUT/$fuzzer.dict"
  fi
  case "$target" in
    bigsize) max_len=32 ;;
    peel_reseal) max_len=2048 ;;
    *) max_len=4096 ;;
  esac
  printf '[libfuzzer]\nmax_len = %s\ntimeout = 10\n' "$max_len" > "$OUT/$fuzzer.options"
done
