"""A run's frames fed to Kafka in a background thread, watched by the thread that follows the run."""

from __future__ import annotations

import threading

from services.tools.feed import FeedSummary, feed_to_kafka


class FeedThread:
    """Feeds ``frames`` frames of ``source`` at ``rate``; ``sent`` so far, ``done`` once the thread has ended;
    :meth:`check` raises its error in the caller's thread."""

    def __init__(self, bootstrap: str, topic: str, source: str, frames: int, rate: float) -> None:
        self.sent: int = 0
        self.summary: FeedSummary | None = None
        self._failure: BaseException | None = None
        self._bootstrap, self._topic, self._source, self._frames, self._rate = bootstrap, topic, source, frames, rate
        self._thread = threading.Thread(target=self._run, name="feed", daemon=True)

    def start(self) -> FeedThread:
        self._thread.start()
        return self

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def check(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _run(self) -> None:
        try:
            self.summary = feed_to_kafka(self._source, bootstrap=self._bootstrap, topic=self._topic, rate=self._rate,
                                         progress=lambda p: setattr(self, "sent", p.sent))
            self.sent = self._frames
        except BaseException as exc:  # raised in the caller's thread by ``check``
            self._failure = exc
