"""A worker's log through a broker outage: one line when the broker is lost, one when it answers again.

While the broker is away, aiokafka, kafka-python and faust retry every few
milliseconds and log each failed connection, metadata update, fetch, heartbeat
and commit: thousands of lines a minute per worker, burying everything else.
:class:`QuietFilter`, on the worker's log handlers, lets the first of those
records through as one WARNING line::

    broker lost at 12:03:04 (Unable connect to node with id 1: [Errno 111] Connect call failed ...); ...

counts the rest without writing them, and once the broker answers again (a
probe every PROBE_S, :func:`services.infra.client.answers_requests`), the
clients have been quiet for SETTLE_S (a restarted broker first re-elects its
leaders and reloads its groups, which the clients also log) and every witness
(a client that reconnects on its own schedule: the lag reporter) has worked
again, writes::

    broker reconnected after 38.2 s, 4,346 retries/errors suppressed

If the broker stays away (does not answer), a line every REMIND_S says so,
with the latest error; once it answers, the outage ends within SETTLE_MAX_S.
Which records belong to an outage is :func:`classify`'s table: only records of
the Kafka clients and faust (the ``BROKER_LOGGERS``) that say the broker cannot
be reached start one; while one lasts, their retry chatter is counted too.
Every other record, errors included, is logged as before, also during an
outage: a database error or a failed agent is never hidden.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum

from services.infra.client import addresses, answers_requests

log = logging.getLogger(__name__)
PROBE_S = 0.5  # between checks whether the broker answers again, during an outage only
PROBE_TIMEOUT_S = 2.0
SETTLE_S = 3.0  # the clients quiet this long after the broker answered: the outage is over
SETTLE_MAX_S = 30.0  # the broker answered this long ago: over, even if the clients still complain (they show again)
REMIND_S = 60.0  # during a long outage, a line this often
SUMMARY_CHARS = 200
_SHOWN = "quiet_logs_shown"  # the filter's decision, kept on the record

# the Kafka clients and the lag reporter: while the broker is away, whatever they say below ERROR is about it
CLIENT_LOGGERS = ("aiokafka", "kafka", "streams.lag")
BROKER_LOGGERS = (*CLIENT_LOGGERS, "faust", "mode")
# the broker cannot be reached (exception names as the clients write them, and their own phrases)
_LOST = re.compile(r"ConnectionError|NodeNotReady|RequestTimedOut|KafkaTimeoutError|NoBrokersAvailable|"
                   r"Unable (to )?connect|Connect call failed|Connection (refused|reset|lost|failed)|"
                   r"socket disconnected|not connected|Broken ?pipe|unreachable|No route to host|"
                   r"Unable to update metadata|Metadata refresh: failed|Bootstrap \w+ (to|failed)")
# what the clients say about the group, leaders and retries while the broker is away or just back
_CLIENT_CHURN = re.compile(r"heartbeat|coordinator|NotLeader|LeaderNotAvailable|GroupLoadInProgress|"
                           r"produce response|No node available|timed out", re.IGNORECASE)
# faust's and mode's complaints that follow from it: no fetches, no commits, a timer that waited on them
_FRAMEWORK_CHURN = re.compile(r"Aiokafka (has not|stopped)|Broker stopped responding|Has not committed|"
                              r"Highwater not yet available|Timer \S+ is overlapping")


class Kind(Enum):
    OTHER = "other"  # logged as usual, always
    LOST = "lost"  # the broker cannot be reached: starts an outage, or is counted in one
    CHURN = "churn"  # retries and re-elections: counted during an outage, logged as usual otherwise


def classify(logger: str, level: int, text: str, *, exception: bool = False) -> Kind:
    """What a log record of ``logger`` at ``level`` saying ``text`` (message and exception) tells of the broker.

    A record of faust or mode that carries an exception (``exception``) reports a crash or a failed task, whatever
    caused it: it always shows.
    """
    if not _under(logger, BROKER_LOGGERS) or (exception and not _under(logger, CLIENT_LOGGERS)):
        return Kind.OTHER
    if _LOST.search(text):
        return Kind.LOST
    if _under(logger, CLIENT_LOGGERS) and (level < logging.ERROR or _CLIENT_CHURN.search(text)):
        return Kind.CHURN
    return Kind.CHURN if _FRAMEWORK_CHURN.search(text) else Kind.OTHER


def _under(logger: str, prefixes: Iterable[str]) -> bool:
    return any(logger == p or logger.startswith(f"{p}.") for p in prefixes)


@dataclass
class _Away:
    since: float  # clock readings
    noise_at: float
    reminded_at: float
    latest: str
    suppressed: int = 0
    answered_at: float | None = None


class OutageLog:
    """Whether a worker's broker is away, from its log records and probes; the lines that say so.

    Not thread-safe on its own (:class:`QuietFilter` holds a lock); ``clock`` is monotonic seconds.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, settle_s: float = SETTLE_S,
                 settle_max_s: float = SETTLE_MAX_S, remind_s: float = REMIND_S) -> None:
        self._clock, self.settle_s, self.settle_max_s, self.remind_s = clock, settle_s, settle_max_s, remind_s
        self._away: _Away | None = None
        self._witnessed: list[float] = []  # per witness, the clock reading of its latest success

    def add_witness(self) -> int:
        """Register a client whose success must follow an outage's start before the outage ends; its number."""
        self._witnessed.append(-math.inf)
        return len(self._witnessed) - 1

    def witnessed(self, witness: int) -> None:
        """Witness number ``witness`` worked just now (e.g. the lag reporter read the lag)."""
        self._witnessed[witness] = self._clock()

    @property
    def away(self) -> bool:
        return self._away is not None

    def record(self, kind: Kind, summary: str, created: float) -> tuple[bool, str | None]:
        """Whether to log a record of ``kind`` (created at ``created``, epoch seconds), and a line to log first."""
        if kind is Kind.OTHER or (self._away is None and kind is Kind.CHURN):
            return True, None
        now = self._clock()
        if self._away is None:
            self._away = _Away(since=now, noise_at=now, reminded_at=now, latest=summary)
            at = time.strftime("%H:%M:%S", time.localtime(created))
            return False, (f"broker lost at {at} ({summary}); the clients' retries and errors are counted, not "
                           "logged, until it answers again")
        self._away.suppressed += 1
        self._away.noise_at = now
        if kind is Kind.LOST:
            self._away.latest = summary
        return False, None

    def probe(self, answers: bool) -> str | None:
        """Take a probe's result (the broker answers or not); a line to log, if this ends the outage or reminds."""
        away, now = self._away, self._clock()
        if away is None:
            return None
        away.answered_at = (away.answered_at or now) if answers else None
        if away.answered_at is not None and self._over(away, away.answered_at, now):
            self._away = None
            return (f"broker reconnected after {away.answered_at - away.since:.1f} s, {away.suppressed:,} "
                    "retries/errors suppressed")
        if away.answered_at is not None or now - away.reminded_at < self.remind_s:  # answering: settles soon
            return None
        away.reminded_at = now
        return (f"broker still away after {now - away.since:.0f} s, {away.suppressed:,} retries/errors suppressed "
                f"so far (latest: {away.latest})")


    def _over(self, away: _Away, answered_at: float, now: float) -> bool:
        settled = now - away.noise_at >= self.settle_s and all(seen > away.since for seen in self._witnessed)
        return settled or now - answered_at >= self.settle_max_s


