"""An in-memory sink for the tools' unit tests (integration tests use the real broker)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class MemorySink:
    """Records what a tool sends, in order; ``flushes`` counts flushes."""

    sent: list[tuple[str, bytes | None, bytes]] = field(default_factory=list)
    flushes: int = 0

    def send(self, topic: str, key: bytes | None, value: bytes) -> None:
        self.sent.append((topic, key, value))

    def flush(self) -> None:
        self.flushes += 1

    def on(self, topic: str) -> list[tuple[bytes | None, bytes]]:
        return [(k, v) for t, k, v in self.sent if t == topic]
