"""The annotation team's view: what is waiting, in which order, and how each person is doing."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard, Row

from dashboards.panels import RATE, STRATUM, bars, datasource_variable, graph, ratio_graph, stratum_variable

UID = "shadowqa-annotation-team"
PER_MINUTE = " * 60"


def annotation_team() -> Dashboard:
    """The annotation team's dashboard (uid ``shadowqa-annotation-team``)."""
    board = (Dashboard("shadowqa / Annotation team").uid(UID)
             .description("The sample queue by priority, lease expiries, and each annotator's throughput and "
                          "agreement with the consensus copies.")
             .tags(["shadowqa"]).refresh("10s").time("now-30m", "now").timezone("browser")
             .with_variable(datasource_variable()).with_variable(stratum_variable()))
    for section in (_queue, _annotators, _label_studio, _api):
        board = section(board)
    return board


def _queue(board: Dashboard) -> Dashboard:
    waiting = f'{STRATUM}, state=~"queued|requeued"'
    return (board.with_row(Row("Queue"))
            .with_panel(bars(
                "Queue priority: evidence per stratum (least is served first)",
                "Annotations submitted per stratum. The queue hands out tasks from the stratum with the least "
                "evidence first, so the top bar is where the next claimed task comes from.",
                (f"sort(shadowqa_queue_evidence{{{STRATUM}}})", "{{stratum}}")))
            .with_panel(graph(
                "Waiting tasks by stratum",
                "Tasks that can be claimed now (queued, or requeued after a lease expired or a skip), per stratum.",
                [(f"sum by (stratum) (shadowqa_queue_depth{{{waiting}}})", "{{stratum}}")]))
            .with_panel(graph(
                "Leased tasks by stratum",
                "Tasks in someone's hands: claimed, not yet submitted, lease not expired.",
                [(f'sum by (stratum) (shadowqa_queue_depth{{{STRATUM}, state="leased"}})', "{{stratum}}")], width=8))
            .with_panel(graph(
                "Oldest claimable task age",
                "Age of the oldest task that can be claimed now, per stratum.",
                [(f"max by (stratum) (shadowqa_queue_oldest_seconds{{{STRATUM}}})", "{{stratum}}")], unit="s",
                width=8))
            .with_panel(graph(
                "Lease expiries per minute",
                "Claimed tasks whose lease ran out before submission (the person walked away); they go back to "
                "the queue, nothing is lost.",
                [(f"sum by (stratum) (rate(shadowqa_lease_expiries_total{{{STRATUM}}}{RATE})){PER_MINUTE}",
                  "{{stratum}}")], width=8)))


NAMES = " One series, 'all', unless the API runs with --metrics-names (people are named only when asked)."


def _annotators(board: Dashboard) -> Dashboard:
    return (board.with_row(Row("Annotators"))
            .with_panel(graph(
                "Submitted tasks per minute, per annotator",
                "Each annotator's throughput: tasks submitted through the queue API." + NAMES,
                [(f"sum by (annotator) (rate(shadowqa_tasks_submitted_total{RATE})){PER_MINUTE}", "{{annotator}}")]))
            .with_panel(graph(
                "Claimed and skipped tasks per minute, per annotator",
                "Tasks each annotator claimed, and tasks they handed back unannotated (skipped)." + NAMES,
                [(f"sum by (annotator) (rate(shadowqa_tasks_claimed_total{RATE})){PER_MINUTE}",
                  "{{annotator}} claimed"),
                 (f"sum by (annotator) (rate(shadowqa_tasks_skipped_total{RATE})){PER_MINUTE}",
                  "{{annotator}} skipped")]))
            .with_panel(ratio_graph(
                "Agreement with the consensus copy, per annotator",
                "Share of the annotator's frames annotated twice (consensus copies) on which the two people agreed."
                + NAMES,
                [("max by (annotator) (shadowqa_annotator_consensus_agreement)", "{{annotator}}")]))
            .with_panel(bars(
                "Consensus-compared frames, per annotator",
                "How many of the annotator's frames were compared with a second person's: the evidence behind the "
                "agreement share." + NAMES,
                ("max by (annotator) (shadowqa_annotator_consensus_n)", "{{annotator}}")))
            .with_panel(graph(
                "Tasks issued per second, by copy",
                "Blind tasks the router puts on the manual queue: copy 1 for every sampled frame, copy 2 for the "
                "frames also annotated by a second person.",
                [(f"sum by (copy) (rate(shadowqa_manual_tasks_total{RATE}))", "copy {{copy}}")], unit="ops", width=24)))


PSEUDONYMS = (" People are pseudonyms, ls:<Label Studio user id> (Label Studio's Organization page shows who is "
              "who), unless the API runs with --metrics-names: then their e-mail addresses.")


def _label_studio(board: Dashboard) -> Dashboard:
    spent = "sum(rate(shadowqa_labelstudio_answer_seconds_total{outcome=\"submitted\"}" + RATE + "))"
    answered = "sum(rate(shadowqa_labelstudio_answers_total{outcome=\"submitted\"}" + RATE + "))"
    return (board.with_row(Row("Label Studio"))
            .with_panel(graph(
                "Tasks open in Label Studio",
                "Frames the bridge keeps open in Label Studio (one task each, its consensus copies as its overlap), "
                "and the copies it holds leased in shadowqa's queue while they are open there.",
                [("sum(shadowqa_labelstudio_open_tasks)", "open tasks"),
                 ("sum(shadowqa_labelstudio_held_copies)", "copies held")], width=8))
            .with_panel(graph(
                "Time to annotate in Label Studio",
                "Mean time from opening a task to submitting it, over the rate window (0 while nothing was "
                "submitted).",
                [(f"{spent} / clamp_min({answered}, 1e-9)", "mean")], unit="s", width=8))
            .with_panel(graph(
                "Annotations relayed, by path",
                "Label Studio annotations relayed into the queue: by webhook (at once) or by the bridge's poll (a "
                "webhook that was missed: Label Studio never retries). Refused: no copy could take it (the lease "
                "ran out) or it could not be read.",
                [(f"sum by (via, outcome) (rate(shadowqa_labelstudio_relayed_total{RATE})){PER_MINUTE}",
                  "{{via}} {{outcome}}")], width=8))
            .with_panel(graph(
                "Label Studio tasks answered per minute, per annotator",
                "Each person's throughput in Label Studio (submitted and skipped)." + PSEUDONYMS,
                [(f"sum by (annotator, outcome) (rate(shadowqa_labelstudio_answered_total{RATE})){PER_MINUTE}"
                  " or on() vector(0)", "{{annotator}} {{outcome}}")], width=24)))


def _api(board: Dashboard) -> Dashboard:
    latency = f"sum by (le, route) (rate(shadowqa_api_request_seconds_bucket{RATE}))"
    return (board.with_row(Row("Queue API"))
            .with_panel(graph(
                "API requests per second",
                "Requests to the queue API by route and HTTP status.",
                [(f"sum by (route, status) (rate(shadowqa_api_requests_total{RATE}))", "{{route}} {{status}}")],
                unit="reqps"))
            .with_panel(graph(
                "API latency (95th percentile)",
                "95th percentile of request time per route.",
                [(f"histogram_quantile(0.95, {latency})", "{{route}}")], unit="s")))
