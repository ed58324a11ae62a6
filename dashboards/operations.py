"""The operations overview: is the machine good enough, how much is automated, and is the pipeline keeping up."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard, Row

from dashboards.panels import (
    RATE,
    STRATUM,
    band_graph,
    bars,
    dashed,
    datasource_variable,
    graph,
    ratio_graph,
    single_stat,
    stratum_variable,
)

UID = "shadowqa-operations"
ROUTED = "shadowqa_frames_routed_total"
STEP_ERRORS = "shadowqa_step_errors_attributed_total"


def operations() -> Dashboard:
    """The operations leads' dashboard (uid ``shadowqa-operations``)."""
    board = (Dashboard("shadowqa / Operations overview").uid(UID)
             .description("Machine acceptance against its target per stratum, automation rate, human floor, "
                          "the annotation queue, throughput, consumer lag and dead letters.")
             .tags(["shadowqa"]).refresh("10s").time("now-30m", "now").timezone("browser")
             .with_variable(datasource_variable()).with_variable(stratum_variable()))
    for section in (_agreement, _automation, _steps, _throughput, _queue, _health):
        board = section(board)
    return board


def _agreement(board: Dashboard) -> Dashboard:
    acceptance = band_graph(
        "Acceptance vs target — $stratum",
        "1/π-weighted share of sampled frames on which the machine's labels are accepted against the people's, with "
        "its anytime-valid confidence band (lower to upper), the acceptance target, and the human floor "
        "(person-vs-person acceptance on consensus copies). Automation is safe while the band's lower edge stays "
        "above the target. One panel per selected stratum.",
        [(f'shadowqa_acceptance{{{STRATUM}, bound="estimate"}}', "estimate"),
         (f'shadowqa_acceptance{{{STRATUM}, bound="lower"}}', "lower"),
         (f'shadowqa_acceptance{{{STRATUM}, bound="upper"}}', "upper"),
         (f"shadowqa_acceptance_target{{{STRATUM}}}", "target"),
         (f'shadowqa_human_floor{{{STRATUM}, bound="estimate"}}', "human floor")],
        band=("lower", "upper"))
    acceptance = dashed(dashed(acceptance, "target", "red"), "human floor", "purple").repeat("stratum").max_per_row(2)
    return (board.with_row(Row("Acceptance by stratum")).with_panel(acceptance)
            .with_row(Row("Human floor and evidence"))
            .with_panel(ratio_graph(
                "Human floor per stratum",
                "Person-vs-person acceptance on frames annotated twice (the consensus copies), with its band: "
                "how well people agree with each other, the ceiling a machine can be held to.",
                [(f'shadowqa_human_floor{{{STRATUM}, bound="estimate"}}', "{{stratum}}"),
                 (f'shadowqa_human_floor{{{STRATUM}, bound="lower"}}', "{{stratum}} lower"),
                 (f'shadowqa_human_floor{{{STRATUM}, bound="upper"}}', "{{stratum}} upper")]))
            .with_panel(graph(
                "Evidence per stratum",
                "Machine-vs-person comparisons behind each stratum's acceptance estimate.",
                [(f"shadowqa_acceptance_n{{{STRATUM}}}", "{{stratum}}")])))


def _automation(board: Dashboard) -> Dashboard:
    return (board.with_row(Row("Automation"))
            .with_panel(dashed(ratio_graph(
                "Automation rate: actual vs recommended",
                "Actual: share of routed frames shipped on the machine's labels alone. Recommended: the rate the "
                "recommender says the evidence supports; the router follows it through policy updates.",
                [(f'sum(rate({ROUTED}{{route="ship"}}{RATE})) / sum(rate({ROUTED}{RATE}))', "actual"),
                 ("max(shadowqa_automation_rate_recommended)", "recommended")], width=12),
                "recommended", "green"))
            .with_panel(graph(
                "Frames routed per second",
                "Where the router sent frames: shipped on automation alone, or to people (manual queue).",
                [(f"sum by (route) (rate({ROUTED}{RATE}))", "{{route}}")], unit="ops", width=6))
            .with_panel(single_stat(
                "Policy version", "Version of the latest sampling policy the recommender issued.",
                ("max(shadowqa_policy_version)", "policy"))))


