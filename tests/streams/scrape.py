"""Reading a running worker's Prometheus endpoint."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def scrape(port: int, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of metric ``name`` a worker serves on 127.0.0.1:``port``, by their sorted labels."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {tuple(sorted(s.labels.items())): s.value for family in text_string_to_metric_families(text)
            for s in family.samples if s.name == name}
