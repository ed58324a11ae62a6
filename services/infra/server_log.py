"""A detached server's log, one per start (see :func:`services.infra.process.start_logged`): what the latest start
wrote, and the line of it that says what went wrong, for one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

MAX_LINE = 300  # of a log line quoted in a one-line error


def latest_output(log: Path, header: str) -> str | None:
    """The log's text since the latest ``header`` (the rest of the header's line first); None if it is unreadable."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return text.rpartition(header)[2]


def problem_line(lines: list[str], problem: re.Pattern[str]) -> str | None:
    """The last line ``problem`` matches, indented ones (stack frames) excluded, shortened for one-line messages."""
    for line in reversed(lines):
        if line.strip() and not line[:1].isspace() and problem.search(line):
            return shorten(line.strip())
    return None


def shorten(line: str, limit: int = MAX_LINE) -> str:
    """``line`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return line if len(line) <= limit else line[: limit - 1] + "…"
