"""Progress of a long-running tool: one status line on a terminal, redrawn in place; plain lines elsewhere.

On a terminal (stderr a tty) the status is a tqdm line on stderr, cut to the terminal's width at every redraw: a
longer line would wrap, and a carriage return rewrites only the last row of a wrapped line, so each update would
leave a row behind (issue 17: hundreds of lines for one ``make demo``). Inside ``with ProgressLine() as line:``
whatever the process prints meanwhile, to stdout or stderr and from any thread (the steps of a run, a broker
outage, a warning), is written above the status line. Elsewhere (a pipe, a file, CI) nothing is redrawn: with
``every_s`` the status is printed as a plain line on stdout at most that often, else not at all.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # tqdm loads with the first status line, not while a command line is parsed
    from tqdm import tqdm

FALLBACK_COLUMNS = 80  # a terminal that reports no size (a fresh pseudo-terminal says 0 columns)


class ProgressLine:
    """The latest status of a tool: a live line on a terminal, periodic plain lines (``every_s``) elsewhere."""

    def __init__(self, stream: TextIO | None = None, *, every_s: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.every_s, self._clock = every_s, clock
        self._bar: tqdm[Any] | None = None
        self._printed_at: float | None = None
        self._redirect: contextlib.ExitStack | None = None
        self._above: list[_Above] = []
        self._lock = threading.Lock()  # a redraw and a line written above it, from different threads, never mix

    def __enter__(self) -> ProgressLine:
        if self.live:
            self._redirect = contextlib.ExitStack()
            self._above = [_Above(self, sys.stdout), _Above(self, sys.stderr)]
            self._redirect.enter_context(contextlib.redirect_stdout(self._above[0]))
            self._redirect.enter_context(contextlib.redirect_stderr(self._above[1]))
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.done()

    def show(self, text: str) -> None:
        """Make ``text`` the status: redraw the live line, or print it if ``every_s`` has passed since the last."""
        if self.live:
            with self._lock:
                bar = self._open() if self._bar is None else self._bar
                bar.ncols = self.width()
                bar.set_description_str(text, refresh=True)
        elif self.every_s is not None:
            now = self._clock()
            if self._printed_at is None or now - self._printed_at >= self.every_s:
                self._printed_at = now
                print(text, flush=True)

    def above(self, text: str, target: TextIO) -> None:
        """Write ``text`` (whole lines) to ``target`` above the live line, which is then drawn again below it."""
        with self._lock:
            if self._bar is not None:
                self._bar.clear()
            target.write(text)
            target.flush()
            if self._bar is not None:
                self._bar.refresh()

    def done(self) -> None:
        """End the live line (its last status stays) so the summary starts on a fresh one; stop writing above it."""
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
        if self._redirect is not None:
            self._redirect.close()
            self._redirect = None
        for above in self._above:
            above.drain()
        self._above = []

    def width(self) -> int:
        """Columns the status may take: one less than the terminal has now (a row filled to its last column wraps
        on some terminals), FALLBACK_COLUMNS - 1 when the terminal does not say."""
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            columns = 0
        return (columns or FALLBACK_COLUMNS) - 1

    def _open(self) -> tqdm[Any]:
        from tqdm import tqdm

        self._bar = tqdm(file=self.stream, bar_format="{desc}", ncols=self.width(), leave=True, mininterval=0)
        return self._bar


class _Above(io.TextIOBase):
    """Stands in for stdout or stderr while a live line shows: whole lines go above it, a partial one waits."""

    def __init__(self, line: ProgressLine, target: TextIO) -> None:
        super().__init__()
        self._line, self._target = line, target
        self._pending = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            complete, newline, self._pending = (self._pending + text).rpartition("\n")
            if newline:
                self._line.above(complete + newline, self._target)
        return len(text)

    def drain(self) -> None:
        """Write what is left of a partial line, once the live line has ended."""
        with self._lock:
            if self._pending:
                self._target.write(self._pending)
                self._target.flush()
                self._pending = ""

    def isatty(self) -> bool:
        return self._target.isatty()

    def fileno(self) -> int:
        return self._target.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._target.encoding
