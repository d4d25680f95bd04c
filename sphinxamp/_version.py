"""The release, in one place: the package root re-exports it and pyproject.toml reads it
(`[tool.hatch.version]`), so the kit and the CLI stamp their reports without importing the
root."""

__version__ = "0.1.0"
