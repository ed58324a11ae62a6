"""Automation agent: ``frames`` → the engine, in batches → ``automation-results``.

``cfg.engine_delay_s`` (``SHADOWQA_TEST_ENGINE_DELAY_S``; tests only, never set in a deployment) makes
the agent wait that many seconds per frame before the engine runs: a machine
slowed by other work, for the tests of ``pipeline run``'s stall window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from services.engine.annotate import annotate
from services.engine.loading import load_runner
from services.engine.runner import TorchRunner
from services.loop.messages import AutomationMessage, FrameMessage, InvalidMessage, decode, encode
from streams import metrics
from streams.config import PipelineConfig
from streams.errors import DeadLetters
from streams.topics import Topics


def register(app: Any, topics: Topics, dead: DeadLetters, cfg: PipelineConfig) -> Any:
    # loaded and warmed up before the worker reports ready: the first batch costs what the others do, and a run's
    # stall window never counts the model's loading as a stage that stopped
    runner = load_runner(cfg.model, cfg.device)
    runner.warm_up()
    inference = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")  # keeps the event loop free
    delay_s = cfg.engine_delay_s

    def model() -> TorchRunner:
        return runner

    @app.agent(topics.frames, name="automation")
    async def automation(stream: Any) -> None:
        loop = asyncio.get_running_loop()
        async for events in stream.take_events(cfg.batch_size, within=cfg.batch_within):
            good: list[tuple[Any, FrameMessage]] = []
            for event in events:
                try:
                    good.append((event, decode(FrameMessage, event.message.value)))
                except InvalidMessage as exc:
                    await dead.reject(event, exc.reason, "automation")
            if delay_s > 0:
                await asyncio.sleep(delay_s * len(good))  # the event loop stays free meanwhile
            try:
                results = await loop.run_in_executor(inference, _annotate, model, [f for _, f in good]) if good else []
            except Exception:  # find the frame(s) at fault: one at a time, dead-lettering those that fail
                results = []
                for event, frame in good:
                    one = await dead.guard([event], "automation",
                                           partial(loop.run_in_executor, inference, _annotate, model, [frame]))
                    results += one or []
            metrics.engine_results(results)
            for message in results:
                await topics.out.automation_results.send(key=message.frame_id.encode(), value=encode(message))
            await app.producer.flush()  # delivered before the batch's offsets can be committed

    return automation


def _annotate(model: Callable[[], TorchRunner], batch: list[FrameMessage]) -> list[AutomationMessage]:
    return annotate(model(), batch)
