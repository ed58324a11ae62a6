"""What the rendered chart means: a Deployment per role with the right command line, the aggregator alone,
replicas bounded by partitions, secrets, GPUs, the migration hook, and metrics the ServiceMonitor really scrapes."""

from __future__ import annotations

import argparse
import base64
import re
from pathlib import Path
from typing import Any

import pytest

from services.cli.loop_options import loop_config
from services.cli.main import build_parser
from services.loop.config import LoopConfig, SamplingSpec
from tests.helm.render import CHART, NAMESPACE, RELEASE, Doc, Helm, component, containers, matches, of_kind
from tests.helm.variations import SCALING_ROLES, VARIATIONS

ROLES = ("automation", "router", "comparator", "aggregator", "persist")
SETTINGS = {"SHADOWQA_KAFKA_BOOTSTRAP", "SHADOWQA_TOPIC_PREFIX", "SHADOWQA_PARTITIONS", "SHADOWQA_DATABASE_URL"}


def _cli(container: Doc) -> argparse.Namespace:
    """The container's arguments as the shadowqa command parses them (fails on an option it does not have)."""
    try:
        return build_parser().parse_args(container["args"])
    except SystemExit:
        pytest.fail(f"`shadowqa {' '.join(container['args'])}` is refused by the shadowqa CLI")


def _env_names(container: Doc, docs: list[Doc]) -> set[str]:
    names = {env["name"] for env in container.get("env", [])}
    for source in container.get("envFrom", []):
        names |= set(next(cm for cm in of_kind(docs, "ConfigMap")
                          if cm["metadata"]["name"] == source["configMapRef"]["name"])["data"])
    return names


@pytest.mark.parametrize("values", VARIATIONS.values(), ids=VARIATIONS.keys())
def test_every_command_line_is_one_the_cli_accepts(helm: Helm, values: dict[str, Any]) -> None:
    workloads = [doc for doc in helm.template(values) if doc["kind"] in ("Deployment", "Job")]
    assert workloads
    for doc in workloads:
        _cli(containers(doc)[0])


@pytest.mark.parametrize("role", ROLES)
def test_each_role_runs_as_its_own_deployment(defaults: list[Doc], role: str) -> None:
    (container,) = containers(component(defaults, "Deployment", role))
    args = _cli(container)
    assert (args.command, args.role, args.metrics_port) == ("worker", role, 9100)
    assert _env_names(container, defaults) >= SETTINGS


def test_the_api_serves_on_its_port_with_its_admin_token(defaults: list[Doc]) -> None:
    (container,) = containers(component(defaults, "Deployment", "api"))
    args = _cli(container)
    assert (args.command, args.action, args.host, args.port) == ("api", "serve", "0.0.0.0", 8000)
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert SETTINGS | {"SHADOWQA_ADMIN_TOKEN"} <= _env_names(container, defaults)


@pytest.mark.parametrize("floor", [0.25, 0.1, 0.02])
def test_the_apis_weight_bound_is_one_over_the_workers_audit_floor(helm: Helm, floor: float) -> None:
    """The API answers a gate request that names no max_weight with 1/audit floor, as `shadowqa gate` does: with
    the chart's floor, not only the default one."""
    docs = helm.template({"pipeline": {"auditFloor": floor}})
    (container,) = containers(component(docs, "Deployment", "api"))
    assert _cli(container).max_weight == pytest.approx(1.0 / floor)
    (worker,) = containers(component(docs, "Deployment", "router"))
    assert _cli(worker).audit_floor == pytest.approx(floor)


def test_settings_come_from_values(helm: Helm) -> None:
    docs = helm.template({"partitions": 6, "kafka": {"bootstrap": "k1:9092,k2:9092", "topicPrefix": "eu-"}})
    (config,) = [cm for cm in of_kind(docs, "ConfigMap") if cm["metadata"]["name"] == f"{RELEASE}-shadowqa"]
    assert config["data"] == {"SHADOWQA_KAFKA_BOOTSTRAP": "k1:9092,k2:9092", "SHADOWQA_TOPIC_PREFIX": "eu-",
                              "SHADOWQA_PARTITIONS": "6"}
    (migrate,) = containers(component(docs, "Job", "migrations"))
    env = {e["name"]: e.get("value") for e in migrate["env"]}
    assert {name: env[name] for name in config["data"]} == config["data"]


def test_the_aggregator_runs_exactly_one_replica_even_during_updates(helm: Helm) -> None:
    docs = helm.template({"partitions": 8, "workers": {role: {"replicas": 8} for role in SCALING_ROLES}})
    aggregator = component(docs, "Deployment", "aggregator")
    assert aggregator["spec"]["replicas"] == 1
    assert aggregator["spec"]["strategy"] == {"type": "Recreate"}
    assert {component(docs, "Deployment", role)["spec"]["replicas"] for role in SCALING_ROLES} == {8}


