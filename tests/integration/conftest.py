"""Integration tests run against the project's real Kafka broker, which ``make test`` starts before pytest.

Without a broker they fail (never skip): a CI run must not pass by silently leaving them out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from services.infra.client import broker_ready
from services.infra.topic_names import TopicNames
from services.infra.topics import create_topics, delete_topics, topic_layout
from services.settings import Settings, load_settings
from services.tools.pipeline_run import delete_run_topics

PARTITIONS = 4


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The settings of the test process (SHADOWQA_* environment), as a process would load them."""
    return load_settings()


@pytest.fixture(scope="session")
def kafka_bootstrap(settings: Settings) -> str:
    """``host:port`` of a broker that answers metadata requests; fails the test when there is none."""
    if not broker_ready(settings.kafka_bootstrap, timeout_s=10):
        pytest.fail(f"no Kafka broker answers at {settings.kafka_bootstrap}: run the suite with `make test`, or start "
                    "the broker first with `shadowqa infra kafka up`", pytrace=False)
    return settings.kafka_bootstrap


@pytest.fixture
def topics(kafka_bootstrap: str, settings: Settings) -> Iterator[TopicNames]:
    """A fresh, uniquely prefixed set of the pipeline's topics (per-frame ones with 4 partitions), deleted after."""
    names = TopicNames(prefix=f"t{uuid.uuid4().hex}-")
    create_topics(kafka_bootstrap, topic_layout(names, PARTITIONS, settings.retention_hours))
    yield names
    delete_topics(kafka_bootstrap, names.all())


@pytest.fixture
def run_topics(kafka_bootstrap: str, settings: Settings) -> Iterator[TopicNames]:
    """Topics for a run of the workers; deleted after with the workers' internal topics and consumer groups."""
    names = TopicNames(prefix=f"p{uuid.uuid4().hex[:12]}-")
    create_topics(kafka_bootstrap, topic_layout(names, PARTITIONS, settings.retention_hours))
    yield names
    delete_run_topics(kafka_bootstrap, names.prefix)
