"""One validated settings object per process, from ``SHADOWQA_*`` environment variables.

Deeper code takes values as arguments and never reads the environment itself.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Process settings; e.g. ``SHADOWQA_KAFKA_BOOTSTRAP=127.0.0.1:9092``."""

    model_config = SettingsConfigDict(env_prefix="SHADOWQA_", frozen=True, extra="ignore")

    kafka_bootstrap: str = Field(default="127.0.0.1:9092", description="Kafka bootstrap servers, host:port,...")
    kafka_port: int = Field(default=9092, ge=1, le=65535, description="port of the broker `infra kafka up` starts")
    kafka_controller_port: int = Field(default=9093, ge=1, le=65535, description="KRaft controller port")
    kafka_heap_mb: int = Field(default=512, ge=128, description="JVM heap of the local broker")
    topic_prefix: str = Field(default="", description="prefix of every topic name (isolates tests and demos)")
    partitions: int = Field(default=4, ge=1, le=256, description="partitions of the per-frame topics")
    retention_hours: float = Field(default=168.0, gt=0, description="retention of delete-policy topics")
    admin_token: SecretStr | None = Field(default=None, description="bootstrap admin token of the API")
    database_url: str = Field(default="sqlite:///shadowqa.sqlite3",
                              description="SQLAlchemy URL: sqlite:///FILE (default) or postgresql+psycopg://...")
    postgres_port: int = Field(default=5432, ge=1024, le=65535,
                               description="port of the PostgreSQL cluster `infra postgres up` starts")
    labelstudio_url: str = Field(default="http://127.0.0.1:8080",
                                 description="Label Studio a bridge talks to: the server `infra labelstudio up` "
                                             "starts (its port when this names 127.0.0.1), or an existing one")
    labelstudio_token: SecretStr | None = Field(default=None,
                                                description="API token for SHADOWQA_LABELSTUDIO_URL (sent as "
                                                            "`Authorization: Token ...`); unset: the local server's, "
                                                            "from .cache/labelstudio/secrets/token")
    labelstudio_secret: SecretStr | None = Field(default=None, min_length=32,
                                                 description="the Label Studio bridge's shared secret (at least 32 "
                                                             "characters): signs image URLs and authenticates "
                                                             "webhooks; `api serve` and `labelstudio bridge` both "
                                                             "need it (unset: the API's bridge routes are off)")
    test_engine_delay_s: float = Field(default=0.0, ge=0.0, le=3600.0,
                                       description="tests only: the automation worker waits this long per frame, "
                                                   "as on a machine slowed by other work; never set in a deployment")


def load_settings() -> Settings:
    return Settings()
