"""Progress of a long-running tool as one line on stderr, rewritten in place on a terminal."""

from __future__ import annotations

import sys
from typing import TextIO


class ProgressLine:
    """Shows the latest status; on a terminal it overwrites itself, elsewhere it prints nothing until :meth:`done`."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self._shown = False

    def show(self, text: str) -> None:
        if self.live:
            self.stream.write(f"\r\033[K{text}")
            self.stream.flush()
            self._shown = True

    def done(self) -> None:
        """End the live line so the summary starts on a fresh one."""
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False
