"""Panel and query builders shared by the dashboards (Grafana's typed builders, one Prometheus datasource).

Every query goes through the ``$datasource`` variable, so the same JSON works with a pushed,
a file-provisioned or an existing Prometheus datasource.
"""

from __future__ import annotations

import string

from grafana_foundation_sdk.builders import bargauge, common, stat, timeseries
from grafana_foundation_sdk.builders.dashboard import DatasourceVariable, QueryVariable, ThresholdsConfig
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models.common import (
    BarGaugeDisplayMode,
    LegendDisplayMode,
    LegendPlacement,
    VizOrientation,
)
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    DynamicConfigValue,
    Threshold,
    ThresholdsMode,
    VariableOption,
    VariableRefresh,
    VariableSort,
)

DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
STRATUM = 'stratum=~"$stratum"'  # the stratum variable as a label matcher ("All" is the regex .*)
RATE = "[$__rate_interval]"

Query = tuple[str, str]  # (PromQL expression, legend format)


def datasource_variable() -> DatasourceVariable:
    """``$datasource``: any Prometheus datasource (the default one unless the viewer picks another)."""
    return DatasourceVariable("datasource").label("Prometheus").type("prometheus")


def stratum_variable() -> QueryVariable:
    """``$stratum``: the strata the aggregator reports acceptance for (multi-select, "All" by default)."""
    return (QueryVariable("stratum").label("Stratum").datasource(DATASOURCE)
            .query("label_values(shadowqa_acceptance, stratum)")
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED).sort(VariableSort.ALPHABETICAL_ASC)
            .multi(True).include_all(True).all_value(".*")
            .current(VariableOption(selected=True, text=["All"], value=["$__all"])))


def targets(queries: list[Query], instant: bool = False) -> list[cogbuilder.Builder[cogvariants.Dataquery]]:
    """One Prometheus query per ``(expr, legend)``, refIds A, B, C, …"""
    built: list[cogbuilder.Builder[cogvariants.Dataquery]] = []
    for ref, (expr, legend) in zip(string.ascii_uppercase, queries, strict=False):
        query = Dataquery().expr(expr).legend_format(legend).ref_id(ref)
        built.append(query.instant() if instant else query.range())
    return built


def graph(title: str, description: str, queries: list[Query], unit: str = "short",
          width: int = 12, height: int = 8) -> timeseries.Panel:
    """A time series panel: one line per series, legend below as a table with the last value."""
    return (timeseries.Panel().title(title).description(description).datasource(DATASOURCE)
             .targets(targets(queries)).unit(unit).span(width).height(height)
             .line_width(1).fill_opacity(10).span_nulls(False)
             .legend(common.VizLegendOptions().display_mode(LegendDisplayMode.TABLE)
                     .placement(LegendPlacement.BOTTOM).show_legend(True).calcs(["lastNotNull", "max"])))


def ratio_graph(title: str, description: str, queries: list[Query], width: int = 12) -> timeseries.Panel:
    """A time series of shares in [0, 1], shown as percentages."""
    return graph(title, description, queries, unit="percentunit", width=width).min(0).max(1)


def band_graph(title: str, description: str, queries: list[Query], band: tuple[str, str],
               width: int = 12) -> timeseries.Panel:
    """Shares with a confidence band: the series named ``band[1]`` (upper) is filled down to ``band[0]`` (lower)."""
    lower, upper = band
    edge = [DynamicConfigValue(id_val="custom.lineWidth", value=0)]
    return (ratio_graph(title, description, queries, width=width).fill_opacity(0)
            .override_by_name(lower, edge)
            .override_by_name(upper, [*edge, DynamicConfigValue(id_val="custom.fillBelowTo", value=lower),
                                      DynamicConfigValue(id_val="custom.fillOpacity", value=20)]))


def dashed(panel: timeseries.Panel, series: str, color: str) -> timeseries.Panel:
    """Draw ``series`` of ``panel`` as a dashed line of one colour (targets, floors)."""
    return panel.override_by_name(series, [
        DynamicConfigValue(id_val="custom.lineStyle", value={"fill": "dash", "dash": [10, 10]}),
        DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": color}),
    ])


def single_stat(title: str, description: str, query: Query, unit: str = "short", width: int = 6) -> stat.Panel:
    """One big number: the latest value of ``query``."""
    return (stat.Panel().title(title).description(description).datasource(DATASOURCE)
            .targets(targets([query])).unit(unit).span(width).height(8)
            .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
            .thresholds(_plain_thresholds()))


def bars(title: str, description: str, query: Query, unit: str = "short", width: int = 12) -> bargauge.Panel:
    """Horizontal bars, one per series, with each series' latest value (an instant query)."""
    return (bargauge.Panel().title(title).description(description).datasource(DATASOURCE)
            .targets(targets([query], instant=True)).unit(unit).span(width).height(8)
            .orientation(VizOrientation.HORIZONTAL).display_mode(BarGaugeDisplayMode.BASIC)
            .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
            .thresholds(_plain_thresholds()))


def _plain_thresholds() -> ThresholdsConfig:
    return ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps([Threshold(value=None, color="blue")])
