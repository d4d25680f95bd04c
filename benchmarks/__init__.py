"""Benchmarks of sphinxamp against the bare primitives and pyln-proto (see README.md here).

The measuring code lives in `sphinxamp._bench` so that `sphinxamp bench` works from an
installed wheel; this package is the checkout's front door to it.
"""
