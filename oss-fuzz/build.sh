#!/bin/bash -eu
# OSS-Fuzz build for sphinxamp. The steps live in the project's own tree, shared with
# ClusterFuzzLite, so a new fuzz target or build flag needs no change in google/oss-fuzz.
exec bash -eu "$SRC/sphinxamp/.clusterfuzzlite/build.sh"
