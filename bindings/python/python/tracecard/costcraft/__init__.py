"""tracecard.costcraft: distil cost rules, patches and a skill from TraceCards.

The Python face of the ``costcraft`` crate (docs/costcraft.md)::

    from tracecard import costcraft

    d = costcraft.distill("examples/traces", outcomes="outcomes.jsonl",
                          allow_backfire=["short-sessions"])
    d.rules["rules"]           # list of Rule dicts (rules.yaml)
    d.patches["kept"]          # list of Patch dicts (patches.yaml)
    print(d.skill_md)          # the Agent Skill
    d.write("out/")            # rules.yaml, <skill>/SKILL.md, patches.yaml, REPORT.md

    costcraft.check_rules("out/rules.yaml", "new-traces/")
    costcraft.evaluate("baseline/", "treated/")

    guard = costcraft.Guard.load("out/rules.yaml")   # enforce the prune rules
    d = guard.check("read_file", {"path": "a.txt"}, recorder)
    d.allowed, d.rule_id, d.reason

:class:`Guard` decides a pending tool call from the history so far (a
:class:`tracecard.Trace`, a :class:`tracecard.Recorder`, or a Claude Code transcript
path), exactly as the ``tracecard guard`` hook does (docs/guard.md).
:mod:`tracecard.costcraft.pydantic_ai` wraps a pydantic-ai agent's tools with it.

Inputs (``paths_or_traces``, ``baseline``, ``treated``) are a path (file or
directory), a :class:`tracecard.Trace`, or a list of them. ``outcomes`` is a JSONL
path or a list of dicts ``{"session_id", "status", "evidence": [...]}``.

Errors: :class:`BackfireError` when a backfire guard refuses (``.guards``);
:class:`CostcraftError` for a malformed outcomes or rules file (``.kind ==
"parse"``, ``.path``, ``.line``) or unusable input (``"input"``); I/O and core
errors keep tracecard's own classes (``NotFoundError``, ``ReplayError``, ...), and
an exception raised by your ``replayer`` comes back unchanged. Money in the
returned dicts is :class:`decimal.Decimal`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal, Optional, TypedDict, Union

from tracecard._tracecard import (
    BackfireError,
    CostcraftError,
    Decision,
    Distillation,
    Guard,
    PriceTable,
    Trace,
    costcraft_check_rules,
    costcraft_distill,
    costcraft_evaluate,
)

__all__ = [
    "Action",
    "BACKFIRE_GUARDS",
    "BackfireError",
    "BackfireGuard",
    "CheckReport",
    "CostcraftError",
    "Decision",
    "Distillation",
    "Evaluation",
    "Guard",
    "Lane",
    "Patch",
    "PatchKind",
    "PatchSet",
    "RefusedPatch",
    "Rule",
    "RuleSet",
    "StepRef",
    "RULES_SCHEMA_VERSION",
    "ACTIVE_RULES_KEY",
    "check_rules",
    "distill",
    "evaluate",
]

RULES_SCHEMA_VERSION = "costcraft-rules/1"
"""``schema_version`` of ``rules.yaml``."""

ACTIVE_RULES_KEY = "costcraft.active_rules"
"""Trace metadata naming the rules active in a treated run (per-lane ablation)."""

_Path = Union[str, "os.PathLike[str]"]
_Input = Union[_Path, Trace, Sequence[Union[_Path, Trace]]]
_Outcomes = Union[_Path, Sequence[Mapping[str, Any]], None]
_Replayer = Callable[[Trace, list[int]], Any]

Action = Literal["prune", "repair", "preserve"]
PatchKind = Literal["prune", "repair", "preserve"]
BackfireGuard = Literal["short-sessions", "latency-bound", "stochastic-subagents", "no-oracle"]
"""A backfire guard of ``distill`` (``allow_backfire``)."""
BACKFIRE_GUARDS: tuple[BackfireGuard, ...] = (
    "short-sessions",
    "latency-bound",
    "stochastic-subagents",
    "no-oracle",
)


class _StepRef(TypedDict):
    session_id: str
    step: int


class StepRef(_StepRef, total=False):
    """A step of a session, with its ``source_ref`` when the trace has one."""

    source_ref: str


class _Rule(TypedDict):
    id: str
    action: Action
    status: Literal["active", "quarantined", "held_back"]
    enforce: Literal["pre_tool_use", "advice"]
    match: dict[str, Any]
    reason: str
    support: dict[str, int]
    counter_examples: dict[str, Any]
    savings: dict[str, Decimal]
    transfer_score: Decimal
    confirmed_by: dict[str, int]
    evidence: dict[str, list[StepRef]]


class Rule(_Rule, total=False):
    """One rule of ``rules.yaml`` (docs/costcraft.md, "Signatures and rules")."""

    held_back: list[str]
    fix: str


class RuleSet(TypedDict):
    """``rules.yaml``."""

    schema_version: str
    generated_by: str
    corpus: dict[str, Any]
    policy: dict[str, Any]
    tools: dict[str, Any]
    backfire: list[dict[str, Any]]
    rules: list[Rule]


class _Patch(TypedDict):
    patch_kind: PatchKind
    session_id: str
    target_step: int
    expected_savings_usd: Decimal
    session_cost_usd: Decimal


class Patch(_Patch, total=False):
    """One patch of ``patches.yaml`` (the seed's shape plus provenance)."""

    source_ref: str
    steps: list[int]
    counterfactual: str
    fix: str
    verifier: str
    claim: str
    evidence: list[str]
    confirmed_by: str
    quarantined: bool


class RefusedPatch(TypedDict):
    refusal: dict[str, str]
    patch: Patch


class PatchSet(TypedDict):
    kept: list[Patch]
    refused: list[RefusedPatch]


class CheckReport(TypedDict):
    """What :func:`check_rules` returns (``tracecard check-rules --json``)."""

    sessions: int
    rules: list[dict[str, Any]]


class Lane(TypedDict):
    """One lane of the per-lane ablation."""

    lane: str
    actions: list[Action]
    rules: int
    pairs: int
    unpaired: int
    regressions: int
    recoveries: int
    median_cost_change_usd: Decimal
    median_cost_change_ci_usd: list[Decimal]
    treated: dict[str, Any]


class _Evaluation(TypedDict):
    pairs: list[dict[str, Any]]
    unpaired: list[str]
    regressions: int
    recoveries: int
    median_cost_change_usd: Decimal
    median_cost_change_ci_usd: list[Decimal]
    baseline: dict[str, Any]
    treated: dict[str, Any]


class Evaluation(_Evaluation, total=False):
    """What :func:`evaluate` returns (``tracecard evaluate --json``); ``ablation``
    only when treated runs carry ``costcraft.active_rules``."""

    ablation: list[Lane]


def _outcomes(outcomes: _Outcomes) -> Any:
    if outcomes is None or isinstance(outcomes, (str, os.PathLike)):
        return outcomes
    return [dict(o) for o in outcomes]


def distill(
    paths_or_traces: _Input,
    outcomes: _Outcomes = None,
    replayer: Optional[_Replayer] = None,
    require_replay: bool = False,
    *,
    replay_budget: int = 32,
    min_savings_usd: Union[Decimal, str, int, float] = Decimal("0.001"),
    min_share: float = 0.01,
    min_tasks: int = 2,
    max_counter_rate: float = 0.1,
    allow_backfire: Union[Iterable[BackfireGuard], Literal["all"]] = (),
    include_quarantined: bool = False,
    skill_name: str = "cost-rules",
    prices: Union[_Path, PriceTable, None] = None,
    format: Optional[str] = None,
) -> Distillation:
    """Distil sessions into patches, ``rules.yaml`` and ``SKILL.md``.

    Like ``tracecard distill``: ``replayer`` (``callable(trace, removed_ids) ->
    outcome``, as for :meth:`Trace.compile`) confirms prunes by counterfactual
    replay; ``require_replay`` refuses prunes confirmed by dataflow only. Raises
    :class:`BackfireError` when a backfire guard holds and is not in
    ``allow_backfire`` (``"all"`` allows every guard). Outcome lines naming no
    loaded session are warned about (``UserWarning``) and listed in ``.notes``.
    """
    guards = list(BACKFIRE_GUARDS) if allow_backfire == "all" else list(allow_backfire)
    for g in guards:
        if g not in BACKFIRE_GUARDS:
            raise ValueError(f"allow_backfire: unknown guard {g!r} (one of {BACKFIRE_GUARDS})")
    policy = {
        "min_savings_usd": str(min_savings_usd),
        "min_session_share": float(min_share),
        "require_replay": bool(require_replay),
        "min_prune_tasks": int(min_tasks),
        "max_counter_example_rate": float(max_counter_rate),
        "allow_backfire": guards,
        "include_quarantined": bool(include_quarantined),
        "skill_name": skill_name,
    }
    d = costcraft_distill(
        paths_or_traces,
        outcomes=_outcomes(outcomes),
        replayer=replayer,
        replay_budget=replay_budget,
        policy=policy,
        prices=prices,
        format=format,
    )
    for note in d.notes:
        warnings.warn(note, UserWarning, stacklevel=2)
    return d


def check_rules(
    rules_path: _Path,
    paths: _Input,
    *,
    prices: Union[_Path, PriceTable, None] = None,
    format: Optional[str] = None,
) -> CheckReport:
    """Where each rule of ``rules_path`` would fire in ``paths`` (session, step,
    ``source_ref``, verdict) and whether the cost it targets shrank."""
    report: CheckReport = costcraft_check_rules(rules_path, paths, prices=prices, format=format)
    return report


def evaluate(
    baseline_dir: _Input,
    treated_dir: _Input,
    *,
    outcomes: _Outcomes = None,
    prices: Union[_Path, PriceTable, None] = None,
    format: Optional[str] = None,
) -> Evaluation:
    """Pair baseline and treated runs of the same tasks: regressions, recoveries,
    median cost change with a bootstrap interval, cost per success, and the
    per-lane ablation when treated runs carry ``costcraft.active_rules``."""
    e: Evaluation = costcraft_evaluate(
        baseline_dir, treated_dir, outcomes=_outcomes(outcomes), prices=prices, format=format
    )
    return e
