"""faust's Monitor sensor without its per-record bookkeeping.

faust calls its Monitor four times per record (in, stream in, stream out, out)
to keep counters and timings that only its web views read; the workers run
without them (``web_enabled=False``) and report their own metrics
(``streams/metrics.py``). Offsets, commits and end offsets are still tracked.
"""

from __future__ import annotations

from typing import Any

from faust.sensors import Monitor


class QuietMonitor(Monitor):
    """A Monitor whose per-record hooks do nothing."""

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        pass

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> dict[str, Any] | None:
        return None

    def on_stream_event_out(self, tp: Any, offset: int, stream: Any, event: Any, state: Any = None) -> None:
        pass

    def on_message_out(self, tp: Any, offset: int, message: Any) -> None:
        pass
