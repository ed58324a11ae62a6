"""``shadowqa pipeline run`` on a terminal shows one live status line, redrawn in place and never wider than the
terminal (a wider one wraps, and each redraw then left a row behind: issue 17), then the usual summary. (With its
output on pipes it prints plain lines, no carriage return: tests/integration/test_run_reports.py checks that on its
streaming run.)"""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SHADOWQA = Path(sys.executable).with_name("shadowqa")
FRAMES = 150
ROWS, COLUMNS = 24, 80  # a summary line is wider: the status line must still fit
SAY_LINES = 4  # Kafka, database, topics, workers ready: the state changes printed above the status line
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _argv(report: Path) -> list[str]:
    return [str(SHADOWQA), "pipeline", "run", "--frames", str(FRAMES), "--report", str(report)]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("SHADOWQA_DATABASE_URL", None)  # the run's own SQLite file, in the report folder
    return env


def _run_on_a_terminal(argv: list[str]) -> tuple[int, str]:
    """Run ``argv`` with stdin, stdout and stderr on a pseudo-terminal of ROWS x COLUMNS; everything it wrote."""
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    process = subprocess.Popen(argv, stdin=follower, stdout=follower, stderr=follower, env=_env())
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: every writer has closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return process.wait(), b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")  # the tty's own \r\n


def _assert_summary(output: str, report: Path) -> None:
    assert re.search(rf"^frames in {FRAMES} \| engine {FRAMES} \| .*\| compared \d+", output, re.M), output[-3000:]
    for start in ("machine acceptance over all frames: ", "recommendation: ",
                  "offline replay of the snapshots: equal to the online "):
        assert re.search(rf"^{re.escape(start)}", output, re.M), f"no line starts with {start!r}:\n{output[-3000:]}"
    assert re.search(rf"^finished in \d+ s; report: {re.escape(str(report / 'report.html'))}$", output, re.M)


def test_on_a_terminal_the_status_is_one_line_redrawn_in_place(kafka_bootstrap: str, tmp_path: Path) -> None:
    report = tmp_path / "run"
    code, output = _run_on_a_terminal(_argv(report))
    assert code == 0, output[-3000:]
    _assert_summary(output, report)

    before_summary = output[:output.index("machine acceptance over all frames")]
    *lines, tally, _ = before_summary.split("\n")  # the run's own tally line opens the summary
    assert tally.startswith(f"frames in {FRAMES} |")
    assert len(lines) <= SAY_LINES + 1, f"one line per update, not one live line:\n{before_summary}"
    live = lines[SAY_LINES:]  # the status line: every redraw of it, then its last state kept
    assert [line for line in lines[:SAY_LINES] if "\r" in line] == [], before_summary
    redraws = [ESCAPE.sub("", part) for part in "".join(live).split("\r")]
    statuses = [part.rstrip() for part in redraws if part.strip()]
    assert len(statuses) >= 3, f"the status was not redrawn in place:\n{before_summary!r}"
    assert all(part.startswith("frames in ") for part in statuses), statuses
    assert max(len(part) for part in redraws) < COLUMNS, "a status wider than the terminal wraps onto new rows"
