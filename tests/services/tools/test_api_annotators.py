"""The simulated team's HTTP steps wait out a 503 (database busy or away) as the API's Retry-After asks."""

from __future__ import annotations

import threading

import httpx

from services.tools.api_annotators import post_patiently, retry_after_s


def _client(answers: list[httpx.Response], seen: list[str]) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.content.decode())
        return answers.pop(0)

    return httpx.Client(base_url="http://api", transport=httpx.MockTransport(handle))


def test_a_step_met_by_503s_is_sent_again_with_the_same_body_until_it_is_answered() -> None:
    busy = httpx.Response(503, headers={"Retry-After": "0"}, json={"detail": "database unavailable"})
    seen: list[str] = []
    with _client([busy, busy, httpx.Response(200, json={"ok": True})], seen) as client:
        r = post_patiently(client, "/v1/tasks/t/submit", threading.Event(), json={"tags": {"a": "b"}})
    assert r.status_code == 200
    assert seen == ['{"tags":{"a":"b"}}'] * 3


def test_a_stop_ends_the_wait_with_the_last_503() -> None:
    stop = threading.Event()
    stop.set()
    seen: list[str] = []
    with _client([httpx.Response(503, headers={"Retry-After": "5"})], seen) as client:
        assert post_patiently(client, "/v1/tasks/claim", stop).status_code == 503
    assert len(seen) == 1


def test_other_refusals_are_returned_at_once() -> None:
    seen: list[str] = []
    with _client([httpx.Response(409, json={"detail": "lease ran out"})], seen) as client:
        assert post_patiently(client, "/v1/tasks/t/submit", threading.Event(), json={}).status_code == 409
    assert len(seen) == 1


def test_retry_after_is_read_in_seconds_and_bounded() -> None:
    assert retry_after_s(httpx.Response(503, headers={"Retry-After": "2"})) == 2.0
    assert retry_after_s(httpx.Response(503)) == 1.0
    assert retry_after_s(httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 1.0
    assert retry_after_s(httpx.Response(503, headers={"Retry-After": "3600"})) == 30.0
    assert retry_after_s(httpx.Response(503, headers={"Retry-After": "0"})) == 0.1