def test_the_aggregator_checkpoints_at_the_interval_its_value_sets(helm: Helm, defaults: list[Doc]) -> None:
    assert _cli(containers(component(defaults, "Deployment", "aggregator"))[0]).checkpoint_interval == 30.0
    docs = helm.template({"workers": {"aggregator": {"checkpointInterval": 5}}})
    assert _cli(containers(component(docs, "Deployment", "aggregator"))[0]).checkpoint_interval == 5.0


def test_the_aggregator_has_no_replicas_value(helm: Helm) -> None:
    assert "'replicas' not allowed" in helm.template_error({"workers": {"aggregator": {"replicas": 2}}})


@pytest.mark.parametrize("role", SCALING_ROLES)
def test_more_replicas_than_partitions_fail_rendering(helm: Helm, role: str) -> None:
    error = helm.template_error({"partitions": 4, "workers": {role: {"replicas": 5}}})
    assert f"workers.{role}.replicas=5 exceeds partitions=4" in error


def test_a_disabled_role_renders_nothing(helm: Helm) -> None:
    docs = helm.template({"workers": {"persist": {"enabled": False}}})
    names = {doc["metadata"]["name"] for doc in docs}
    assert f"{RELEASE}-shadowqa-persist" not in names and f"{RELEASE}-shadowqa-router" in names


def test_the_chart_secret_holds_the_values(helm: Helm) -> None:
    url = "postgresql+psycopg://qa:pw@db:5432/qa"
    docs = helm.template({"secrets": {"databaseUrl": url}})
    data = _secret_data(docs, f"{RELEASE}-shadowqa")
    assert data["database-url"] == url
    assert re.fullmatch(r"[A-Za-z0-9]{32}", data["admin-token"])
    assert _secret_data(docs, f"{RELEASE}-shadowqa-migrations") == {"database-url": url}
    _assert_secret_refs_resolve(docs)


def test_an_existing_secret_replaces_the_charts(helm: Helm) -> None:
    docs = helm.template({"secrets": {"existingSecret": "qa-db", "databaseUrlKey": "url", "adminTokenKey": "token"}})
    assert of_kind(docs, "Secret") == []
    refs = _secret_refs(docs)
    assert refs and {ref["name"] for ref in refs} == {"qa-db"}
    assert {ref["key"] for ref in refs} == {"url", "token"}


def test_a_given_admin_token_is_used(helm: Helm) -> None:
    token = "s3cret-" + "x" * 25  # 32 characters, the API's minimum
    docs = helm.template({"secrets": {"adminToken": token}})
    assert _secret_data(docs, f"{RELEASE}-shadowqa")["admin-token"] == token


def test_cuda_requests_gpus_for_the_automation_role_only(helm: Helm) -> None:
    gpu = {"device": "cuda", "gpu": {"count": 2}, "nodeSelector": {"pool": "gpu"}}
    docs = helm.template({"workers": {"automation": gpu}})
    automation = component(docs, "Deployment", "automation")
    (container,) = containers(automation)
    assert _cli(container).device == "cuda"
    assert container["resources"]["limits"] == {"memory": "3Gi", "nvidia.com/gpu": 2}
    assert automation["spec"]["template"]["spec"]["nodeSelector"] == {"pool": "gpu"}
    for role in ROLES[1:]:
        (other,) = containers(component(docs, "Deployment", role))
        assert not any("gpu" in key for key in other["resources"].get("limits", {}))


def test_cpu_automation_requests_no_gpu(defaults: list[Doc]) -> None:
    (container,) = containers(component(defaults, "Deployment", "automation"))
    assert _cli(container).device == "cpu"
    assert "nvidia.com/gpu" not in container["resources"]["limits"]


def test_pipeline_options_reach_every_worker(helm: Helm) -> None:
    """The values map onto the worker's LoopConfig (services/loop/config.py), sampling policy parameters too."""
    pipeline = {"dataset": "digits", "target": 0.9, "alpha": 0.01, "auditFloor": 0.3, "window": 300,
                "autoApply": False, "maxStep": 0.05, "consensusShare": 0.2,
                "sampling": {"kind": "confidence", "params": {"scale": 0.5, "power": 2}}}
    docs = helm.template({"pipeline": pipeline})
    expected = LoopConfig(dataset="digits", target=0.9, alpha=0.01, audit_floor=0.3, window=300, auto_apply=False,
                          max_step=0.05, consensus_share=0.2, sampling=SamplingSpec("confidence", {"scale": 0.5,
                                                                                                  "power": 2}))
    for role in ROLES:
        args = _cli(containers(component(docs, "Deployment", role))[0])
        assert loop_config(args, auto_apply=not args.no_auto_apply) == expected


