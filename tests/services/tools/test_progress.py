"""The status line of the long-running tools: redrawn in place within the terminal's width, lines printed meanwhile
above it; plain lines at most every ``every_s`` when stderr is not a terminal."""

from __future__ import annotations

import io
import sys

import pytest

from services.tools.progress import FALLBACK_COLUMNS, ProgressLine

LONG = "frames in 4,000 | engine 2,493 | shipped 329 | queued 2,164 | annotated 1,809 | compared 1,809 | " \
       "acceptance 0.566 [0.541, 0.592] n=1651 | recommend 33% (hold)"


class Terminal(io.StringIO):
    """A terminal that does not report its size (the line falls back to FALLBACK_COLUMNS)."""

    def isatty(self) -> bool:
        return True


def _redraws(written: str) -> list[str]:
    return [part for part in written.replace("\n", "\r").split("\r") if part.strip()]


def test_a_status_wider_than_the_terminal_is_cut_to_fit() -> None:
    terminal = Terminal()
    line = ProgressLine(terminal)
    for k in range(5):
        line.show(f"{k} {LONG}")
    assert "\n" not in terminal.getvalue()  # redrawn in place: no new row while it runs
    line.done()
    assert terminal.getvalue().endswith("\n")
    redraws = _redraws(terminal.getvalue())
    assert [r[0] for r in redraws] == ["0", "1", "2", "3", "4", "4"]  # each update, then the last one kept
    assert max(len(r) for r in redraws) == FALLBACK_COLUMNS - 1


def test_lines_printed_while_it_shows_go_above_it(capsys: pytest.CaptureFixture[str]) -> None:
    terminal = Terminal()
    with ProgressLine(terminal) as line:
        line.show("frames in 10")
        print("workers ready")
        print("a warning, in two", end=" ", file=sys.stderr)
        print("writes", file=sys.stderr)
        print("left without a newline", end="")
        line.show("frames in 20")
    out, err = capsys.readouterr()
    assert (out, err) == ("workers ready\nleft without a newline", "a warning, in two writes\n")
    blank = " " * len("frames in 10")  # the status cleared for a line above it, then drawn again
    assert [part for part in terminal.getvalue().split("\r") if part] == [
        "frames in 10", blank, "frames in 10", blank, "frames in 10", "frames in 20", "frames in 20\n"]


@pytest.mark.parametrize(("every_s", "times", "printed"), [
    (None, [0.0, 1.0, 9.0], []),                    # feed, simulate, snapshot: nothing but their summary
    (5.0, [0.0, 1.0, 4.9, 5.0, 6.0, 12.0], [0, 3, 5]),  # pipeline run: the first, then at most one a 5 s
])
def test_without_a_terminal_the_status_is_a_plain_line_now_and_then(
    every_s: float | None, times: list[float], printed: list[int], capsys: pytest.CaptureFixture[str],
) -> None:
    clock = iter(times)
    stream = io.StringIO()
    with ProgressLine(stream, every_s=every_s, clock=lambda: next(clock)) as line:
        assert not line.live
        for k, _ in enumerate(times):
            line.show(f"status {k}")
    assert stream.getvalue() == ""
    assert capsys.readouterr().out == "".join(f"status {k}\n" for k in printed)
