"""Automation agent in chain mode: ``frames`` of clips → buffered per clip → the chain → ``automation-results``
and each step's output on ``automation-steps.<step>``.

A clip's frames arrive keyed by its clip id (one partition, in order) and wait in a keyed state topic
partitioned like ``frames`` (``streams/state.py``: one entry per frame, ``<clip id>#<frame index>``) until all
``clip_length`` of them are there; then the chain runs on the clip (the detect step reads the pixels from the
frames' references) and its messages are sent keyed by clip id. The clip's entries are then replaced by one
payload-free "done" entry (until the TTL), so a frame replayed after a crash is recognised and not buffered
again. Every change is flushed before the batch's offsets can be committed: a restart finds its buffers as
they were.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from services.engine.chain.spec import load_pipeline
from services.engine.chain.streaming import ClipChain, ClipPlace, ClipResult
from services.infra.topic_names import TopicNames
from services.loop.messages import FrameMessage, InvalidMessage, decode, encode
from streams import metrics
from streams.config import PipelineConfig
from streams.errors import DeadLetters
from streams.state import KeyedState
from streams.topics import Out, Topics

log = logging.getLogger(__name__)
EXPIRY_EVERY = 30.0  # seconds between scans for expired entries


def state_topic(names: TopicNames) -> str:
    return f"{names.prefix}shadowqa-automation-state"


def steps_of(pipeline: str) -> list[str]:
    """The step names of the chain ``pipeline`` (a spec file or ``builtin:`` name), in chain order."""
    return [s.name for s in load_pipeline(pipeline).steps]


@dataclass
class Batch:
    """What one batch of frames does to the buffers: the frames kept, and the clips it completed."""

    kept: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)  # (partition, key) -> frame doc
    complete: list[tuple[int, ClipPlace, Any]] = field(default_factory=list)  # partition, clip, completing event


def register(app: Any, names: TopicNames, topics: Topics, dead: DeadLetters, cfg: PipelineConfig,
             state: KeyedState) -> Any:
    assert cfg.pipeline is not None
    chain = ClipChain(load_pipeline(cfg.pipeline), device=cfg.device, batch_size=cfg.batch_size)
    step_out = {name: Out(app, names.step(name)) for name in chain.names}
    inference = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chain")  # keeps the event loop free
    last_scan = [time.time()]

    @app.on_partitions_revoked.connect
    async def forget(sender: Any, revoked: Any, **kwargs: Any) -> None:
        state.forget({tp.partition for tp in revoked if tp.topic == names.frames})

    @app.agent(topics.frames, name="automation")
    async def automation(stream: Any) -> None:
        loop = asyncio.get_running_loop()
        async for events in stream.take_events(cfg.batch_size, within=cfg.batch_within):
            now = time.time()
            await state.ensure_loaded({e.message.partition for e in events})
            batch = await _buffer(events, state, dead)
            for (partition, key), doc in batch.kept.items():
                await state.put(partition, key, doc)
            if cfg.engine_delay_s > 0:
                await asyncio.sleep(cfg.engine_delay_s * len(batch.kept))
            for partition, place, event in batch.complete:
                clip = _frames(state, partition, place)
                results = await dead.guard([event], "automation",
                                           partial(loop.run_in_executor, inference, _runner(chain, [clip], now)))
                for result in results or []:
                    metrics.clip_result(result.message)
                    await _send(topics, step_out, result)
                await _settle(state, partition, place, now)
            if now - last_scan[0] > EXPIRY_EVERY:
                last_scan[0] = now
                await _expire(state, now, cfg.loop.pending_ttl)
            await app.producer.flush()  # results, step outputs and buffers delivered before offsets are committed

    return automation


async def _buffer(events: list[Any], state: KeyedState, dead: DeadLetters) -> Batch:
    """Keep each frame of ``events`` in its clip's buffer (in memory: the caller writes them); a frame that is not
    a clip's is dead-lettered, one of a clip already done (a replay) is dropped."""
    batch = Batch()
    for event in events:
        try:
            frame = decode(FrameMessage, event.message.value)
            place = ClipPlace.of(frame)
        except InvalidMessage as exc:
            await dead.reject(event, exc.reason, "automation")
            continue
        except ValueError as exc:
            await dead.reject(event, f"meta: {exc}", "automation")
            continue
        partition = event.message.partition
        if state.get(partition, place.clip_id) is not None:
            continue  # the clip was run: a replayed frame
        batch.kept[(partition, _key(place, place.frame_index))] = {"since": time.time(), "frame": frame.model_dump(
            mode="json", by_alias=True)}
        if all(_held(state, batch, partition, place, k) for k in range(place.clip_length)) \
                and not any(p == partition and c.clip_id == place.clip_id for p, c, _ in batch.complete):
            batch.complete.append((partition, place, event))
    return batch


def _held(state: KeyedState, batch: Batch, partition: int, place: ClipPlace, k: int) -> bool:
    key = _key(place, k)
    return (partition, key) in batch.kept or state.get(partition, key) is not None


def _key(place: ClipPlace, k: int) -> str:
    return f"{place.clip_id}#{k}"


def _frames(state: KeyedState, partition: int, place: ClipPlace) -> list[FrameMessage]:
    return [FrameMessage.model_validate(state.get(partition, _key(place, k))["frame"])
            for k in range(place.clip_length)]


def _runner(chain: ClipChain, clips: list[list[FrameMessage]], now: float) -> Callable[[], list[ClipResult]]:
    return lambda: chain.run(clips, now)


async def _send(topics: Topics, step_out: dict[str, Out], result: ClipResult) -> None:
    key = result.message.frame_id.encode()
    await topics.out.automation_results.send(key=key, value=encode(result.message))
    for name, message in result.steps:
        await step_out[name].send(key=key, value=encode(message))


async def _settle(state: KeyedState, partition: int, place: ClipPlace, now: float) -> None:
    """The clip's frames are dropped from the buffer; a payload-free entry marks the clip done until the TTL."""
    await state.put(partition, place.clip_id, {"since": now, "done": True})
    for k in range(place.clip_length):
        await state.delete(partition, _key(place, k))


async def _expire(state: KeyedState, now: float, ttl: float) -> None:
    """Drop entries older than ``ttl``: done clips (a replay can no longer reach them) and frames of clips that
    never completed (counted in the log)."""
    stale = 0
    for partition, key, doc in state.items():
        if now - doc["since"] > ttl:
            await state.delete(partition, key)
            stale += int("frame" in doc)
    if stale:
        log.warning("automation: %d buffered frames of incomplete clips expired", stale)
