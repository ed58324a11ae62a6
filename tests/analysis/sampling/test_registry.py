"""Sampling policies by name: build, validate, parse CLI/Helm strings, and add a policy from a test module alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from analysis.policy.automation import AutomationPolicy, FrameInfo
from analysis.sampling import (
    BudgetCapped,
    ConfidenceWeighted,
    Router,
    RouterState,
    SamplingState,
    Stratified,
    Uniform,
    build_policy,
    parse_params,
    policy_names,
    policy_params,
    register,
)
from analysis.sampling.exceptions import InvalidPolicy
from analysis.sampling.policies import Stateless


@register("toy-even")
@dataclass(frozen=True)
class EvenFrames(Stateless):
    """A toy policy living in this test module only: frames with an even id number get π = high."""

    high: float
    low: float = 0.05

    def probability(self, frame: FrameInfo, state: SamplingState) -> float:
        return self.high if int(frame.frame_id.split("-")[1]) % 2 == 0 else self.low


@pytest.mark.parametrize(("kind", "params", "expected"), [
    ("uniform", {"rate": 0.1}, Uniform(0.1)),
    ("uniform", {"rate": 1}, Uniform(1.0)),
    ("uniform", {"rate": "0.25"}, Uniform(0.25)),
    ("confidence", {}, ConfidenceWeighted()),
    ("confidence", {"scale": 0.3, "floor": 0.25}, ConfidenceWeighted(scale=0.3, floor=0.25)),
    ("stratified", {"targets": {"night": 40}, "expected": {"night": 400}},
     Stratified(targets={"night": 40.0}, expected={"night": 400.0})),
    ("budget", {"inner": {"kind": "uniform", "rate": 0.2}, "per_window": 50.0},
     BudgetCapped(Uniform(0.2), per_window=50)),
    ("budget", {"inner": "confidence", "per_window": 5}, BudgetCapped(ConfidenceWeighted(), per_window=5)),
])
def test_build_policy_by_name(kind: str, params: dict[str, Any], expected: object) -> None:
    assert build_policy(kind, params) == expected


def test_the_shipped_kinds_are_registered() -> None:
    assert {"uniform", "stratified", "confidence", "budget", "neyman"} <= set(policy_names())


@pytest.mark.parametrize(("kind", "params"), [
    ("uniform", ("rate",)),
    ("confidence", ("scale", "power", "floor", "cap")),
    ("neyman", ("rate", "floor", "prior", "prior_weight")),  # its allocation is state, not a parameter
    ("budget", ("inner", "per_window", "window_seconds", "floor", "warmup_seconds")),
    ("sideways", ()),
])
def test_policy_params(kind: str, params: tuple[str, ...]) -> None:
    assert policy_params(kind) == params


@pytest.mark.parametrize(("kind", "params", "names"), [
    ("sideways", {}, ["sideways", "unknown", "uniform", "confidence"]),
    ("uniform", {"rate": 0.1, "rat": 0.2}, ["uniform.rat", "unknown parameter", "rate"]),
    ("uniform", {}, ["uniform.rate", "required"]),
    ("confidence", {"scale": "lots"}, ["confidence.scale", "number", "lots"]),
    ("confidence", {"scale": True}, ["confidence.scale", "number"]),
    ("confidence", {"floor": 0.0}, ["ConfidenceWeighted.floor", "(0, 1]"]),
    ("budget", {"inner": "confidence", "per_window": 2.5}, ["budget.per_window", "whole number"]),
    ("budget", {"inner": {"rate": 0.1}, "per_window": 2}, ["budget.inner", "kind"]),
    ("budget", {"inner": {"kind": "uniform", "rte": 0.1}, "per_window": 2}, ["uniform.rte"]),
    ("stratified", {"targets": 4, "expected": {}}, ["stratified.targets", "mapping"]),
    ("stratified", {"targets": {"night": "x"}, "expected": {}}, ["stratified.targets[night]", "number"]),
])
def test_bad_kind_or_param_is_named(kind: str, params: dict[str, Any], names: list[str]) -> None:
    with pytest.raises(InvalidPolicy) as caught:
        build_policy(kind, params)
    for name in names:
        assert name in str(caught.value)


@pytest.mark.parametrize(("items", "expected"), [
    ([], {}),
    (["scale=0.3", "floor=0.25"], {"scale": 0.3, "floor": 0.25}),
    (["per_window=40", "inner.kind=confidence", "inner.scale=0.5"],
     {"per_window": 40, "inner": {"kind": "confidence", "scale": 0.5}}),
    (["targets.night=40", "targets.rain=1e2", " name = a=b "],
     {"targets": {"night": 40, "rain": 100.0}, "name": "a=b"}),
])
def test_parse_params(items: list[str], expected: dict[str, Any]) -> None:
    assert parse_params(items) == expected


@pytest.mark.parametrize(("items", "named"), [
    (["scale"], "'scale'"),
    (["=3"], "'=3'"),
    (["a..b=1"], "'a..b=1'"),
    (["scale=1", "scale=2"], "'scale=2'"),
    (["inner=1", "inner.kind=x"], "'inner.kind=x'"),
])
def test_parse_params_names_the_bad_item(items: list[str], named: str) -> None:
    with pytest.raises(InvalidPolicy, match=named):
        parse_params(items)


def test_cli_strings_build_a_policy() -> None:
    params = parse_params(["per_window=40", "inner.kind=confidence", "inner.scale=0.5"])
    assert build_policy("budget", params) == BudgetCapped(ConfidenceWeighted(scale=0.5), per_window=40)


def test_a_policy_added_in_a_test_module_is_built_and_routed_by_name() -> None:
    assert "toy-even" in policy_names()
    policy = build_policy("toy-even", parse_params(["high=1"]))
    assert policy == EvenFrames(high=1.0)
    router, state = Router(AutomationPolicy(default=0.0), policy), RouterState()
    pis = []
    for i in range(6):
        state, decision = router.route(state, FrameInfo(f"f-{i}", 0.9))
        pis.append(decision.inclusion_prob)
    assert pis == [1.0, 0.05, 1.0, 0.05, 1.0, 0.05]
    assert state.audits >= 3  # π = 1 frames are always drawn


def test_a_second_class_under_a_taken_name_is_refused() -> None:
    with pytest.raises(InvalidPolicy, match="already registered"):
        register("uniform")(EvenFrames)


@register("toy-alias", "toy-other-name")
@dataclass(frozen=True)
class AliasedToy(Stateless):
    """A toy policy known by a second name as well (the Names table the geometry registry uses)."""

    rate: float

    def probability(self, frame: FrameInfo, state: SamplingState) -> float:
        return self.rate


def test_an_alias_builds_the_same_policy_and_is_not_listed_as_a_kind() -> None:
    assert build_policy("toy-other-name", {"rate": 0.5}) == build_policy("toy-alias", {"rate": 0.5}) == AliasedToy(0.5)
    assert policy_params("toy-other-name") == ("rate",)
    assert "toy-alias" in policy_names() and "toy-other-name" not in policy_names()


@pytest.mark.parametrize(("name", "aliases"), [
    ("toy-other-name", ()),  # a name that is another kind's alias
    ("toy-third", ("uniform",)),  # an alias that is another kind's name
    ("toy-fourth", ("toy-other-name",)),  # an alias that is another kind's alias
])
def test_a_name_or_alias_taken_by_another_kind_is_refused(name: str, aliases: tuple[str, ...]) -> None:
    with pytest.raises(InvalidPolicy, match="already names sampling policy"):
        register(name, *aliases)(EvenFrames)
    assert name not in policy_names()


def test_registering_the_same_class_again_keeps_it() -> None:
    register("toy-alias", "toy-other-name")(AliasedToy)
    assert build_policy("toy-other-name", {"rate": 0.2}) == AliasedToy(0.2)
