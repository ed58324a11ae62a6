"""The PromQL every panel of a rendered dashboard runs, and how Grafana fills its variables in.

Used by the tests that run each panel's queries against a real Prometheus.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# What Grafana substitutes for the variables the dashboards use, for a Prometheus scraping every 1 s:
# "All" strata is the regex .*, and $__rate_interval is at least four scrape intervals.
TEST_VARIABLES = {"stratum": ".*", "__rate_interval": "15s", "__interval": "5s", "__range": "5m"}


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str  # the dashboard's title
    panel: str  # the panel's title
    ref: str  # the query's refId
    expr: str  # PromQL as written in the dashboard, with $variables

    def __str__(self) -> str:
        return f"{self.dashboard} / {self.panel} [{self.ref}]: {self.expr}"


def panel_queries(model: Mapping[str, Any]) -> Iterator[PanelQuery]:
    """Every Prometheus target of every panel (rows included), top to bottom."""
    for panel in model["panels"]:
        for inner in [panel, *panel.get("panels", [])]:
            for target in inner.get("targets", []):
                yield PanelQuery(model["title"], inner["title"], target["refId"], target["expr"])


def variable_queries(model: Mapping[str, Any]) -> dict[str, str]:
    """Template variable name -> its query, for the ``query`` variables."""
    return {var["name"]: var["query"] for var in model["templating"]["list"] if var["type"] == "query"}


def expand(expr: str, variables: Mapping[str, str]) -> str:
    """``expr`` with ``$name`` and ``${name}`` replaced from ``variables``; an unknown variable is an error."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in variables:
            raise KeyError(f"no value for ${name} in {expr!r}")
        return variables[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, expr)


def label_values_as_promql(query: str) -> str:
    """``label_values(metric, label)`` (Grafana's variable query) as PromQL returning one series per value."""
    match = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", query.strip())
    if match is None:
        raise ValueError(f"not a label_values(metric, label) query: {query!r}")
    return f"group by ({match.group(2)}) ({match.group(1)})"
