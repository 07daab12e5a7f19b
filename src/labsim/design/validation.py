"""The validation: published claims beside what the bundled world simulates (`labsim validation`,
docs/validation.md).

Each claim names its source, the published figure and range, the simulated figure with its 95 %
interval, and whether the simulation matches (docs/calibration.md, "Validation", says the rule of each).
A claim that does not match stays in the table. The claims (issue 14):

1. the calibrated moments (targets/finland_labour_market.toml);
2. analytic power in a world without congestion and with a constant effect (`validation_power`);
3. dilution of the ITT by voluntary take-up of 25-40 % (`validation_take_up`);
4. displacement under randomised saturation, more in slack markets, with the pilot overstating the
   roll-out effect (`validation_displacement`, on scenarios/slack_market.toml);
5. creaming and parking under outcome-only pay, narrowed by differential pay;
6. the 2016-17 Finnish pilots' low power at their volume, and the size they needed (`validation_power`,
   on scenarios/fi_2016_job_placement_pilots.toml);
7. a mandatory payment-by-results programme for the hard to help: 12-month job outcomes of 8.5-13 %;
8. the provider-effect targets (targets/provider_effects.toml).
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from labsim.config.scenario import apply_overrides, parse_scenario, scenario_to_dict
from labsim.config.targets import Targets, load_targets
from labsim.design import validation_displacement, validation_power, validation_take_up
from labsim.design.calibrate import Evaluator, Plan, TargetFit, target_rows
from labsim.design.claim import Claim, judge, mean_interval, one_sided
from labsim.results.answer_file import AnswerFile
from labsim.sweep.runner import Task, executor, run_tasks
from labsim.sweep.store import Store

CREAMING = {"outcome_only": ["payment.preset=outcome_only"], "differential": ["payment.preset=differential"]}
CREAMING_SOURCE = ("Koning & Heinrich 2013 (JPAM): fully outcome-contingent contracts lead to cream-skimming; "
                   "UK Work Programme: creaming and parking widespread (Rees, Whitworth, Carter 2014); "
                   "differential pay by difficulty is meant to narrow it")


#: Each claim's tolerance, stated before it runs: the widest half-interval of the simulated figure (on the
#: side that decides a one-sided claim) at which its verdict counts; wider reads "inconclusive" (claim.py,
#: `judge`). A range claim of the targets files (claims 1, 7, 8) states half its published range. Claim 4's
#: are in validation_displacement.TOLERANCE.
TOLERANCE = {
    "rejection_rate_against_analytic_power": 0.10,  # a share of pilots: +-10 pp
    "itt_over_take_up_times_effect_on_participants": 0.25,  # the ratio within 0.75-1.25 of 1
    "effort_gap_top_bottom_fifth_outcome_only_pay": 0.2,  # effort 0-1 per client-week
    "effort_gap_narrowed_by_differential_pay": 0.2,
    "power_at_2016_17_volume": 0.2,  # a share of pilots
    "participants_needed_for_80_power": 5000.0,  # participants, towards the bound of 1,500
}
#: Claims whose match is a rule of their own (claim.py, `judge`).
OWN_RULE = ("rejection_rate_against_analytic_power", "itt_over_take_up_times_effect_on_participants")


#: validation.json's format; a file without it, or with another, is refused with a clear message.
SCHEMA = "labsim.validation/1"
#: The open end each end of a claim's range or interval stands for when validation.json writes it null.
OPEN_ENDS = {"low": -math.inf, "high": math.inf, "simulated_low": -math.inf, "simulated_high": math.inf}


@dataclass(frozen=True)
class Validation(AnswerFile):
    """The validation's answer (validation.json): every claim beside its simulation, in claim order, with
    what it was run on (the scenario, replications per setting, seed) and the hash of its inputs."""

    FORMAT: ClassVar[str] = SCHEMA
    FILE: ClassVar[str] = "validation.json"
    COMMAND: ClassVar[str] = "validation"

    scenario: str
    replications: int
    seed: int
    inputs_hash: str
    claims: tuple[Claim, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str | None = None) -> Validation:
        """Read validation.json back, a null end of a range open (-inf below, inf above)."""
        if isinstance(data, dict) and isinstance(data.get("claims"), list):
            data = {**data, "claims": [{**c, **{k: end for k, end in OPEN_ENDS.items() if k in c and c[k] is None}}
                                       if isinstance(c, dict) else c for c in data["claims"]]}
        return super().from_json(data, source)


def judged(c: Claim) -> Claim:
    """The claim with its stated tolerance (`TOLERANCE`, half the published range for a range claim of the
    targets files) and its verdict."""
    if not math.isfinite(c.tolerance):
        tol = TOLERANCE.get(c.name, (c.high - c.low) / 2 if c.claim in (1, 7, 8) else math.nan)
        c = replace(c, tolerance=tol)
    return judge(c, own_rule=c.name in OWN_RULE)


#: Every setting the claims lay on the scenarios, and their fixed run counts (part of the inputs' hash).
CLAIM_SETTINGS = {
    "creaming": CREAMING,
    "power_world": validation_power.POWER_WORLD, "power_pilots": validation_power.POWER_PILOTS,
    "pilots_2016": validation_power.PILOTS_2016,
    "voluntary": validation_take_up.VOLUNTARY, "take_up": validation_take_up.TAKE_UP,
    "dilution_worlds": validation_take_up.DILUTION_WORLDS,
    # its settings, not its text: a comment rewritten moves no number, so it moves no hash
    "saturation_experiment": tomllib.loads(validation_displacement.EXPERIMENT.read_text(encoding="utf-8")),
    "displacement_worlds": validation_displacement.DISPLACEMENT_WORLDS,
    "saturation_horizons": (validation_displacement.EIGHT_MONTHS, validation_displacement.EIGHTEEN_MONTHS),
    "tolerance": TOLERANCE, "tolerance_displacement": validation_displacement.TOLERANCE,
}


def _numbers_of(scenario: dict[str, Any]) -> dict[str, Any]:
    """A resolved scenario without its descriptions and the assumptions' sources (words, not inputs)."""
    out = {k: v for k, v in scenario.items() if not k.startswith("description")}
    out["assumptions"] = [{k: v for k, v in a.items() if not k.startswith("source")}
                          for a in out.get("assumptions", [])]
    return out