def test_migrations_run_before_install_and_upgrade(defaults: list[Doc]) -> None:
    job = component(defaults, "Job", "migrations")
    hook_secret = component(defaults, "Secret", "migrations")
    (container,) = containers(job)
    assert container["args"] == ["db", "upgrade"] and _cli(container).command == "db"
    for hook in (job, hook_secret):
        assert hook["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    weight = {doc["kind"]: int(doc["metadata"]["annotations"]["helm.sh/hook-weight"]) for doc in (job, hook_secret)}
    assert weight["Secret"] < weight["Job"]


def test_the_service_monitor_scrapes_every_metrics_port(defaults: list[Doc]) -> None:
    (monitor,) = of_kind(defaults, "ServiceMonitor")
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    endpoints = {endpoint["port"]: endpoint for endpoint in monitor["spec"]["endpoints"]}
    assert {endpoint["path"] for endpoint in endpoints.values()} == {"/metrics"}
    scraped = set()
    for service in of_kind(defaults, "Service"):
        if not matches(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"]):
            continue
        (deployment,) = [d for d in of_kind(defaults, "Deployment")
                         if matches(service["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])]
        (container,) = containers(deployment)
        container_ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        args = _cli(container)
        listening = args.metrics_port if args.command == "worker" else args.port
        ports = [port for port in service["spec"]["ports"] if port["name"] in endpoints]
        assert ports, f"Service {service['metadata']['name']} has no port the ServiceMonitor scrapes"
        assert {container_ports[port["targetPort"]] for port in ports} == {listening}
        scraped.add(deployment["metadata"]["name"])
    assert scraped == {d["metadata"]["name"] for d in of_kind(defaults, "Deployment")}


def test_the_service_monitor_can_be_switched_off(helm: Helm) -> None:
    docs = helm.template({"serviceMonitor": {"enabled": False}})
    assert of_kind(docs, "ServiceMonitor") == []
    assert len(of_kind(docs, "Deployment")) == len(ROLES) + 1


def test_every_dashboard_file_becomes_a_labelled_config_map(helm: Helm, chart_with_sample_dashboard: Path) -> None:
    files = {path.name: path.read_text() for path in (chart_with_sample_dashboard / "dashboards").glob("*.json")}
    docs = helm.template(chart=chart_with_sample_dashboard)
    shipped = {key: value for cm in _dashboard_maps(docs) for key, value in cm["data"].items()}
    assert shipped == files
    sample = next(cm for cm in _dashboard_maps(docs) if "QA_Sample.json" in cm["data"])
    assert sample["metadata"]["name"] == f"{RELEASE}-shadowqa-dashboard-qa-sample"
    assert sample["metadata"]["annotations"] == {"grafana_folder": "shadowqa"}
    relabel = {"dashboards": {"label": "dash", "labelValue": "yes"}}
    relabelled = helm.template(relabel, chart=chart_with_sample_dashboard)
    assert len(_dashboard_maps(relabelled, label="dash", value="yes")) == len(files)
    off = helm.template({"dashboards": {"enabled": False}}, chart=chart_with_sample_dashboard)
    assert _dashboard_maps(off) == []


def test_the_charts_own_dashboards_are_shipped(defaults: list[Doc]) -> None:
    names = sorted(path.name for path in (CHART / "dashboards").glob("*.json"))
    assert sorted(key for cm in _dashboard_maps(defaults) for key in cm["data"]) == names


def test_a_dashboard_file_name_that_is_no_config_map_key_fails(helm: Helm, chart_with_sample_dashboard: Path) -> None:
    (chart_with_sample_dashboard / "dashboards" / "bad name.json").write_text("{}")
    assert "bad name.json" in helm.template_error({}, chart=chart_with_sample_dashboard)


def _dashboard_maps(docs: list[Doc], label: str = "grafana_dashboard", value: str = "1") -> list[Doc]:
    return [cm for cm in of_kind(docs, "ConfigMap") if cm["metadata"]["labels"].get(label) == value]


def _secret_data(docs: list[Doc], name: str) -> dict[str, str]:
    (secret,) = [s for s in of_kind(docs, "Secret") if s["metadata"]["name"] == name]
    return {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}


def _secret_refs(docs: list[Doc]) -> list[Doc]:
    return [env["valueFrom"]["secretKeyRef"] for doc in docs if doc["kind"] in ("Deployment", "Job")
            for container in containers(doc) for env in container.get("env", []) if "valueFrom" in env]


def _assert_secret_refs_resolve(docs: list[Doc]) -> None:
    secrets = {s["metadata"]["name"]: set(s["data"]) for s in of_kind(docs, "Secret")}
    for ref in _secret_refs(docs):
        assert ref["key"] in secrets.get(ref["name"], set()), f"secretKeyRef {ref} names nothing rendered"
