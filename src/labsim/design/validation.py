"""The validation: published claims beside what the bundled world simulates (`labsim validation`,
docs/validation.md).

Each claim names its source, the published figure and range, the simulated figure with its 95 %
interval (mean over replications ± 1.96 SE), and whether the simulation matches (its mean lies in the
published range). A claim that does not match stays in the table. The claims done here:

1. the calibrated moments (targets/finland_labour_market.toml);
5. creaming and parking under outcome-only pay, narrowed by differential pay;
7. a mandatory payment-by-results programme for the hard to help: 12-month job outcomes of 8.5-13 %;
8. the provider-effect targets (targets/provider_effects.toml).

Claims 2, 3, 4 and 6 of issue 14 (analytic power without congestion, dilution by take-up,
displacement under randomised saturation, the 2016-17 pilots' power) are not simulated here yet.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labsim.config.scenario import apply_overrides, parse_scenario, scenario_to_dict
from labsim.config.targets import Targets, load_targets
from labsim.design.calibrate import Evaluator, Plan, target_rows
from labsim.sweep.runner import Task, executor, run_tasks
from labsim.sweep.store import Store

MISSING = ("claim 2 (analytic power in a world without congestion and with a constant effect), claim 3 "
           "(dilution of the ITT by voluntary take-up of 25-40 %), claim 4 (displacement under randomised "
           "saturation) and claim 6 (the 2016-17 pilots' power and the size they needed) of issue 14.")
CREAMING = {"outcome_only": ["payment.preset=outcome_only"], "differential": ["payment.preset=differential"]}
CREAMING_SOURCE = ("Koning & Heinrich 2013 (JPAM): fully outcome-contingent contracts lead to cream-skimming; "
                   "UK Work Programme: creaming and parking widespread (Rees, Whitworth, Carter 2014); "
                   "differential pay by difficulty is meant to narrow it")


@dataclass(frozen=True)
class Claim:
    """One published claim beside the simulation."""

    claim: int
    name: str
    source: str
    published: float
    low: float
    high: float
    simulated: float
    simulated_low: float
    simulated_high: float
    matches: bool
    unverified: bool = False


def inputs_hash(scenario: dict[str, Any], targets: list[Path], replications: int, seed: int) -> str:
    """A short hash of everything the validation's numbers depend on besides the code: the resolved
    scenario, the targets files, replications and seed (docs/validation.md records it; a test checks it)."""
    text = json.dumps({"scenario": scenario_to_dict(parse_scenario(scenario)),
                       "targets": [p.read_text(encoding="utf-8") for p in targets],
                       "replications": replications, "seed": seed}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _target_claims(number: int, targets: Targets, rows: list[dict[str, Any]]) -> list[Claim]:
    return [Claim(number, r["name"], r["source"], r["published"], r["range"][0], r["range"][1], r["simulated"],
                  r["simulated"] - 1.96 * r["simulated_se"], r["simulated"] + 1.96 * r["simulated_se"],
                  r["matches"], r["unverified"]) for r in rows]


def effort_gradient(task: Task, seed) -> float:
    """Providers' mean effort on their most employable fifth of clients minus that on the least
    employable fifth (effort 0-1 per client-week): above 0 is creaming, with parking at the bottom."""
    from labsim.results.summary import results_of
    from labsim.world.model import PilotModel

    model = PilotModel(task.payload, rng=seed)
    model.run_for(task.payload.weeks)
    q = results_of(model).summary["effort_by_employability_quintile"]
    return float(q[-1] - q[0]) if q[0] is not None and q[-1] is not None else float("nan")


def validate(scenario: dict[str, Any], source: str, labour: Path, effects: Path, folder: Path, *,
             replications: int = 4, seed: int = 1, workers: int | None = None) -> list[Claim]:
    """Simulate every claim on `scenario` (a scenario file's dict); the runs are stored in `folder`."""
    claims: list[Claim] = []
    with executor("local", workers) as pool:
        store = Store(folder / "runs")
        if not store.folder.exists():
            store.create({"identity": {"source": source}})
        for number, path in ((1, labour), (8, effects)):
            targets = load_targets(path)
            plan = Plan(scenario, source, targets, [], replications=replications, seed=seed)
            values = Evaluator(plan, store, pool)([np.zeros(0)])[0]
            rows = _target_claims(number, targets, target_rows(targets.targets, values))
            if number == 8:  # the UK Work Programme is claim 7 of its own
                rows = [Claim(**(asdict(c) | {"claim": 7})) if c.name.startswith("uk_work_programme") else c
                        for c in rows]
            claims += rows
        claims += _creaming(scenario, source, replications, seed, pool)
    return sorted(claims, key=lambda c: c.claim)


def _creaming(scenario: dict[str, Any], source: str, replications: int, seed: int, pool) -> list[Claim]:
    """Claim 5: under outcome-only pay the effort gap (top minus bottom fifth) is above 0 (creaming and
    parking); under differential pay it is smaller (same seeds: a paired difference)."""
    scenarios = [parse_scenario(apply_overrides(scenario, o, source), source) for o in CREAMING.values()]
    tasks = [Task((100 + i, r), sc) for i, sc in enumerate(scenarios) for r in range(replications)]
    got = np.full((len(scenarios), replications), np.nan)
    for task, value in run_tasks(effort_gradient, tasks, root_seed=seed, pool=pool):
        got[task.key[0] - 100, task.key[1]] = value
    outcome, narrowed = got[0], got[0] - got[1]
    out = []
    for name, v, low, high in (("effort_gap_top_bottom_fifth_outcome_only_pay", outcome, 0.0, np.inf),
                               ("effort_gap_narrowed_by_differential_pay", narrowed, 0.0, np.inf)):
        m, se = float(np.nanmean(v)), float(np.nanstd(v, ddof=1) / np.sqrt(np.isfinite(v).sum()))
        out.append(Claim(5, name, CREAMING_SOURCE, low, low, high, m, m - 1.96 * se, m + 1.96 * se,
                         bool(m - 1.96 * se > low)))
    return out
