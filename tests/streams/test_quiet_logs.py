"""A broker outage in a worker's log: which records belong to it (a table of real lines), and the two lines a burst
of them becomes, through real loggers and handlers."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator

import pytest

from streams.quiet_logs import REMIND_S, SETTLE_MAX_S, SETTLE_S, Kind, OutageLog, QuietFilter, QuietLogs, classify
from tests.services.infra.fakes import api_versions_broker

ERROR, WARNING, INFO = logging.ERROR, logging.WARNING, logging.INFO
REFUSED = "Unable connect to node with id 1: [Errno 111] Connect call failed ('127.0.0.1', 9092)"
BURST = 3000


@pytest.mark.parametrize(("logger", "level", "text", "kind"), [
    ("aiokafka.client", ERROR, REFUSED, Kind.LOST),
    ("aiokafka.client", ERROR, "Unable to update metadata from [1]", Kind.LOST),
    ("aiokafka.consumer.fetcher", ERROR, "Failed fetch messages from 1: NodeNotReadyError: Attempt to send a "
     "request to node which is not ready (node id 1).", Kind.LOST),
    ("aiokafka.consumer.fetcher", ERROR, "Failed fetch messages from 1: KafkaConnectionError: Connection at "
     "127.0.0.1:9092 closed", Kind.LOST),
    ("aiokafka.consumer.group_coordinator", ERROR, "Heartbeat session expired - marking coordinator dead",
     Kind.CHURN),
    ("aiokafka.consumer.group_coordinator", WARNING, "Heartbeat failed for group g: coordinator (node 1) is either "
     "not started or not valid", Kind.CHURN),
    ("aiokafka.consumer.group_coordinator", INFO, "OffsetCommit failed for group g because group is initializing "
     "(GroupLoadInProgressError), will retry", Kind.CHURN),
    ("aiokafka.consumer.group_coordinator", INFO, "Discovered coordinator 1 for group g", Kind.CHURN),
    ("aiokafka.producer.sender", WARNING, "Got error produce response on topic-partition TopicPartition(topic='t', "
     "partition=1), retrying. Error: <class 'aiokafka.errors.NotLeaderForPartitionError'>", Kind.CHURN),
    ("aiokafka.consumer.group_coordinator", ERROR, "Unexpected error in commit: ValueError('bad offset')",
     Kind.OTHER),
    ("kafka.net.connection", ERROR, "<KafkaConnection node_id=1 host=127.0.0.1:9092>: Connection lost: "
     "ConnectionResetError", Kind.LOST),
    ("kafka.net.manager", ERROR, "Connection failed: [Errno 111] Connection refused", Kind.LOST),
    ("kafka.cluster", WARNING, "No node available for metadata refresh - backoff/retry", Kind.CHURN),
    ("mode.timers", WARNING, "Timer commit is overlapping (interval=0.5 runtime=1.7)", Kind.CHURN),
    ("faust.transport.drivers.aiokafka", ERROR, "Aiokafka stopped fetching from TP(topic='t', partition=0) (last "
     "done 2 minutes ago)", Kind.CHURN),
    ("faust.agents.agent", ERROR, "[^---Agent*: streams.agents.router]: Crashed reason=KeyError('x')", Kind.OTHER),
    ("streams.lag", WARNING, "consumer lag of g not measured: NoBrokersAvailable: NoBrokersAvailable", Kind.LOST),
    ("streams.agents.persist", WARNING, "persist: database unavailable while writing (OperationalError: connection "
     "refused); retrying in 0.5 s", Kind.OTHER),
    ("streams.errors", ERROR, "router: processing failed on 1 record(s); sent to dead-letters", Kind.OTHER),
    ("kafkaesque", ERROR, "Connection refused", Kind.OTHER),
], ids=["refused", "metadata", "node-not-ready", "closed", "session-expired", "heartbeat", "group-loading",
        "coordinator-info", "not-leader", "client-bug", "kafka-python-lost", "kafka-python-failed", "no-node",
        "timer", "no-fetch", "agent-crash", "lag-reporter", "database", "dead-letter", "other-library"])
def test_classify(logger: str, level: int, text: str, kind: Kind) -> None:
    assert classify(logger, level, text) is kind


@pytest.mark.parametrize(("logger", "text", "kind"), [
    ("mode.services", "[^-App]: Crashed reason=KafkaTimeoutError('Timeout')", Kind.OTHER),
    ("faust.transport.consumer", "[^--Consumer]: Drain messages raised: KafkaConnectionError('closed')", Kind.OTHER),
    ("kafka.net.transport", "<KafkaTCPTransport>: Error receiving network data ConnectionResetError: [Errno 104] "
     "Connection reset by peer", Kind.LOST),
    # kafka-python 3.0 builds a connection's log prefix from a socket the broker has just closed (seen in CI)
    ("kafka.net.connection", "Failed to build connection log_prefix OSError: [Errno 107] Transport endpoint is not "
     "connected", Kind.LOST),
    ("kafka.net.transport", "<KafkaTCPTransport>: Error sending request data: [Errno 32] Broken pipe "
     "BrokenPipeError: [Errno 32] Broken pipe", Kind.LOST),
], ids=["crash", "failed-task", "client-traceback", "client-not-connected", "client-broken-pipe"])
def test_faust_and_mode_records_with_a_traceback_always_show(logger: str, text: str, kind: Kind) -> None:
    assert classify(logger, ERROR, text, exception=True) is kind


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def out() -> io.StringIO:
    return io.StringIO()


def _logger(name: str, handlers: list[logging.Handler]) -> logging.Logger:
    """A logger outside logging's registry (no global state), writing to ``handlers``."""
    logger = logging.Logger(name)
    for handler in handlers:
        logger.addHandler(handler)
    return logger


