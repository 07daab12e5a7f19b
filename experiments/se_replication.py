"""Does the reported SE of the 26-week employment difference match replication? (issue 7)

Runs a grid of W worlds x P pilots: world seed w draws the population, employers and burn-in
(`PilotModel(world=...)`), pilot seed p the randomisation and every later draw. From the grid:
- within-world SD: SD of the estimate across pilot seeds in one world, pooled over worlds (the spread of
  a pilot in one fixed area);
- between-world SD of the world means (minus the within part): how much the effect itself differs from
  area to area drawn from the scenario;
- the mean reported SE (summary.json's, Neyman/HC2) and cluster-robust SEs by intake week and office.

    nice -n 10 .venv/bin/python experiments/se_replication.py --worlds 20 --pilots 20 --set referral.mode=mandatory
    nice -n 10 .venv/bin/python experiments/se_replication.py --fresh 400 --set referral.mode=mandatory

(the second is the audit's check: seeds 0..R-1 as `labsim run --seed`, each its own world; it prints the
ratio over all R seeds with its Monte Carlo interval, the share of pilots rejecting at 5 % with its exact
interval, and both per block of `--block` seeds.) `--zero-help` runs the type-I world of `labsim size`'s
check (providers that do nothing, `labsim.design.worlds.zero_help`), where the rejection rate should be 5 %:

    nice -n 10 .venv/bin/python experiments/se_replication.py --scenario fi_2019_growth_services --zero-help \
        --set referral.target_participants=6743 --fresh 400 --block 100 --workers 2

`--diagnose-seed S` takes replications 0..R-1 of `labsim diagnose --seed S` instead of `labsim run` seeds
(the same worlds and pilots, read at the 26-week horizon), so a diagnosis's figures can be taken apart.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from labsim.config.scenario import apply_overrides, parse_scenario, read_scenario_dict
from labsim.design.replicate import PilotJob, run_until_complete, simulate
from labsim.design.size import TypeICheck, type_i_error
from labsim.design.worlds import zero_help
from labsim.results.estimate import itt
from labsim.results.summary import results_of
from labsim.sweep.runner import Task, executor, run_tasks
from labsim.world.model import PilotModel

ROOT = Path(__file__).resolve().parents[1]


def one_pilot(task: Task, seed: np.random.SeedSequence) -> dict:
    scenario, root = task.payload
    w, _ = task.key
    world = np.random.SeedSequence(root, spawn_key=(10_000 + w,))  # world seed: by world index only
    model = PilotModel(scenario, rng=seed, world=world)
    model.run_for(scenario.weeks)
    res = results_of(model)
    ind = res.individuals
    y = "employed_26w"
    row = {"world": w, "pilot": task.key[1]}
    d = res.summary.effect_at(26)
    row["estimate"], row["se_summary"] = d.difference, d.se
    row["se_week"] = itt(ind, y, cluster="assigned_week").se
    with np.errstate(invalid="ignore"):  # two offices: the cluster-robust variance can be degenerate
        row["se_office"] = itt(ind, y, cluster="office").se
    row["n"] = int(ind[y].notna().sum())
    row["starts"] = int(ind["took_up"].sum())
    return row


def fresh_world(task: Task, seed: np.random.SeedSequence) -> tuple[float, float, float]:
    """One pilot in a world of its own, as `labsim run --seed N` draws it (world and pilot from N), run
    until the 26-week outcome is complete (the same figure as the full run's, design/replicate.py)."""
    scenario = task.payload
    model = PilotModel(scenario, rng=task.key[0])
    run_until_complete(model, PilotJob(scenario, figures=("employment",)))
    d = results_of(model).summary.effect_at(26)
    return d.difference, d.se, d.p_value


def diagnosed_pilot(task: Task, seed: np.random.SeedSequence) -> tuple[float, float, float]:
    """Replication r of `labsim diagnose --seed S` (the same world and pilot), its 26-week figures."""
    rec = simulate(Task(task.key, PilotJob(task.payload, figures=("employment",))), seed)
    return rec["estimate"], rec["se"], rec["p_value"]


@dataclass(frozen=True)
class Audit:
    """The audit over R fresh worlds: the estimates' spread against the reported SE, and how often the
    5 % test rejects (in a zero-help world that is the type-I rate)."""

    size: int  # the referral target (places) of the pilots
    estimates: np.ndarray
    ses: np.ndarray
    reject: np.ndarray

    @property
    def ratio(self) -> float:
        """Root-mean-square reported SE over the SD of the estimates (1 when SEs are honest)."""
        return ratio(self.estimates, self.ses)

    @property
    def ratio_sd(self) -> float:
        """Monte Carlo SD of the ratio: a sample SD over R runs has SD about SD / sqrt(2 (R - 1))."""
        return self.ratio / math.sqrt(2 * (self.estimates.size - 1))

    @property
    def rejection(self) -> TypeICheck:
        """Share of pilots whose 95 % interval excludes 0, with its exact (Clopper-Pearson) interval."""
        return type_i_error(self.size, self.reject)


def ratio(est: np.ndarray, se: np.ndarray) -> float:
    """Root-mean-square SE over the SD of the estimates."""
    return float(np.sqrt((se**2).mean()) / est.std(ddof=1))


def audit(scenario, seeds: int, workers: int = 1, diagnose_seed: int | None = None) -> Audit:
    """The audit's check, `labsim run --seed 0..seeds-1`, each pilot in its own world; with
    `diagnose_seed` S instead replications 0..seeds-1 of `labsim diagnose --seed S`."""
    tasks = [Task((k,), scenario) for k in range(seeds)]
    fn, root = (fresh_world, 0) if diagnose_seed is None else (diagnosed_pilot, diagnose_seed)
    with executor("local", workers) as pool:
        got = dict((t.key[0], r) for t, r in run_tasks(fn, tasks, root_seed=root, pool=pool))
    est, se, p = (np.array([got[k][i] for k in range(seeds)]) for i in (0, 1, 2))
    return Audit(scenario.referral.target_participants, est, se, p < 0.05)


def print_audit(a: Audit, block: int) -> None:
    est, se = a.estimates, a.ses
    cover = (np.abs(est - est.mean()) < 1.96 * se).mean()
    r = a.rejection
    print(f"{est.size} fresh worlds: mean {est.mean():.4f}, SD {est.std(ddof=1):.4f}, "
          f"rms SE {np.sqrt((se**2).mean()):.4f}, SE/SD {a.ratio:.3f} (95 % Monte Carlo interval "
          f"{a.ratio - 1.96 * a.ratio_sd:.3f}-{a.ratio + 1.96 * a.ratio_sd:.3f}), coverage {cover:.3f}")
    print(f"  rejected at 5 %: {int(a.reject.sum())} of {est.size}, {r.rate:.1%} "
          f"(exact 95 % interval {r.ci[0]:.1%}-{r.ci[1]:.1%})")
    starts = range(0, est.size - block + 1, block)
    print(f"  SE/SD per block of {block} seeds (0-{block - 1} first): "
          + " ".join(f"{ratio(est[i:i + block], se[i:i + block]):.2f}" for i in starts))
    print(f"  rejections per block of {block} seeds: " + " ".join(str(int(a.reject[i:i + block].sum())) for i in starts))


def replicate(
    scenario_name: str, overrides: list[str], worlds: int, pilots: int, root_seed: int = 2026,
    workers: int = 1, csv: str | None = None,
) -> dict:
    """Run the grid and return its figures (see `spread`)."""
    data = read_scenario_dict(ROOT / "scenarios" / f"{scenario_name}.toml")
    scenario = parse_scenario(apply_overrides(data, overrides, scenario_name), scenario_name)
    tasks = [Task((w, p), (scenario, root_seed)) for w in range(worlds) for p in range(pilots)]
    with executor("local", workers) as pool:
        rows = [r for _, r in run_tasks(one_pilot, tasks, root_seed=root_seed, pool=pool)]
    df = pd.DataFrame(rows).sort_values(["world", "pilot"])
    if csv:
        df.to_csv(csv, index=False)
    return spread(df)


def spread(df: pd.DataFrame) -> dict:
    """Within-world SD (pooled), SD of the worlds' own effects (between-world variance of the world
    means less the within part), their total (one pilot in a fresh world), the root-mean-square of
    each reported SE, and how often +-1.96 SE covers the world's mean estimate."""
    g = df.groupby("world")["estimate"]
    p = int(g.size().iloc[0])
    within_var = g.var(ddof=1).mean()
    world_var = max(g.mean().var(ddof=1) - within_var / p, 0.0)
    z = (df["estimate"] - g.transform("mean")).abs() / df["se_summary"] * np.sqrt(p / (p - 1))
    out = {
        "worlds": int(df["world"].nunique()), "pilots": p, "mean_estimate": df["estimate"].mean(),
        "sd_within": np.sqrt(within_var), "sd_worlds": np.sqrt(world_var),
        "sd_total": np.sqrt(within_var + world_var), "coverage": float((z < 1.96).mean()),
        "mean_starts": df["starts"].mean(), "mean_n": df["n"].mean(),
    }
    for col in ("se_summary", "se_week", "se_office"):
        out[col] = float(np.sqrt((df[col] ** 2).mean()))
    out["se"] = out["se_summary"]
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--worlds", type=int, default=20)
    ap.add_argument("--pilots", type=int, default=20)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--csv", default=None)
    ap.add_argument("--fresh", type=int, default=0, metavar="R",
                    help="instead: R seeds 0..R-1, each its own world (labsim run --seed)")
    ap.add_argument("--block", type=int, default=20, help="seeds per block in the --fresh printout")
    ap.add_argument("--zero-help", action="store_true",
                    help="with --fresh: providers that do nothing (the type-I world of `labsim size`)")
    ap.add_argument("--diagnose-seed", type=int, default=None, metavar="S",
                    help="with --fresh: replications 0..R-1 of `labsim diagnose --seed S` instead")
    a = ap.parse_args(argv)
    if a.fresh:
        data = read_scenario_dict(ROOT / "scenarios" / f"{a.scenario}.toml")
        scenario = parse_scenario(apply_overrides(data, a.set, a.scenario), a.scenario)
        scenario = zero_help(scenario) if a.zero_help else scenario
        print_audit(audit(scenario, a.fresh, workers=a.workers, diagnose_seed=a.diagnose_seed), a.block)
        return
    r = replicate(a.scenario, a.set, a.worlds, a.pilots, a.seed, a.workers, a.csv)
    print(f"{r['worlds']} worlds x {r['pilots']} pilots; mean estimate {r['mean_estimate']:.4f}; "
          f"mean n {r['mean_n']:.0f}, starts {r['mean_starts']:.0f}")
    print(f"SD within a world {r['sd_within']:.4f}; SD of worlds' effects {r['sd_worlds']:.4f}; "
          f"total {r['sd_total']:.4f}")
    for col in ("se_summary", "se_week", "se_office"):
        print(f"  {col:11s} rms {r[col]:.4f}  / within {r[col] / r['sd_within']:.3f}"
              f"  / total {r[col] / r['sd_total']:.3f}")
    print(f"  coverage of the world's mean effect by +-1.96 SE: {r['coverage']:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
