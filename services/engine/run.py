"""Running a model over a whole frame source in batches, with progress and a failure count."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from tqdm import tqdm

from services.engine.frames import Frame
from services.engine.results import AutomationResult
from services.engine.runner import TorchRunner


@dataclass(frozen=True)
class RunReport:
    results: list[AutomationResult]
    seconds: float
    categories: tuple[tuple[int, str], ...] = ()  # the model's (id, name) pairs, for scoring by name

    @property
    def failed(self) -> list[AutomationResult]:
        return [r for r in self.results if not r.ok]

    @property
    def frames_per_second(self) -> float:
        return len(self.results) / self.seconds if self.seconds > 0 else float("nan")


def batches(frames: Iterable[Frame], size: int) -> Iterator[list[Frame]]:
    it = iter(frames)
    while chunk := list(islice(it, size)):
        yield chunk


def run_frames(
    runner: TorchRunner, frames: Iterable[Frame], *, batch_size: int = 16, total: int | None = None,
    progress: bool = False,
) -> RunReport:
    """Every frame's result in order; failures are results with an error, never exceptions."""
    results: list[AutomationResult] = []
    start = time.perf_counter()
    with tqdm(total=total, disable=not progress, unit="frame", desc=runner.spec.name, leave=False) as bar:
        for chunk in batches(frames, batch_size):
            results.extend(runner.infer(chunk))
            bar.update(len(chunk))
    return RunReport(results, time.perf_counter() - start, runner.spec.categories)