def _steps(board: Dashboard) -> Dashboard:
    errors = f"sum by (step) ({STEP_ERRORS})"
    return (board.with_row(Row("Chain of automation steps"))
            .with_panel(ratio_graph(
                "Share of errors introduced per step",
                "On machine-compared clips (a chain of steps, e.g. detect → track → post-process, run on whole "
                "clips), the share of the final output's errors (misses, false positives, identity switches) that "
                "each step introduced, since the aggregator started: the step with the largest share is the "
                "limiting factor. A single 0 line while no clip has been compared (a stream of single frames).",
                [(f"{errors} / on() group_left() clamp_min(sum({STEP_ERRORS}), 1) or on() vector(0)", "{{step}}")],
                width=12))
            .with_panel(graph(
                "Errors introduced per step, by kind (since aggregator start)",
                "The attributed errors behind that share, by step and kind; they add up over the steps to the "
                "final output's errors. Clips compared: machine-vs-person clip comparisons counted.",
                [(f"sum by (step, error) ({STEP_ERRORS}) or on() vector(0)", "{{step}} {{error}}"),
                 ("sum(shadowqa_clips_compared_total)", "clips compared")], width=12)))


def _throughput(board: Dashboard) -> Dashboard:
    inference = "sum by (le) (rate(shadowqa_inference_seconds_bucket" + RATE + "))"
    return (board.with_row(Row("Throughput"))
            .with_panel(graph(
                "Frames per second",
                "Frames the automation engine answered (ok or failed) and frames the router routed.",
                [(f"sum by (outcome) (rate(shadowqa_frames_processed_total{RATE}))", "engine {{outcome}}"),
                 (f"sum(rate({ROUTED}{RATE}))", "routed")], unit="ops", width=8))
            .with_panel(graph(
                "Comparisons per second",
                "Comparisons the comparator emitted and the aggregator counted, machine-vs-person and "
                "person-vs-person (consensus).",
                [(f"sum by (kind) (rate(shadowqa_comparisons_total{RATE}))", "compared {{kind}}"),
                 (f"sum by (kind) (rate(shadowqa_comparisons_counted_total{RATE}))", "aggregated {{kind}}")],
                unit="ops", width=8))
            .with_panel(graph(
                "Inference time per frame",
                "Automation engine inference time per frame: median, 95th and 99th percentile.",
                [(f"histogram_quantile(0.5, {inference})", "p50"),
                 (f"histogram_quantile(0.95, {inference})", "p95"),
                 (f"histogram_quantile(0.99, {inference})", "p99")], unit="s", width=8))
            .with_panel(graph(
                "Rows persisted per second",
                "Rows the persist worker wrote to the database, by table.",
                [(f"sum by (table) (rate(shadowqa_rows_persisted_total{RATE}))", "{{table}}")],
                unit="ops", width=12))
            .with_panel(bars(
                "Manual tasks issued (since worker start)",
                "Blind tasks the router put on the manual queue, first copies and consensus second copies.",
                ("sum by (copy) (shadowqa_manual_tasks_total)", "copy {{copy}}"), width=12)))


def _queue(board: Dashboard) -> Dashboard:
    return (board.with_row(Row("Annotation queue"))
            .with_panel(graph(
                "Queue depth by state",
                "Tasks in the annotation queue: queued (never claimed), requeued (a lease expired or the task was "
                "skipped) and leased (in someone's hands).",
                [(f"sum by (state) (shadowqa_queue_depth{{{STRATUM}}})", "{{state}}")]))
            .with_panel(graph(
                "Oldest claimable task age",
                "Age of the oldest task people could claim now, per stratum: grows when the team falls behind.",
                [(f"max by (stratum) (shadowqa_queue_oldest_seconds{{{STRATUM}}})", "{{stratum}}")], unit="s")))


def _health(board: Dashboard) -> Dashboard:
    return (board.with_row(Row("Pipeline health"))
            .with_panel(graph(
                "Consumer lag",
                "Records each worker group has yet to read, per topic: grows when a worker cannot keep up.",
                [("sum by (group, topic) (shadowqa_consumer_lag)", "{{group}} {{topic}}")], width=12))
            .with_panel(graph(
                "Dead letters (since worker start)",
                "Records sent to the dead-letter topic, by the stage that rejected them and the reason. Any is worth "
                "a look: the record is in the dead-letters topic with its source offset.",
                [("sum by (stage, reason) (shadowqa_dead_letters_total)", "{{stage}}: {{reason}}")], width=6))
            .with_panel(graph(
                "Join entries expired (since worker start)",
                "Comparator join entries dropped before both sides arrived (a frame's annotation never came).",
                [("sum(shadowqa_comparator_expired_total)", "expired")], width=6)))
