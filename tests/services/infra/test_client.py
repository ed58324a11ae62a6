"""Whether a broker answers requests, asked on a plain socket: against stand-ins that answer well, badly or never
(the real broker: tests/integration/test_kafka_broker.py)."""

from __future__ import annotations

from services.infra.client import PROBE_ID, answers_requests
from tests.services.infra.fakes import api_versions_broker, free_port, squatter


def test_a_broker_that_answers_api_versions_answers_requests() -> None:
    with api_versions_broker() as port:
        assert answers_requests(f"127.0.0.1:{port}")


def test_an_error_or_another_requests_answer_is_no_answer() -> None:
    with api_versions_broker(error=35) as port:  # UNSUPPORTED_VERSION
        assert not answers_requests(f"127.0.0.1:{port}")
    with api_versions_broker(correlation=PROBE_ID + 1) as port:
        assert not answers_requests(f"127.0.0.1:{port}")


def test_a_listener_that_never_answers_or_no_listener_is_no_answer() -> None:
    with squatter() as port:
        assert not answers_requests(f"127.0.0.1:{port}", timeout_s=0.2)
    assert not answers_requests(f"127.0.0.1:{free_port()}")


def test_one_answering_broker_of_several_is_enough() -> None:
    with api_versions_broker() as port:
        assert answers_requests(f"127.0.0.1:{free_port()},127.0.0.1:{port}")