def inputs_hash(scenarios: dict[str, dict[str, Any]], targets: list[Path], replications: int, seed: int) -> str:
    """A short hash of everything the validation's numbers depend on besides the code: the resolved
    scenarios (the validated one, slack_market, fi_2016_job_placement_pilots, by name), the targets
    files, the claims' settings and run counts, replications and seed (docs/validation.md records it; a
    test checks it). Words no number depends on (descriptions, the assumptions' sources, in any language)
    are left out, so translating them does not call for a rerun."""
    text = json.dumps({"scenarios": {k: _numbers_of(_simulated(scenario_to_dict(parse_scenario(v))))
                                     for k, v in sorted(scenarios.items())},
                       "targets": [p.read_text(encoding="utf-8") for p in targets],
                       "claims": CLAIM_SETTINGS, "replications": replications, "seed": seed}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _simulated(resolved: dict[str, Any]) -> dict[str, Any]:
    """A resolved scenario without what the validation's runs never read: the buyer's `costs` (labsim plan's)
    and the default estimator, so that adding them moves no hash."""
    out = {k: v for k, v in resolved.items() if k != "costs"}
    if out["design"].get("estimator") == "difference":
        out["design"] = {k: v for k, v in out["design"].items() if k != "estimator"}
    return out


def _target_claims(number: int, targets: Targets, rows: tuple[TargetFit, ...]) -> list[Claim]:
    return [Claim(number, r.name, r.source, r.published, r.range[0], r.range[1], r.simulated,
                  r.simulated - 1.96 * r.simulated_se, r.simulated + 1.96 * r.simulated_se, r.matches, r.unverified)
            for r in rows]


def effort_gradient(task: Task, seed) -> float:
    """Providers' mean effort on their most employable fifth of clients minus that on the least
    employable fifth (effort 0-1 per client-week): above 0 is creaming, with parking at the bottom."""
    from labsim.results.summary import results_of
    from labsim.world.model import PilotModel

    model = PilotModel(task.payload, rng=seed)
    model.run_for(task.payload.weeks)
    q = results_of(model).summary.effort_by_employability_quintile
    return float(q[-1] - q[0]) if q[0] is not None and q[-1] is not None else float("nan")


def validate(scenario: dict[str, Any], source: str, labour: Path, effects: Path, folder: Path, *,
             slack: dict[str, Any], pilots_2016: dict[str, Any], replications: int = 4, seed: int = 1,
             workers: int | None = None) -> Validation:
    """Simulate every claim on `scenario` (a scenario file's dict; claim 4 on `slack`, the slack-market
    scenario, claim 6 on `pilots_2016`, the 2016-17 pilots'); claims 1, 7 and 8 are stored in `folder`, the
    saturation experiment's figures (claim 4) in `folder`/french_saturation.md. The labour-market targets
    are `labour`, the provider effects' `effects`."""
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
        claims += validation_power.power_claims(scenario, pilots_2016, source, seed, pool)
        claims += validation_take_up.take_up_claims(scenario, source, seed, pool)
        claims += validation_displacement.displacement_claims(slack, seed, pool,
                                                              table=folder / "french_saturation.md")
    name = Path(source).stem
    made = inputs_hash({name: scenario, "slack_market": slack, "fi_2016_job_placement_pilots": pilots_2016},
                       [labour, effects], replications, seed)
    return Validation(name, replications, seed, made, tuple(sorted((judged(c) for c in claims), key=lambda c: c.claim)))


def _creaming(scenario: dict[str, Any], source: str, replications: int, seed: int, pool) -> list[Claim]:
    """Claim 5: under outcome-only pay the effort gap (top minus bottom fifth) is above 0 (creaming and
    parking); under differential pay it is smaller (same seeds: a paired difference)."""
    scenarios = [parse_scenario(apply_overrides(scenario, o, source), source) for o in CREAMING.values()]
    tasks = [Task((100 + i, r), sc) for i, sc in enumerate(scenarios) for r in range(replications)]
    got = np.full((len(scenarios), replications), np.nan)
    for task, value in run_tasks(effort_gradient, tasks, root_seed=seed, pool=pool):
        got[task.key[0] - 100, task.key[1]] = value
    outcome, narrowed = got[0], got[0] - got[1]
    return [one_sided(5, name, CREAMING_SOURCE, 0.0, ">", 0.0, mean_interval(v))
            for name, v in (("effort_gap_top_bottom_fifth_outcome_only_pay", outcome),
                            ("effort_gap_narrowed_by_differential_pay", narrowed))]
