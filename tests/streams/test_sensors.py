"""The workers' faust Monitor: no per-record bookkeeping, the rest of faust's Monitor as it is."""

from __future__ import annotations

from types import SimpleNamespace

from faust.types import TP

from streams.sensors import QuietMonitor


def test_the_per_record_hooks_keep_nothing() -> None:
    monitor, tp, message = QuietMonitor(), TP("t", 0), SimpleNamespace(time_in=None)
    monitor.on_message_in(tp, 7, message)
    state = monitor.on_stream_event_in(tp, 7, object(), object())
    monitor.on_stream_event_out(tp, 7, object(), object(), state)
    monitor.on_message_out(tp, 7, message)
    assert (monitor.messages_received_total, monitor.events_total, monitor.messages_active) == (0, 0, 0)
    assert state is None and message.time_in is None and not monitor.tp_read_offsets


def test_offsets_are_still_tracked() -> None:
    monitor = QuietMonitor()
    monitor.track_tp_end_offset(TP("t", 0), 42)
    assert monitor.tp_end_offsets[TP("t", 0)] == 42