def _text(record: logging.LogRecord) -> str:
    try:
        text = record.getMessage()
    except (TypeError, ValueError):  # arguments that do not fit: the handler reports those itself
        text = str(record.msg)
    if record.exc_info and record.exc_info[1] is not None:
        text += f" {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
    return text


def _summary(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= SUMMARY_CHARS else first[:SUMMARY_CHARS - 1] + "…"


class QuietFilter(logging.Filter):
    """A handler filter applying an :class:`OutageLog` to each record; one instance may sit on several handlers."""

    def __init__(self, outage: OutageLog, say: Callable[[str], None] = log.warning) -> None:
        super().__init__()
        self.outage, self._say = outage, say
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if not _under(record.name, BROKER_LOGGERS):  # most records: no message formatted here
            return True
        decided = record.__dict__.get(_SHOWN)  # the same record on a second handler
        if decided is not None:
            return bool(decided)
        text = _text(record)
        kind = classify(record.name, record.levelno, text, exception=bool(record.exc_info))
        with self._lock:
            shown, line = self.outage.record(kind, _summary(text), record.created)
        record.__dict__[_SHOWN] = shown
        if line is not None:  # outside the lock: the line passes through this filter too
            self._say(line)
        return shown

    def witness(self) -> Callable[[], None]:
        """A callback for a client that reconnects on its own schedule, to call whenever it worked: an outage ends
        only once it was called after the outage began (:meth:`OutageLog.add_witness`)."""
        with self._lock:
            number = self.outage.add_witness()

        def worked() -> None:
            with self._lock:
                self.outage.witnessed(number)
        return worked

    def probe(self, answers: Callable[[], bool]) -> None:
        """During an outage, ask ``answers`` whether the broker answers and log what that changes."""
        with self._lock:
            if not self.outage.away:
                return
        result = answers()  # outside the lock: records keep flowing while the probe waits
        with self._lock:
            line = self.outage.probe(result)
        if line is not None:
            self._say(line)


class QuietLogs:
    """A worker's :class:`QuietFilter`, with a daemon thread probing ``bootstrap`` during outages."""

    def __init__(self, bootstrap: str, *, probe_s: float = PROBE_S, outage: OutageLog | None = None,
                 say: Callable[[str], None] = log.warning) -> None:
        self.filter, self.handlers = QuietFilter(outage or OutageLog(), say), list[logging.Handler]()
        self.bootstrap, self._probe_s = bootstrap, probe_s
        self.witness = self.filter.witness
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="quiet-logs-probe", daemon=True)

    def start(self, handlers: Iterable[logging.Handler]) -> QuietLogs:
        """Filter what ``handlers`` write (the root logger's, once logging is configured) and start probing."""
        self.handlers = list(handlers)
        for handler in self.handlers:
            handler.addFilter(self.filter)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self._probe_s + PROBE_TIMEOUT_S * len(addresses(self.bootstrap)))
        for handler in self.handlers:
            handler.removeFilter(self.filter)

    def _run(self) -> None:
        while not self._stop.wait(self._probe_s):
            self.filter.probe(lambda: answers_requests(self.bootstrap, PROBE_TIMEOUT_S))
