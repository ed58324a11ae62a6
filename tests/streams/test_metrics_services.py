"""The workers' metrics of the services issue: acceptance target per stratum, rows persisted, consumer lag."""

from __future__ import annotations

from prometheus_client import REGISTRY

from services.loop.messages import AgreementStats
from streams import metrics
from tests.services.loop.messages.samples import sample


def test_stats_set_the_acceptance_target_of_their_stratum() -> None:
    metrics.stats(AgreementStats.model_validate(sample("agreement-stats", stratum="scene=tunnel", target=0.9)))
    metrics.stats(AgreementStats.model_validate(sample("agreement-stats", stratum="scene=night", target=0.8)))
    assert REGISTRY.get_sample_value("shadowqa_acceptance_target", {"stratum": "scene=tunnel"}) == 0.9
    assert REGISTRY.get_sample_value("shadowqa_acceptance_target", {"stratum": "scene=night"}) == 0.8


def test_rows_persisted_are_counted_per_table() -> None:
    before = REGISTRY.get_sample_value("shadowqa_rows_persisted_total", {"table": "routes"}) or 0.0
    metrics.persisted({"routes": 3})
    metrics.persisted({"routes": 2, "policies": 1})
    assert REGISTRY.get_sample_value("shadowqa_rows_persisted_total", {"table": "routes"}) == before + 5


def test_lag_is_a_gauge_per_group_and_topic() -> None:
    metrics.lag("g-test", {"t-a": 5, "t-b": 0})
    metrics.lag("g-test", {"t-a": 2})
    assert REGISTRY.get_sample_value("shadowqa_consumer_lag", {"group": "g-test", "topic": "t-a"}) == 2
    assert REGISTRY.get_sample_value("shadowqa_consumer_lag", {"group": "g-test", "topic": "t-b"}) == 0


def test_the_worker_serves_metrics_on_loopback_unless_told_another_address() -> None:
    from services.cli.main import build_parser

    parse = build_parser().parse_args
    assert parse(["worker", "--role", "persist"]).metrics_host == "127.0.0.1"
    assert parse(["worker", "--role", "router", "--metrics-host", "0.0.0.0"]).metrics_host == "0.0.0.0"
