"""Filling Grafana's variables into panel queries, as the real-Prometheus test does."""

from __future__ import annotations

import pytest

from dashboards.queries import TEST_VARIABLES, expand, label_values_as_promql, panel_queries

CASES = [
    ('m{stratum=~"$stratum"}', 'm{stratum=~".*"}'),
    ('m{stratum=~"${stratum}"}', 'm{stratum=~".*"}'),
    ("rate(m[$__rate_interval])", "rate(m[15s])"),
    ("sum(m) / sum(rate(n[$__rate_interval]))", "sum(m) / sum(rate(n[15s]))"),
    ("no variables", "no variables"),
]


@pytest.mark.parametrize(("expr", "expanded"), CASES)
def test_expand(expr: str, expanded: str) -> None:
    assert expand(expr, TEST_VARIABLES) == expanded


def test_expand_rejects_an_unknown_variable() -> None:
    with pytest.raises(KeyError, match=r"\$instance"):
        expand('up{instance="$instance"}', TEST_VARIABLES)


@pytest.mark.parametrize(("query", "promql"), [
    ("label_values(shadowqa_acceptance, stratum)", "group by (stratum) (shadowqa_acceptance)"),
    (" label_values(m,l) ", "group by (l) (m)"),
])
def test_label_values(query: str, promql: str) -> None:
    assert label_values_as_promql(query) == promql


def test_label_values_rejects_other_queries() -> None:
    with pytest.raises(ValueError, match="label_values"):
        label_values_as_promql("query_result(up)")


def test_panel_queries_reads_panels_inside_collapsed_rows() -> None:
    model = {"title": "d", "panels": [
        {"title": "top", "targets": [{"refId": "A", "expr": "a"}]},
        {"title": "row", "type": "row", "panels": [{"title": "inner", "targets": [{"refId": "B", "expr": "b"}]}]},
    ]}
    assert [(q.panel, q.ref, q.expr) for q in panel_queries(model)] == [("top", "A", "a"), ("inner", "B", "b")]
