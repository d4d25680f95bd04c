"""Secrets stay out of the process list: every secret option is also read from @FILE, from stdin
(-) or from the SPHINXAMP_* variable its --help names, with the same result as inline hex."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sphinxamp.cli import build_parser

CLI = [sys.executable, "-m", "sphinxamp"]
SECRET = "53eb63ea8a3fec3b3cd433b85cd62a4b145e1dda09391b348c4e1cd36a03ea66"
SECRET_DESTS = {"node_key", "session_key", "shared_secret", "shared_secrets"}


def run(*argv: str, env: dict[str, str] | None = None,
        stdin: str = "") -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SPHINXAMP_")}
    return subprocess.run([*CLI, *argv], input=stdin, capture_output=True, text=True,
                          check=False, timeout=120, env={**clean, **(env or {})})


def failure_create(secret_arg: list[str], env: dict[str, str] | None = None,
                   stdin: str = "") -> subprocess.CompletedProcess[str]:
    return run("failure", "create", "--code", "temporary_node_failure", *secret_arg, "--json",
               env=env, stdin=stdin)


def test_a_secret_reads_alike_inline_from_a_file_stdin_and_the_environment(
        tmp_path: Path) -> None:
    inline = failure_create(["--shared-secret", SECRET])
    assert inline.returncode == 0, inline.stderr
    (tmp_path / "ss").write_text(SECRET + "\n")
    for other in (failure_create(["--shared-secret", f"@{tmp_path / 'ss'}"]),
                  failure_create(["--shared-secret", "-"], stdin=SECRET),
                  failure_create([], env={"SPHINXAMP_SHARED_SECRET": SECRET})):
        assert other.returncode == 0, other.stderr
        assert json.loads(other.stdout) == json.loads(inline.stdout)


def test_the_command_line_wins_over_the_environment() -> None:
    wrong = "00" * 31 + "01"
    inline = failure_create(["--shared-secret", SECRET])
    both = failure_create(["--shared-secret", SECRET], env={"SPHINXAMP_SHARED_SECRET": wrong})
    assert json.loads(both.stdout) == json.loads(inline.stdout)


def test_a_missing_secret_names_both_ways_to_give_it() -> None:
    done = failure_create([])
    assert done.returncode == 2
    assert "--shared-secret" in done.stderr and "Traceback" not in done.stderr


def test_a_list_of_secrets_from_a_file_one_per_line(tmp_path: Path) -> None:
    data = failure_create(["--shared-secret", SECRET])
    packet = json.loads(data.stdout)["packet"]
    (tmp_path / "route").write_text(f"{SECRET}\n{SECRET[::-1]}\n")
    from_file = run("failure", "decrypt", packet, "--shared-secrets", f"@{tmp_path / 'route'}",
                    "--json")
    inline = run("failure", "decrypt", packet, "--shared-secrets", f"{SECRET},{SECRET[::-1]}",
                 "--json")
    assert from_file.returncode == inline.returncode == 0, from_file.stderr
    assert json.loads(from_file.stdout) == json.loads(inline.stdout)
    assert json.loads(inline.stdout)["hop_index"] == 0


@pytest.mark.parametrize("value", ["", "  ,  ", "12,34"])
def test_a_malformed_list_is_one_clean_error(value: str) -> None:
    done = run("failure", "decrypt", "00" * 292, "--shared-secrets", value)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def secret_options() -> list[tuple[str, argparse.Action]]:
    found = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}".strip())
            elif action.dest in SECRET_DESTS and action.option_strings:
                found.append((path, action))
    walk(build_parser(), "")
    return found


def test_every_secret_option_names_its_variable() -> None:
    options = secret_options()
    assert len(options) >= 12  # node, session and shared-secret options across the commands
    missing = [f"{path} {action.option_strings[0]}" for path, action in options
               if "$SPHINXAMP_" + action.dest.upper() not in (action.help or "")]
    assert missing == []
