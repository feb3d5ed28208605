"""Helpers shared by the tests that run the command line in a subprocess."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

TIMEOUT_S = 300


def run_cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m texstyle ARGS`` in ``cwd``; one OpenMP thread so parallel test processes on a
    small machine do not slow each other down by an order of magnitude."""
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "texstyle", *map(str, args)],
        cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, env=env,
    )


def stderr_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.strip()]


def assert_usage_error(proc: subprocess.CompletedProcess[str], *patterns: str) -> str:
    """Exit 2, exactly one non-empty stderr line, no traceback; the line matches every pattern."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = stderr_lines(proc)
    assert len(lines) == 1, proc.stderr
    message = lines[0]
    assert "error" in message.lower(), message
    for pattern in patterns:
        assert re.search(pattern, message, re.IGNORECASE), (pattern, message)
    return message


def assert_one_line_error(code: int, capsys, *patterns: str) -> str:
    """``texstyle.cli.main`` run in-process (no start-up cost): the same contract as
    ``assert_usage_error``, read from pytest's ``capsys``."""
    err = capsys.readouterr().err
    proc = subprocess.CompletedProcess([], code, "", err)
    return assert_usage_error(proc, *patterns)


def run_main(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``texstyle.cli.main(ARGS)`` in this process, in ``cwd``: what ``run_cli`` returns, without
    the interpreter start-up (about 2.5 s of importing torch) that a message check does not need.

    An exception that ``main`` lets escape is not caught: the test fails with its traceback.
    """
    from texstyle.cli import main

    out, err = io.StringIO(), io.StringIO()
    before = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:  # argparse: --help, usage errors
                code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    finally:
        os.chdir(before)
    return subprocess.CompletedProcess(list(map(str, args)), code, out.getvalue(), err.getvalue())
