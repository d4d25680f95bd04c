"""Benchmarks of sphinxamp against the bare primitives and pyln-proto (see README.md here).

Tooling, outside the library's import path: `python -m benchmarks` from a checkout, or
`sphinxamp bench` from an installation that has this directory beside the `sphinxamp`
package (an editable install of a checkout).
"""
