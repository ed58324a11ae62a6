"""Where a pipeline benchmark's worker processes spend their CPU: CPU seconds per process, and py-spy profiles.

CPU time is read from the kernel (psutil: user + system, the process and its
children) when a worker is ready and when the run ends, so a worker's figure is
what it spent on the run's records (plus its idle polling meanwhile), not its
start-up. Profiles are py-spy samples of each running worker (``py-spy record
--nonblocking``: the worker is not paused), read as self and cumulative shares
of the samples taken while it was busy.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil  # type: ignore[import-untyped, unused-ignore]

from benchmarks.harness import ROOT

IDLE = ("EpollSelector.select ", "select ", "Condition.wait ", "Event.wait ", "Thread.join ",
        "_wait_for_tstate_lock ", "Connection.wait (psycopg/")  # the last: a thread waiting for PostgreSQL


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its children so far (0 once it is gone)."""
    try:
        t = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return float(t.user + t.system + t.children_user + t.children_system)


@dataclass
class CpuMeter:
    """CPU seconds of named processes between :meth:`begin` (each its own moment) and :meth:`end`."""

    pids: dict[str, int] = field(default_factory=dict)
    start: dict[str, float] = field(default_factory=dict)
    spent: dict[str, float] = field(default_factory=dict)

    def begin(self, name: str, pid: int) -> None:
        self.pids[name], self.start[name] = pid, cpu_seconds(pid)

    def end(self, name: str) -> None:
        self.spent[name] = cpu_seconds(self.pids[name]) - self.start[name]


def py_spy() -> str | None:
    """The py-spy executable beside this interpreter or on PATH (None: no profiles)."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


@contextlib.contextmanager
def profiling(pids: dict[str, int], out: Path, rate: int = 100) -> Iterator[dict[str, Path]]:
    """py-spy recording each of ``pids`` (name -> pid) into ``out/<name>.collapsed`` until the block ends."""
    exe = py_spy()
    if exe is None:
        raise RuntimeError("py-spy is not installed (pip install py-spy)")
    out.mkdir(parents=True, exist_ok=True)
    files = {name: out / f"{name}.collapsed" for name in pids}
    spies = [subprocess.Popen([exe, "record", "--pid", str(pid), "--rate", str(rate), "--nonblocking",
                               "--function", "--format", "raw", "--output", str(files[name])],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for name, pid in pids.items()]
    try:
        yield files
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)
        for spy in spies:
            try:
                spy.wait(timeout=30)
            except subprocess.TimeoutExpired:
                spy.kill()
                spy.wait()


@dataclass(frozen=True)
class Profile:
    """Sample counts of one process: in total, per function as the leaf (self), per function on the stack."""

    samples: int
    self_: Counter[str]
    cumulative: Counter[str]
    kinds: Counter[str]  # samples per kind of work (:data:`KINDS`)

    @classmethod
    def read(cls, collapsed: str) -> Profile:
        """From py-spy's raw (collapsed stack) output: ``frame;frame;...;leaf COUNT`` per line."""
        total, own, cum, kinds = 0, Counter[str](), Counter[str](), Counter[str]()
        for line in collapsed.splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            frames = [_short(f) for f in stack.split(";")[1:]]  # the first frame names the thread
            if not frames or frames[-1].startswith(IDLE):  # waiting for I/O (py-spy cannot tell when nonblocking)
                continue
            total += n
            own[frames[-1]] += n
            for f in set(frames):
                cum[f] += n
            kinds[_kind(frames)] += n
        return cls(total, own, cum, kinds)

    def breakdown(self) -> list[tuple[str, float]]:
        """Share of the busy samples per kind of work, in :data:`KINDS` order."""
        return [(kind, self.kinds[kind] / self.samples) for kind, _ in KINDS if self.kinds[kind]] + \
            ([(OTHER, self.kinds[OTHER] / self.samples)] if self.kinds[OTHER] else [])

    def top(self, by: str, n: int) -> list[tuple[str, float]]:
        counts = self.self_ if by == "self" else self.cumulative
        return [(f, c / self.samples) for f, c in counts.most_common(n)] if self.samples else []

    def text(self, n: int = 40) -> str:
        lines = [f"{self.samples} samples while busy (waits in select/wait/join left out)", "", "share %  kind of work"]
        lines += [f"{share * 100:6.1f}  {kind}" for kind, share in self.breakdown()]
        lines += ["", "self %  function"]
        lines += [f"{share * 100:6.1f}  {f}" for f, share in self.top("self", n)]
        lines += ["", "cumulative %  function"]
        lines += [f"{share * 100:6.1f}  {f}" for f, share in self.top("cumulative", n)]
        return "\n".join(lines) + "\n"


# what a sample was doing, by the first rule (in order) matching a frame of its stack
KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("message validation (decode/encode)", ("messages/codec.py",)),
    ("database writes", ("services/db/",)),
    ("comparing frames", ("services/loop/compare.py",)),
    ("statistics and recommender", ("services/loop/aggregation.py",)),
    ("routing", ("services/loop/routing.py", "RecentFrames")),
    ("producing (aiokafka producer, our sends)", ("Out.send", "KeyedState.put", "producer/", "Producer.")),
    ("consuming (aiokafka fetcher, faust's consumer thread, conductor, stream, take_events)",
     ("aiokafka/consumer", "Fetcher", "Conductor", "Consumer.", "Stream.", "streams.py", "conductor.py")),
)
OTHER = "other (event loop, timers, our agents' own code)"


def _kind(frames: list[str]) -> str:
    for kind, marks in KINDS:
        if any(mark in f for f in frames for mark in marks):
            return kind
    return OTHER


def _short(frame: str) -> str:
    """``func (path/to/site-packages/pkg/mod.py)`` -> ``func (pkg/mod.py)``; project files relative to the repo."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", f"{ROOT}/", "lib/python3."):
        if marker in where:
            where = where.split(marker, 1)[1]
            where = where.split("/", 1)[1] if marker == "lib/python3." else where
            break
    return f"{name} ({where})" if where else name