def _handler(out: io.StringIO, quiet: QuietFilter) -> logging.Handler:
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(quiet)
    return handler


def _quiet(clock: Clock, *outs: io.StringIO) -> tuple[QuietFilter, list[logging.Handler]]:
    """A filter whose own lines go through the same handlers it sits on, as the worker's do."""
    handlers: list[logging.Handler] = []
    quiet = QuietFilter(OutageLog(clock=clock), say=lambda line: _logger("streams.quiet_logs", handlers).warning(line))
    handlers += [_handler(o, quiet) for o in outs]
    return quiet, handlers


def test_a_burst_of_connection_errors_is_one_line_and_the_recovery_another(clock: Clock, out: io.StringIO) -> None:
    quiet, handlers = _quiet(clock, out)
    client, coordinator = _logger("aiokafka.client", handlers), _logger("aiokafka.consumer.group_coordinator", handlers)
    agent = _logger("streams.errors", handlers)
    client.error("Unable connect to node with id %s: %s", 1, "[Errno 111] Connect call failed ('127.0.0.1', 9092)")
    for i in range(1, BURST):
        clock.now += 0.01
        if i % 2:
            client.error("Unable to update metadata from [1]")
        else:
            coordinator.warning("Heartbeat failed")
        if i == BURST // 2:
            agent.error("router: processing failed on 1 record(s); sent to dead-letters")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[0].startswith("WARNING broker lost at ") and REFUSED in lines[0]
    assert lines[1] == "ERROR router: processing failed on 1 record(s); sent to dead-letters"  # not hidden
    quiet.probe(lambda: False)
    clock.now += 8.0  # answers from here on, 38.0 s after the first error
    quiet.probe(lambda: True)  # the clients were quiet SETTLE_S already
    lines = out.getvalue().splitlines()
    assert lines[2:] == [f"WARNING broker reconnected after 38.0 s, {BURST - 1:,} retries/errors suppressed"]
    client.error(REFUSED)  # a new outage
    assert out.getvalue().splitlines()[3].startswith("WARNING broker lost at ")


def test_a_crash_during_an_outage_shows_with_its_traceback(clock: Clock, out: io.StringIO) -> None:
    _quiet_filter, handlers = _quiet(clock, out)
    _logger("aiokafka.client", handlers).error(REFUSED)
    try:
        raise TimeoutError("KafkaTimeoutError: no answer")
    except TimeoutError as exc:
        _logger("mode.services", handlers).exception("[^-App]: Crashed reason=%r", exc)
    lines = out.getvalue().splitlines()
    assert lines[1].startswith("ERROR [^-App]: Crashed reason=TimeoutError(")
    assert lines[2] == "Traceback (most recent call last):"


def test_the_outage_ends_once_the_clients_settle_after_the_broker_answers(clock: Clock, out: io.StringIO) -> None:
    quiet, handlers = _quiet(clock, out)
    client = _logger("aiokafka.client", handlers)
    client.error(REFUSED)
    clock.now += 5.0
    client.error("Unable to update metadata from [1]")
    quiet.probe(lambda: True)  # answers 5.0 s after the first error; the clients have not noticed yet
    clock.now += 2.0
    client.info("Discovered coordinator 1 for group g")  # the group is being reloaded
    clock.now += SETTLE_S - 0.5
    quiet.probe(lambda: True)
    assert len(out.getvalue().splitlines()) == 1
    clock.now += 0.5
    quiet.probe(lambda: True)
    assert out.getvalue().splitlines()[1] == "WARNING broker reconnected after 5.0 s, 2 retries/errors suppressed"


