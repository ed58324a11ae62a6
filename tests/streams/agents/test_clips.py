"""The chain-mode automation agent's clip buffers: a clip is complete once, when all its frames are held (across
batches and partial replays), a frame of a clip already run is dropped, and a frame that names no clip is
dead-lettered. In memory: the state topic and the dead-letter topic are recorders."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from services.engine.chain.streaming import ClipPlace
from services.loop.messages import encode
from services.tools.feed import frame_message, plan
from streams.agents.clips import _buffer, _settle
from streams.errors import DeadLetters
from streams.state import KeyedState

SOURCE = plan("synthetic://driving-seq?seed=1&clips=2&length=4")


@dataclass
class Recorder:
    sent: list[tuple[bytes | None, bytes | None]] = field(default_factory=list)

    async def send(self, *, key: bytes | None, value: bytes | None, partition: int | None = None) -> None:
        self.sent.append((key, value))


def _event(value: bytes, partition: int = 0) -> Any:
    return SimpleNamespace(message=SimpleNamespace(value=value, partition=partition, topic="frames", offset=0,
                                                   key=b"k"))


def _frames(*indices: int) -> list[Any]:
    return [_event(encode(frame_message(SOURCE.frames[i], SOURCE.source, 1.0))) for i in indices]


def _state() -> KeyedState:
    state = KeyedState("unused:9092", "state", Recorder())
    state.partitions[0] = {}
    return state


def _batch(state: KeyedState, events: list[Any], dead: DeadLetters) -> list[str]:
    """Buffer ``events`` as the agent does (the kept frames written to the state), the clips they complete."""
    batch = asyncio.run(_buffer(events, state, dead))
    for (partition, key), doc in batch.kept.items():
        asyncio.run(state.put(partition, key, doc))
    return [place.clip_id for _, place, _ in batch.complete]


def test_a_clip_is_complete_once_its_frames_have_arrived_across_batches_and_replays() -> None:
    state, dead = _state(), DeadLetters(Recorder())
    assert _batch(state, _frames(0, 1), dead) == []
    assert _batch(state, _frames(1, 2, 4), dead) == [], "a replayed frame is held once"
    assert _batch(state, _frames(3, 0, 5), dead) == ["clip-1"], "complete once, a duplicate after it too"
    asyncio.run(_settle(state, 0, ClipPlace(video_id=1, frame_index=3, clip_length=4), 2.0))  # the chain ran it
    assert sorted(state.partitions[0]) == ["clip-1", "clip-2#0", "clip-2#1"]
    assert _batch(state, _frames(0, 1, 2, 3), dead) == [], "a clip already run: its replayed frames are dropped"
    assert sorted(state.partitions[0]) == ["clip-1", "clip-2#0", "clip-2#1"]
    assert _batch(state, _frames(6, 7), dead) == ["clip-2"] and dead.total == 0


def test_a_frame_that_names_no_clip_is_dead_lettered() -> None:
    state, letters = _state(), Recorder()
    dead = DeadLetters(letters)
    frame = frame_message(plan("synthetic://driving?seed=0&n=1").frames[0], "s", 1.0)
    assert _batch(state, [_event(encode(frame)), _event(b"not json")], dead) == []
    assert dead.total == 2 and state.partitions[0] == {}
    assert b"meta: a clip's frame needs integer meta video_id, frame_index, clip_length" in letters.sent[0][1]
