"""The committed dashboard JSON is what the code generates, and every panel is wired to the datasource variable."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dashboards.queries import panel_queries, variable_queries
from dashboards.render import DASHBOARDS, OUTPUT_DIRS, ROOT, rendered

MODELS = {name: json.loads(text) for name, text in rendered().items()}


@pytest.mark.parametrize("folder", OUTPUT_DIRS, ids=lambda p: str(p.relative_to(ROOT)))
@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_committed_json_is_up_to_date(folder: Any, name: str) -> None:
    committed = folder / name
    assert committed.is_file(), f"{committed} is missing: run `make dashboards` and commit the result"
    assert committed.read_text(encoding="utf-8") == rendered()[name], \
        f"{committed.relative_to(ROOT)} differs from dashboards/*.py: run `make dashboards` and commit the result"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_panels_have_unique_ids_and_query_through_the_datasource_variable(name: str) -> None:
    panels = MODELS[name]["panels"]
    assert [p["id"] for p in panels] == list(range(1, len(panels) + 1))
    for panel in panels:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
            assert panel["targets"], f"panel {panel['title']!r} has no query"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_queries_have_distinct_ref_ids_per_panel(name: str) -> None:
    seen: dict[str, list[str]] = {}
    for query in panel_queries(MODELS[name]):
        seen.setdefault(query.panel, []).append(query.ref)
    assert seen and all(len(refs) == len(set(refs)) for refs in seen.values()), seen


@pytest.mark.parametrize("name", sorted(MODELS))
def test_template_variables(name: str) -> None:
    variables = {var["name"]: var for var in MODELS[name]["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert variable_queries(MODELS[name]) == {"stratum": "label_values(shadowqa_acceptance, stratum)"}
    assert variables["stratum"]["allValue"] == ".*" and variables["stratum"]["multi"] is True


def test_acceptance_panel_fills_the_band_and_repeats_per_stratum() -> None:
    panel = next(p for p in MODELS["shadowqa-operations.json"]["panels"] if p["title"].startswith("Acceptance vs"))
    assert panel["repeat"] == "stratum"
    assert [t["legendFormat"] for t in panel["targets"]] == ["estimate", "lower", "upper", "target", "human floor"]
    upper = next(o for o in panel["fieldConfig"]["overrides"] if o["matcher"]["options"] == "upper")
    assert {"id": "custom.fillBelowTo", "value": "lower"} in upper["properties"]


def test_the_two_dashboards_cover_the_brief() -> None:
    """Metrics each dashboard must show (a panel dropped by mistake fails here, not only in the slow test)."""
    wanted = {
        "shadowqa-operations.json": ["shadowqa_acceptance{", "shadowqa_acceptance_target", "shadowqa_human_floor",
                                     "shadowqa_frames_routed_total", "shadowqa_automation_rate_recommended",
                                     "shadowqa_queue_depth", "shadowqa_queue_oldest_seconds",
                                     "shadowqa_frames_processed_total", "shadowqa_consumer_lag",
                                     "shadowqa_dead_letters_total"],
        "shadowqa-annotation-team.json": ["shadowqa_queue_evidence", "shadowqa_queue_depth",
                                          "shadowqa_lease_expiries_total", "shadowqa_tasks_submitted_total",
                                          "shadowqa_annotator_consensus_agreement", "shadowqa_annotator_consensus_n"],
    }
    for name, metrics in wanted.items():
        exprs = " ".join(q.expr for q in panel_queries(MODELS[name]))
        assert [m for m in metrics if m not in exprs] == [], name


@pytest.mark.parametrize("name", sorted(MODELS))
def test_readme_names_every_panel(name: str) -> None:
    readme = (ROOT / "dashboards" / "README.md").read_text(encoding="utf-8")
    missing = [p["title"] for p in MODELS[name]["panels"] if p["type"] != "row" and p["title"] not in readme]
    assert missing == [], f"dashboards/README.md does not describe: {missing}"