def test_clients_that_keep_complaining_after_the_broker_answers_are_logged_again(clock: Clock,
                                                                                out: io.StringIO) -> None:
    quiet, handlers = _quiet(clock, out)
    client = _logger("aiokafka.client", handlers)
    client.error(REFUSED)
    quiet.probe(lambda: True)
    while not out.getvalue().count("reconnected"):
        clock.now += 1.0
        client.warning("Heartbeat failed for group g: coordinator (node 1) is either not started or not valid")
        quiet.probe(lambda: True)
    assert clock.now - 1000.0 == pytest.approx(SETTLE_MAX_S)
    client.warning("Heartbeat failed for group g")
    assert out.getvalue().splitlines()[-1] == "WARNING Heartbeat failed for group g"


def test_an_outage_ends_only_once_every_witness_worked_again(clock: Clock, out: io.StringIO) -> None:
    quiet, handlers = _quiet(clock, out)
    lag_reporter = quiet.witness()
    lag_reporter()  # before the outage: proves nothing about after it
    clock.now += 1.0
    _logger("aiokafka.client", handlers).error(REFUSED)
    clock.now += 10.0
    quiet.probe(lambda: True)
    clock.now += SETTLE_S
    quiet.probe(lambda: True)  # answered and settled, but the lag reporter has not read again
    assert len(out.getvalue().splitlines()) == 1
    clock.now += 2.0
    lag_reporter()
    quiet.probe(lambda: True)
    assert out.getvalue().splitlines()[1] == "WARNING broker reconnected after 10.0 s, 0 retries/errors suppressed"


def test_a_long_outage_is_recalled_every_remind_s(clock: Clock, out: io.StringIO) -> None:
    quiet, handlers = _quiet(clock, out)
    client = _logger("aiokafka.client", handlers)
    client.error(REFUSED)
    for _ in range(int(2.5 * REMIND_S)):
        clock.now += 1.0
        client.error("Unable to update metadata from [1]")
        quiet.probe(lambda: False)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[2] == (f"WARNING broker still away after {2 * REMIND_S:.0f} s, {2 * int(REMIND_S):,} retries/errors "
                        "suppressed so far (latest: Unable to update metadata from [1])")
    for _ in range(int(REMIND_S)):  # it answers but the clients keep failing: no reminder; over after SETTLE_MAX_S,
        clock.now += 1.0             # and the next error starts another outage: a lasting problem shows
        client.error("Unable to update metadata from [1]")
        quiet.probe(lambda: True)
    assert [line.split(" ", 3)[2] for line in out.getvalue().splitlines()[3:]] == ["reconnected", "lost"]


def test_a_filter_on_two_handlers_decides_each_record_once(clock: Clock) -> None:
    first, second = io.StringIO(), io.StringIO()
    _quiet_filter, handlers = _quiet(clock, first, second)
    client = _logger("aiokafka.client", handlers)
    for _ in range(10):
        client.error(REFUSED)
    client.error("Unexpected error in commit: ValueError('bad offset')")
    assert first.getvalue() == second.getvalue()
    assert [line.split(" ", 2)[:2] for line in first.getvalue().splitlines()] == [["WARNING", "broker"],
                                                                                   ["ERROR", "Unexpected"]]


@pytest.fixture
def broker() -> Iterator[int]:
    with api_versions_broker() as port:
        yield port


def test_quiet_logs_probes_the_broker_during_an_outage_and_says_when_it_answers(broker: int, out: io.StringIO) -> None:
    handler = logging.StreamHandler(out)
    quiet = QuietLogs(f"127.0.0.1:{broker}", probe_s=0.02, outage=OutageLog(settle_s=0.1),
                      say=lambda line: _logger("streams.quiet_logs", [handler]).warning(line)).start([handler])
    try:
        _logger("aiokafka.client", [handler]).error(REFUSED)
        deadline = time.monotonic() + 10.0
        while "reconnected" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        quiet.stop()
    assert out.getvalue().splitlines()[1].startswith("broker reconnected after ")
    assert quiet.filter not in handler.filters
