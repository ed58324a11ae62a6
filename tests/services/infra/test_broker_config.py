"""The broker's rendered configuration: a loopback KRaft node that never creates topics by itself."""

from __future__ import annotations

import re
from pathlib import Path

from services.infra.broker_config import BrokerConfig, advertised_bootstrap, new_cluster_id, server_properties


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def test_server_properties() -> None:
    props = _properties(server_properties(BrokerConfig(port=9192, controller_port=9193, log_dirs=Path("/d/kraft"))))
    assert props["process.roles"] == "broker,controller"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9192,CONTROLLER://127.0.0.1:9193"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9192"
    assert props["controller.quorum.bootstrap.servers"] == "127.0.0.1:9193"
    assert props["log.dirs"] == "/d/kraft"
    assert props["auto.create.topics.enable"] == "false"
    assert props["offsets.topic.replication.factor"] == props["transaction.state.log.replication.factor"] == "1"
    assert props["group.initial.rebalance.delay.ms"] == "0"


def test_advertised_bootstrap_reads_back_the_rendered_address() -> None:
    config = BrokerConfig(port=9192, controller_port=9193, log_dirs=Path("/d"))
    assert advertised_bootstrap(server_properties(config)) == config.bootstrap == "127.0.0.1:9192"
    assert advertised_bootstrap("node.id=1\n") is None


def test_cluster_ids_look_like_kafkas() -> None:
    ids = {new_cluster_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{21}", value) for value in ids)
